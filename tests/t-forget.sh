# crm-forget: erasure leaves no byte of the person in the store's files
# (freed pages included), keeps only what the config allows, anonymised;
# it waits for readers before the scrub; retention by inactivity; errors.

SETTLE=${CRM_TEST_SETTLE:-2}
cat >c.csv <<'X'
email,first_name,last_name,phone,company,city
ada@example.com,Augusta,Lovelacezz,+44-20-5550-4242,Analytical Engines,Marylebone
ada.old@example.com,Augusta,Lovelacezz,,Analytical Engines,
bob@example.com,Roberto,Byronqq,+44 20 7946 9999,Analytical Engines,Newstead
X
check_exit 0 setup crm-add -n --as-of 2024-01-01 c.csv
cat >ev.csv <<'X'
email,ts,type,amount,ext_id,text
ada@example.com,2024-01-05T10:11:12Z,purchase,10.00,ORD-ADA-1,
ada@example.com,2024-01-06T10:00:00Z,refund,2.50,ORD-ADA-1,
ada@example.com,2024-01-07T09:00:00Z,note,,,secret plans for the engine xyzzy
ada.old@example.com,2024-01-03T09:00:00Z,call,,MSG-ADA-OLD,asked about punch cards
bob@example.com,2024-01-02T09:00:00Z,note,,,bob plugh note
X
check_exit 0 setup-events crm-log ev.csv
check_exit 0 setup-merge crm-merge 1 2
cat >cfg.yaml <<'X'
privacy:
  keep:
    purchase: [amount]
    refund: [amount]
X

# grep_store NAME STRING...: none of the strings is in any file of the store.
grep_store() {
	local name=$1 s found=
	shift
	for s in "$@"; do
		grep -rqaF -- "$s" "$CRM_DB" && found="$found \"$s\""
	done
	if [ -z "$found" ]; then ok "$name"; else fail "$name" "found in the store:$found"; fi
}
ADA='ada@example.com ada.old@example.com Augusta Lovelacezz 5550-4242 Marylebone xyzzy punch ORD-ADA-1 MSG-ADA-OLD'

## Before: every string is there (the check can find them).
for s in $ADA; do
	if grep -rqaF -- "$s" "$CRM_DB"; then ok "before-$s"; else fail "before-$s" "not in the store"; fi
done

## A reader holds the store open: the erasure commits, the scrub cannot
## run (--no-wait), and the freed pages still hold the bytes.
awk 'BEGIN { print "email"; for (i = 0; i < 4000; i++) print "p" i "@bulk.example.com" }' >bulk.csv
check_exit 0 setup-bulk crm-add -n bulk.csv
(crm-export | { sleep $((SETTLE + 2)); cat >/dev/null; }) &
reader=$!
sleep "$SETTLE"
check_exit 75 busy crm-forget -c cfg.yaml --no-wait ada@example.com
check_err busy-msg 'erased, but freed pages keep the old bytes until crm-forget --scrub runs'
check_exit 1 busy-gone crm-show ada@example.com
if grep -rqaF -- xyzzy "$CRM_DB"; then ok busy-freed-pages-hold-it; else fail busy-freed-pages-hold-it "expected the old bytes in freed pages"; fi
wait "$reader"
check_exit 0 scrub crm-forget --scrub
grep_store no-trace $ADA

## Another contact's data is all still there.
for s in bob@example.com Roberto Byronqq '7946 9999' Newstead plugh; do
	if grep -rqaF -- "$s" "$CRM_DB"; then ok "kept-$s"; else fail "kept-$s" "not in the store"; fi
done

## What remains: a tombstone with the amounts and the days, no contact.
run crm-export --events --type purchase,refund
check_stdout tombstone 'id,contact,email,ts,type,amount
6,4004,,2024-01-05T00:00:00Z,purchase,10.00
7,4004,,2024-01-06T00:00:00Z,refund,2.50'
check_out contacts-left 'email
bob@example.com' sh -c "$BIN/crm-export --fields email | head -n 2"
check_exit 1 show-gone crm-show 1
check_exit 1 show-merged-gone crm-show 2
check_exit 1 show-old-email-gone crm-show ada.old@example.com

