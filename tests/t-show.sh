# crm-show: the text view and its sections, open deals and cases, -n,
# -F json, and the errors.

A1=2024-01-01T00:00:00Z
N1=2024-03-01T00:00:00Z

printf 'email,first_name,last_name,company,city,tags,stage,plan\nada@example.com,Ada,Lovelace,ACME,London,vip;beta,customer,pro\nbob@example.com,,,,,,,\ncy@example.com,Cy,,,,,,\n' >c.csv
check_exit 0 setup crm-add -n --as-of $A1 c.csv
# Deals: D0 (since the epoch, a time of 0) and D1 are open; D2, D3 and D4 closed, in any
# case.  Cases: C1 closed, C2 open, C3 closed and opened again, C4 only
# closed.
cat >ev.csv <<'EOF'
email,ts,type,amount,order_id,deal_id,stage,case_id,priority,subject,source,metric,score
ada@example.com,1970-01-01T00:00:00Z,deal,,,D0,prospecting,,,,,,
ada@example.com,2024-01-15T00:00:00Z,deal,,,D0,discovery,,,,,,
ada@example.com,2024-02-01T09:00:00Z,deal,1000,,D1,qualified,,,,,,
ada@example.com,2024-02-02T09:00:00Z,deal,5000,,D2,proposal,,,,,,
ada@example.com,2024-02-03T09:00:00Z,deal,1200,,D1,negotiation,,,,,,
ada@example.com,2024-02-04T09:00:00Z,deal,,,D2,closed_won,,,,,,
ada@example.com,2024-02-05T09:00:00Z,deal,300,,D3,Closed Lost,,,,,,
ada@example.com,2024-02-05T10:00:00Z,deal,700,,D4,LOST,,,,,,
ada@example.com,2024-02-06T09:00:00Z,ticket_open,,,,,C1,high,,,,
ada@example.com,2024-02-07T09:00:00Z,ticket_open,,,,,C2,low,,,,
ada@example.com,2024-02-08T09:00:00Z,ticket_close,,,,,C1,,,,,
ada@example.com,2024-02-08T10:00:00Z,ticket_open,,,,,C3,normal,,,,
ada@example.com,2024-02-08T11:00:00Z,ticket_close,,,,,C3,,,,,
ada@example.com,2024-02-08T12:00:00Z,ticket_open,,,,,C3,urgent,,,,
ada@example.com,2024-02-08T13:00:00Z,ticket_close,,,,,C4,,,,,
ada@example.com,2024-02-09T09:00:00Z,purchase,49.90,O1,,,,,,,,
ada@example.com,2024-02-10T09:00:00Z,refund,9.90,O1,,,,,,,,
ada@example.com,2024-02-11T09:00:00Z,subscribe,,,,,,,,webform,,
ada@example.com,2024-02-12T09:00:00Z,survey,,,,,,,,,nps,9
EOF
check_exit 0 setup-events crm-log --as-of $N1 ev.csv
# A long subject in UTF-8, and a note with a line end and an escape.  (The
# columns are in the order of their names, so that the expected line holds
# whether or not the store keeps fields in input order.)
printf 'email,ts,type,note,subject\nada@example.com,2024-02-13T09:00:00Z,call,"line one\nline two\033[31m",%s\n' \
    "Prüfung der Verlängerung für die Jahreslizenz äöü äöü äöü äöü äöü" >call.csv
check_exit 0 setup-call crm-log --as-of $N1 call.csv

## The text view.
cat >ada.want <<'EOF'
Ada Lovelace <ada@example.com>  (id 1)
  company          ACME
  city             London
  stage            customer
  plan             pro
  tags             vip;beta
  created_at       2024-01-01T00:00:00Z
  updated_at       2024-03-01T00:00:00Z

Activity
  20 events, first 1970-01-01T00:00:00Z, last 2024-02-13T09:00:00Z
  1 purchases on 1 days, revenue 40.00, first 2024-02-09T09:00:00Z, last 2024-02-09T09:00:00Z

