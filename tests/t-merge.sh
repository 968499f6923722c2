# crm-merge: merging moves everything and is one transaction, merged ids
# and e-mails resolve, pairs from a file, the duplicate finder's precision
# and recall on generated data, and the errors.

A1=2024-01-01T00:00:00Z
cat >c.csv <<'X'
email,first_name,last_name,phone,company,city,tags,plan
ada@example.com,Ada,Lovelace,,Analytical Engines Ltd,,vip,
ada.l@example.com,Ada,Lovelase,+44 20 7946 0018,Analytical Engines,London,speaker;vip,pro
bob@example.com,Bob,Byron,,,,,
cy@example.com,Cy,Young,,,,,
X
check_exit 0 setup crm-add -n --as-of $A1 c.csv
cat >ev.csv <<'X'
email,ts,type,amount,ext_id,text
ada@example.com,2024-01-05T10:00:00Z,purchase,10.00,O1,
ada.l@example.com,2024-01-05T12:00:00Z,purchase,5.50,O2,
ada.l@example.com,2024-01-07T09:00:00Z,purchase,2.00,O3,
ada.l@example.com,2024-01-08T09:00:00Z,refund,1.00,O3,
ada.l@example.com,2024-01-09T09:00:00Z,note,,,met at the fair
bob@example.com,2024-01-02T09:00:00Z,purchase,7.00,O4,
X
check_exit 0 setup-events crm-log ev.csv

## The finder sees the pair (same company, similar names).
check_out find "keep,drop,score,reason,keep_email,drop_email
2,1,0.975,name,ada.l@example.com,ada@example.com" crm-merge

## An interrupted merge leaves both contacts as they were: the merge is
## killed after every change is made, just before the commit.
snap before.snap
snap before-ev.snap --events
CRM_TEST_KILL_BEFORE_COMMIT=1 run crm-merge 1 2
check_eq killed-exit 137 "$RC"
check_store_same killed-contacts before.snap
check_store_same killed-events before-ev.snap --events

## A bad pair in a file: nothing merged, every bad row named.
printf 'keep,drop\n1,2\n3,nobody@example.com\n4,4\n' >bad.csv
check_exit 65 bad-file crm-merge bad.csv
check_err bad-file-row3 '^crm-merge: bad\.csv:3: column "drop": no contact "nobody@example\.com"$'
check_err bad-file-row4 '^crm-merge: bad\.csv:4: "4" and "4" name one contact \(4\)$'
check_lastline bad-file-last 'crm-merge: 2 bad rows; nothing merged'
check_store_same bad-file-store before.snap
printf 'a,b\n1,2\n' >nohdr.csv
check_exit 65 file-header crm-merge nohdr.csv
check_err file-header-msg 'nohdr\.csv:1: the header needs the columns keep and drop'

## The merge: keep gains the events, tags and the fields it lacks (phone,
## city, plan), keeps its own name, the statistics are recomputed.
check_exit 0 merge crm-merge --as-of 2024-02-01 1 ada.l@example.com
run crm-export --fields id,email,last_name,phone,city,tags,plan,events,purchases,purchase_days,revenue,first_purchase_at,last_seen_at,updated_at
check_stdout merged-row 'id,email,last_name,phone,city,tags,plan,events,purchases,purchase_days,revenue,first_purchase_at,last_seen_at,updated_at
1,ada@example.com,Lovelace,+44 20 7946 0018,London,vip;speaker,pro,5,3,2,16.50,2024-01-05T10:00:00Z,2024-01-09T09:00:00Z,2024-02-01T00:00:00Z
3,bob@example.com,Byron,,,,,1,1,1,7.00,2024-01-02T09:00:00Z,2024-01-02T09:00:00Z,2024-01-01T00:00:00Z
4,cy@example.com,Young,,,,,0,0,0,0.00,,,2024-01-01T00:00:00Z'
crm-export --events | csv_col contact | sort | uniq -c | tr -s ' ' >contacts.txt
check_file events-moved ' 5 1
 1 3' contacts.txt