## The order numbers are free again: a new import of ORD-ADA-1 is new.
check_exit 0 new-ada crm-add -n --email ada@example.com
check_out new-id 'id
4005' crm-export --fields id --email ada@example.com
printf 'email,ts,type,amount,ext_id\nada@example.com,2024-01-05T10:11:12Z,purchase,10.00,ORD-ADA-1\n' >o.csv
check_exit 0 reorder crm-log o.csv
check_out reorder-stored 'events
1' crm-export --fields events --email ada@example.com

## The audit log records the erasure: the id and counts, nothing erased.
run crm-audit --tool crm-forget
check_match audit-entry ',crm-forget,forget,1,,"1 contacts erased, 4 events erased, 2 kept anonymised"$' "$(tail -n 1 "$OUT")"
check_exit 0 audit-all crm-audit -F ndjson -o audit.json
if grep -Eq 'ada|Augusta|Lovelacezz|7946|xyzzy|ORD-' audit.json; then fail audit-clean "$(grep -Eo 'ada|Augusta|Lovelacezz|7946|xyzzy|ORD-' audit.json | head -n 1)"; else ok audit-clean; fi

## Files stay 0600 after the scrub.
check_eq mode "$(ls -l "$CRM_DB" | awk 'NR > 1 && $1 != "-rw-------" { print $NF }')" ""

## Without a reader the scrub follows at once; with one, it waits.
(crm-export | { sleep $((SETTLE + 1)); cat >/dev/null; }) &
reader=$!
sleep "$SETTLE"
check_exit 0 wait-forget crm-forget bob@example.com
check_err wait-msg 'waiting for other processes to close the store'
wait "$reader"
grep_store bob-no-trace bob@example.com Roberto Byronqq '7946 9999' Newstead plugh

## Unknown contacts: nothing erased, each named.
snap s1.snap
check_exit 65 unknown crm-forget p1@bulk.example.com nobody@example.com 99999
check_err unknown-email '^crm-forget: no contact: "nobody@example\.com"$'
check_err unknown-id '^crm-forget: no contact: "99999"$'
check_store_same unknown-store s1.snap

## Retention: no activity since the date and no consent.
rm -rf "$CRM_DB"
check_exit 0 r-old crm-add -n --email old@example.com --as-of 2020-01-01
check_exit 0 r-old-optin crm-add -n --email keep@example.com --opt-in --as-of 2020-01-01
check_exit 0 r-old-active crm-add -n --email active@example.com --as-of 2020-01-01
check_exit 0 r-new crm-add -n --email new@example.com --as-of 2024-06-01
check_exit 0 r-active-ev crm-log -c active@example.com -t call --ts 2024-05-01 --as-of 2020-01-01
snap r.snap
check_out r-dry '1' crm-forget --dry-run --inactive-since 2023-01-01
check_store_same r-dry-store r.snap
check_exit 0 r-run crm-forget -v --inactive-since 2023-01-01
check_err r-counts '1 contacts erased, 0 events erased, 0 kept anonymised'
check_out r-left 'email
keep@example.com
active@example.com
new@example.com' crm-export --fields email
check_out r-audit 'retention' sh -c "$BIN/crm-audit --tool crm-forget | tail -n 1 | cut -d, -f5"

## Usage.
check_exit 64 usage-none crm-forget
check_exit 64 usage-both crm-forget --inactive-since 2023-01-01 x@example.com
check_exit 64 usage-scrub crm-forget --scrub x@example.com
check_exit 64 usage-time crm-forget --inactive-since yesterday
printf 'privacy:\n  keep: [amount]\n' >bad.yaml
check_exit 78 bad-config crm-forget -c bad.yaml x@example.com
check_err bad-config-msg 'bad\.yaml:2: privacy: keep: a map of event types to field lists'
check_exit 0 help crm-forget --help
check_exit 0 version crm-forget --version