Consent
  email: opted in since 2024-02-11T09:00:00Z (webform)

Open deals
  D0           stage discovery    since 1970-01-01T00:00:00Z
  D1           stage negotiation  amount 1200 since 2024-02-01T09:00:00Z

Open cases
  C2           priority low          since 2024-02-07T09:00:00Z
  C3           priority urgent       since 2024-02-08T12:00:00Z

Latest events
  2024-02-13 09:00  call         note=line one line two [31m subject=Prüfung der Verlängerung für die Jahreslizenz äöü äö
  2024-02-12 09:00  survey       metric=nps score=9
  2024-02-11 09:00  subscribe    source=webform
  2024-02-10 09:00  refund       amount=9.90 order_id=O1
  2024-02-09 09:00  purchase     amount=49.90 order_id=O1
  2024-02-08 13:00  ticket_close case_id=C4
  2024-02-08 12:00  ticket_open  case_id=C3 priority=urgent
  2024-02-08 11:00  ticket_close case_id=C3
  2024-02-08 10:00  ticket_open  case_id=C3 priority=normal
  2024-02-08 09:00  ticket_close case_id=C1
  2024-02-07 09:00  ticket_open  case_id=C2 priority=low
  2024-02-06 09:00  ticket_open  case_id=C1 priority=high
  2024-02-05 10:00  deal         amount=700 deal_id=D4 stage=LOST
  2024-02-05 09:00  deal         amount=300 deal_id=D3 stage=Closed Lost
  2024-02-04 09:00  deal         deal_id=D2 stage=closed_won
  2024-02-03 09:00  deal         amount=1200 deal_id=D1 stage=negotiation
  2024-02-02 09:00  deal         amount=5000 deal_id=D2 stage=proposal
  2024-02-01 09:00  deal         amount=1000 deal_id=D1 stage=qualified
  2024-01-15 00:00  deal         deal_id=D0 stage=discovery
  1970-01-01 00:00  deal         deal_id=D0 stage=prospecting
EOF
check_out text ada.want crm-show ada@example.com
check_empty text-stderr "$ERR"
# The same contact by id, and by its address in another case.
check_out text-by-id ada.want crm-show 1
check_out text-by-email-normalised ada.want crm-show ' ADA@Example.com '
# Each section, on its own, so that a failure says which one broke.
run crm-show ada@example.com
for s in Activity Consent 'Open deals' 'Open cases' 'Latest events'; do
	check_eq "section $s" 1 "$(grep -cx "$s" "$OUT")"
done
# Closed deals and cases are not listed: stages with won, lost or closed in
# any case, cases with a later ticket_close.
sed -n '/^Open deals$/,/^$/p' "$OUT" >deals.txt
check_eq deals-open "D0 D1" "$(awk 'NR > 1 && NF { print $1 }' deals.txt | tr '\n' ' ' | sed 's/ $//')"
sed -n '/^Open cases$/,/^$/p' "$OUT" >cases.txt
check_eq cases-open "C2 C3" "$(awk 'NR > 1 && NF { print $1 }' cases.txt | tr '\n' ' ' | sed 's/ $//')"
# The output is UTF-8, control characters included in values or not.
if iconv -f UTF-8 -t UTF-8 <"$OUT" >/dev/null 2>&1; then ok text-utf8; else fail text-utf8 "not UTF-8"; fi
check_eq text-no-escape 0 "$(tr -dc '\033' <"$OUT" | wc -c | tr -d ' ')"

# A contact without name, events or consent.
check_out text-empty "<bob@example.com>  (id 2)
  created_at       2024-01-01T00:00:00Z
  updated_at       2024-01-01T00:00:00Z

Activity
  0 events
  0 purchases on 0 days, revenue 0.00

Consent
  email: not asked" crm-show bob@example.com
# Opted out, with the proof.
check_exit 0 opt-out crm-log -c bob@example.com -t unsubscribe --ts 2024-02-20T08:00:00+01:00 --channel phone
run crm-show bob@example.com
check_eq opt-out-consent "  email: opted out since 2024-02-20T07:00:00Z (phone)" "$(sed -n '/^Consent$/{n;p;}' "$OUT")"

## -n: how many of the latest events.
check_exit 0 n-default crm-show ada@example.com
check_eq n-default-all 20 "$(sed -n '/^Latest events$/,$p' "$OUT" | sed 1d | wc -l | tr -d ' ')"
awk 'BEGIN { print "email,ts,type,subject"; for (i = 1; i <= 25; i++) printf "bob@example.com,2024-04-%02dT10:00:00Z,note,n%d\n", i, i }' >many.csv
check_exit 0 n-setup crm-log many.csv
run crm-show bob@example.com
check_eq n-default-20 20 "$(sed -n '/^Latest events$/,$p' "$OUT" | sed 1d | wc -l | tr -d ' ')"
check_eq n-newest-first "n25 n6" "$(sed -n '/^Latest events$/,$p' "$OUT" | sed -n '2p;$p' | sed 's/.*subject=//' | tr '\n' ' ' | sed 's/ $//')"
check_exit 0 n-3 crm-show -n 3 bob@example.com
check_eq n-3-lines "n25|n24|n23|" "$(sed -n '/^Latest events$/,$p' "$OUT" | sed 1d | sed 's/.*subject=//' | tr '\n' '|')"
check_exit 0 n-more-than-all crm-show -n 100 bob@example.com
check_eq n-more-than-all-lines 26 "$(sed -n '/^Latest events$/,$p' "$OUT" | sed 1d | wc -l | tr -d ' ')"
check_exit 0 n-0 crm-show -n 0 ada@example.com
check_eq n-0-no-section 0 "$(grep -c 'Latest events' "$OUT")"
head -n 23 ada.want >ada-n0.want
check_stdout n-0-rest ada-n0.want

## -F json: one object with contact, stats, open_deals, open_cases, events.
if command -v python3 >/dev/null 2>&1; then
	run crm-show -F json -n 3 ada@example.com
	check_eq json-exit 0 "$RC"
	check_eq json-one-line 1 "$(wc -l <"$OUT" | tr -d ' ')"
	cp "$OUT" ada.json
	run python3 -c '
import json, sys
from decimal import Decimal
d = json.load(open(sys.argv[1]), parse_float=Decimal)
c, s = d["contact"], d["stats"]
def say(name, got, want):
    print(name, "ok" if got == want else "got %r, want %r" % (got, want))
say("keys", sorted(d), ["contact", "events", "open_cases", "open_deals", "stats"])
say("contact", (c["id"], c["email"], c["first_name"], c["plan"], c["stage"]),
    (1, "ada@example.com", "Ada", "pro", "customer"))
say("contact-tags", c["tags"], ["vip", "beta"])
say("contact-consent", (c["email_opt_in"], c["consent_at"], c["consent_source"]),
    (True, "2024-02-11T09:00:00Z", "webform"))
say("stats", s, {"first_seen_at": "1970-01-01T00:00:00Z",
    "last_seen_at": "2024-02-13T09:00:00Z", "events": 20,
    "first_purchase_at": "2024-02-09T09:00:00Z",
    "last_purchase_at": "2024-02-09T09:00:00Z", "purchases": 1,
    "purchase_days": 1, "revenue": Decimal("40.00")})
say("stats-types", [type(s[k]).__name__ for k in ("events", "purchases", "purchase_days", "revenue")],
    ["int", "int", "int", "Decimal"])
say("open-deals", d["open_deals"], [
    {"id": "D0", "stage": "discovery", "since": "1970-01-01T00:00:00Z"},
    {"id": "D1", "stage": "negotiation", "amount": "1200", "since": "2024-02-01T09:00:00Z"}])
say("open-cases", d["open_cases"], [
    {"id": "C2", "priority": "low", "since": "2024-02-07T09:00:00Z"},
    {"id": "C3", "priority": "urgent", "since": "2024-02-08T12:00:00Z"}])
e = d["events"]
say("events-n", len(e), 3)
say("events-newest-first", [x["ts"] for x in e],
    ["2024-02-13T09:00:00Z", "2024-02-12T09:00:00Z", "2024-02-11T09:00:00Z"])
say("event-call", (e[0]["type"], e[0]["note"], e[0]["subject"][:7]),
    ("call", "line one\nline two\x1b[31m", "Prüfung"))
say("event-survey", (e[1]["type"], e[1]["metric"], e[1]["score"]), ("survey", "nps", "9"))
say("event-ids", all(type(x["id"]) is int for x in e), True)
' ada.json
	check_eq json-python-exit 0 "$RC"
	while read -r name res; do
		check_eq "json-$name" ok "$res"
	done <"$OUT"
	check_eq json-checks 13 "$(wc -l <"$OUT" | tr -d ' ')"
	# Bob: no deals or cases or purchases, null times, opted out.
	run crm-show -F json 2
	check_eq json-bob-exit 0 "$RC"
	cp "$OUT" bob.json
	run python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["open_deals"], d["open_cases"], len(d["events"]) > 0, d["stats"]["purchases"],
      d["stats"]["first_purchase_at"], d["stats"]["revenue"], d["contact"]["email_opt_in"])