## The dropped id and its e-mail resolve to the kept contact.
run crm-show -F json 2
check_match show-dropped-id '^\{"contact":\{"id":1,' "$(cat "$OUT")"
run crm-show -F json ada.l@example.com
check_match show-dropped-email '^\{"contact":\{"id":1,' "$(cat "$OUT")"
check_exit 0 log-dropped-email crm-log -c ada.l@example.com -t call --as-of 2024-02-02
check_eq log-went-to-kept 6 "$(crm-export --fields events --id 1 | tail -n 1)"
check_exit 0 log-dropped-id crm-log -c 2 -t call --as-of 2024-02-03
check_eq log-id-went-to-kept 7 "$(crm-export --fields events --id 1 | tail -n 1)"
printf 'contact,ts,type\n2,2024-02-04,visit\n' >byid.csv
check_exit 0 log-dropped-id-rows crm-log byid.csv
check_eq log-id-rows-went-to-kept 8 "$(crm-export --fields events --id 1 | tail -n 1)"
check_exit 0 add-dropped-id crm-add -n --id 2 --title Countess
check_out add-updated-kept 'id,title
1,Countess
3,
4,' crm-export --fields id,title
check_eq subject-merged '{"record":"merged_ids","contact":1,"ids":[2]}' \
    "$(crm-export --subject 2 | grep merged_ids)"
# A re-import of an order of the dropped contact is still a repeat.
printf 'email,ts,type,amount,ext_id\nada.l@example.com,2024-01-05T12:00:00Z,purchase,5.50,O2\n' >again.csv
check_exit 0 reimport crm-log again.csv
check_eq reimport-no-new 8 "$(crm-export --fields events --id 1 | tail -n 1)"

## Merging into a merged contact follows the chain; one contact twice is
## refused.
printf 'keep,drop\n2,cy@example.com\n' >pairs.csv
check_exit 0 merge-file crm-merge pairs.csv
check_out merged-chain 'id
1
3' crm-export --fields id
check_exit 65 same-contact crm-merge 1 4
check_err same-contact-msg '^crm-merge: "1" and "4" name one contact \(1\)$'

## Consent: the newer answer of the two wins.
check_exit 0 c-setup crm-add -n --email in@example.com --opt-in --as-of 2024-01-01
check_exit 0 c-setup2 crm-add -n --email out@example.com --opt-out --as-of 2024-03-01
check_exit 0 c-merge crm-merge in@example.com out@example.com
check_out consent-newer 'email,email_opt_in,consent_at
in@example.com,false,2024-03-01T00:00:00Z' crm-export --fields email,email_opt_in,consent_at --email in@example.com

## Errors.
check_exit 64 usage-3 crm-merge 1 2 3
check_exit 64 usage-threshold crm-merge -t 1.5
check_exit 64 usage-o-merge crm-merge -o x.csv 1 3
check_exit 65 no-contact crm-merge 1 999
check_err no-contact-msg '^crm-merge: column "drop": no contact "999"$'
check_exit 0 help crm-merge --help
check_match help-usage '^usage: crm-merge' "$(head -n 1 "$OUT")"
check_exit 0 version crm-merge --version

## The audit log has the merges: ids and field names, no values.
run crm-audit --tool crm-merge
check_match audit-merge '^[0-9]+,[^,]+,crm-merge,merge,1-2,"phone,city,plan,tags",1 pair merged$' "$(sed -n 2p "$OUT" | cut -d, -f1,3-)"
check_no_err audit-no-values 'London|7946|Countess'
if grep -Eq 'London|7946|ada\.l@' "$OUT"; then fail audit-clean "values in the audit log"; else ok audit-clean; fi

## The finder on generated data with planted duplicates: precision and
## recall against the truth, with floors.
rm -rf "$CRM_DB"
awk -v seed=7 -v n=2000 -v dups=200 -v traps=100 -v out=gen.csv \
    -v truth=truth.csv -f "$TESTDATA/dups.awk"
check_exit 0 gen-add crm-add -n gen.csv
check_exit 0 gen-find crm-merge -o found.csv
pr=$(awk -F, 'NR == FNR { if (FNR > 1) t[$1 < $2 ? $1 "," $2 : $2 "," $1] = 1; next }
FNR > 1 { n++; if (($1 < $2 ? $1 "," $2 : $2 "," $1) in t) tp++ }
END { printf "%.3f %.3f", tp / n, tp / length(t) }' truth.csv found.csv)
echo "t-merge.sh: duplicate finder on 2400 generated contacts with 200 planted duplicates: precision ${pr% *}, recall ${pr#* }"
check_match finder-precision '^(0\.9[5-9][0-9]|1\.000) ' "$pr"
check_match finder-recall ' (0\.7[5-9][0-9]|0\.[89][0-9][0-9]|1\.000)$' "$pr"
# The finder's pairs merge straight back in.
check_exit 0 gen-merge crm-merge found.csv
check_eq gen-left 1 "$(crm-merge | grep -c .)"