' bob.json
	check_stdout json-bob "[] [] True 0 None 0.0 False"
	# Cy: no events at all.
	run crm-show -F json cy@example.com
	check_eq json-no-events-exit 0 "$RC"
	cp "$OUT" cy.json
	run python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["stats"]
print(d["events"], s["events"], s["purchases"], s["purchase_days"], s["revenue"],
      s["first_seen_at"], s["last_seen_at"], s["first_purchase_at"], s["last_purchase_at"],
      "email_opt_in" in d["contact"], d["contact"]["first_name"])
' cy.json
	check_stdout json-no-events "[] 0 0 0 0.0 None None None None False Cy"
	run crm-show -F json -n 0 bob@example.com
	check_match json-n-0 '"events":\[\]\}$' "$(cat "$OUT")"
else
	skip json "no python3"
fi

## Errors.
check_exit 1 unknown-email crm-show nobody@example.com
check_stderr unknown-email-msg 'crm-show: no contact "nobody@example.com"'
check_empty unknown-email-stdout "$OUT"
check_exit 1 unknown-id crm-show 99
check_stderr unknown-id-msg 'crm-show: no contact "99"'
check_exit 1 unknown-json crm-show -F json nobody@example.com
check_empty unknown-json-stdout "$OUT"
check_exit 64 not-a-ref crm-show abc
check_stderr not-a-ref-msg 'crm-show: not an id or an email: "abc"'
check_exit 64 invalid-email crm-show 'bob@'
check_exit 64 no-operand crm-show
check_err no-operand-usage '^usage: crm-show'
check_exit 64 two-operands crm-show 1 2
check_exit 64 bad-format crm-show -F yaml 1
check_exit 64 bad-n crm-show -n x 1
check_stderr bad-n-msg 'crm-show: invalid count "x"'
check_exit 64 negative-n crm-show -n -1 1
check_exit 66 no-store crm-show -D "$T/nostore" 1
check_stderr no-store-msg "crm-show: no store at $T/nostore"
if [ -e "$T/nostore" ]; then fail no-store-not-created "$T/nostore was created"; else ok no-store-not-created; fi
printf 'stages: [lead\n' >broken.yaml
check_exit 78 broken-config crm-show -c broken.yaml 1
# A closed pipe ends it quietly.
crm-show -n 30 bob@example.com 2>"$ERR" | head -n 1 >/dev/null
check_empty pipe-quiet "$ERR"
