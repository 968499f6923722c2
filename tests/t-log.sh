# crm-log: flag mode, bulk import, idempotent re-runs, consent, statistics
# against a recomputation from the log, money to the cent, time offsets,
# every bad input, -r, --create, the config's types, two writers at once,
# crm-export --events and the events round trip.
#
# Checks named bug-* were written for bugs this file found in crm-log
# (fixed in 589b106, they now guard against their return).  Two remain
# open and are skipped with the reason: key-less events are compared with
# their fields in input order, and a NUL byte in a header name is taken.

A1=2024-01-01T00:00:00Z
N1=2024-06-01T12:00:00Z
N2=2024-07-01T00:00:00Z

have_py=
command -v python3 >/dev/null 2>&1 && have_py=1

# events DIR-OPTION...: the event rows (no header) of crm-export --events.
events() {
	crm-export --events "$@" | sed 1d
}

# nevents OPTIONS...: how many events crm-export --events writes.
nevents() {
	events "$@" | wc -l | tr -d ' '
}

# stat1 OPTIONS... EMAIL COLUMNS: crm-export --fields COLUMNS of one contact.
stat1() {
	local n=$#
	local email=${*:n-1:1} cols=${*:n:1}
	crm-export "${@:1:n-2}" --email "$email" --fields "$cols" | sed 1d
}

EVH='id,contact,email,ts,type'

## Flag mode.
F="-D $T/f"
printf 'email,first_name\nada@example.com,Ada\nbob@example.com,Bob\n' >f.csv
check_exit 0 flag-setup crm-add $F -n --as-of $A1 f.csv

# The example of the issue: an event now (--as-of), nothing on stdout.
check_exit 0 flag-call crm-log $F --as-of $N1 -c ada@example.com -t call --subject renewal --note "wants a quote"
check_empty flag-call-stdout "$OUT"
check_empty flag-call-stderr "$ERR"
check_out flag-call-stored "$EVH,subject,text
1,1,ada@example.com,$N1,call,renewal,wants a quote" crm-export $F --events
check_eq flag-call-stats "$N1,$N1,1,,,0,0,0.00" \
    "$(stat1 $F ada@example.com first_seen_at,last_seen_at,events,first_purchase_at,last_purchase_at,purchases,purchase_days,revenue)"
# The contact is referred to by its e-mail in any case, or by its id.
check_exit 0 flag-by-id crm-log $F --as-of $N1 -c 2 -t meeting --ts 2024-05-01T09:30:00+02:00 --channel zoom --campaign spring --source sales --set room=blue
check_exit 0 flag-email-normalised crm-log $F --as-of $N1 -c ' Ada@Example.COM ' -t purchase --ts 2024-05-02 --amount 12.5 --ext-id X1
# Per contact in time order; the columns in order of first sight.
check_out flag-stored "$EVH,amount,ext_id,subject,text,channel,campaign,source,room
3,1,ada@example.com,2024-05-02T00:00:00Z,purchase,12.5,X1,,,,,,
1,1,ada@example.com,$N1,call,,,renewal,wants a quote,,,,
2,2,bob@example.com,2024-05-01T07:30:00Z,meeting,,,,,zoom,spring,sales,blue" crm-export $F --events
# The same ext_id again: nothing stored, and flag mode says so.
check_exit 0 flag-repeat crm-log $F --as-of $N1 -c ada@example.com -t purchase --ts 2024-05-02 --amount 12.5 --ext-id X1
check_stderr flag-repeat-msg 'crm-log: 0 events added, 1 already stored, 0 contacts created'
check_eq flag-repeat-count 3 "$(nevents $F)"
snap f.snap $F
snap f-ev.snap $F --events
# Bad values: exit 65, the reason alone (there is no file and line).
check_exit 65 flag-unknown-contact crm-log $F -c nobody@example.com -t call
check_stderr flag-unknown-contact-msg 'crm-log: contact: no contact with email "nobody@example.com"'
check_exit 65 flag-unknown-id crm-log $F -c 99 -t call
check_stderr flag-unknown-id-msg 'crm-log: contact: no contact with id 99'
check_exit 65 flag-no-amount crm-log $F -c ada@example.com -t purchase
check_stderr flag-no-amount-msg 'crm-log: amount: a purchase needs an amount'
check_exit 65 flag-bad-amount crm-log $F -c ada@example.com -t refund --amount 1,50
check_stderr flag-bad-amount-msg 'crm-log: amount: invalid amount (an exact decimal such as 12.50)'
check_exit 65 flag-bad-ts crm-log $F -c ada@example.com -t call --ts yesterday
check_stderr flag-bad-ts-msg 'crm-log: ts: invalid time "yesterday"'
check_exit 65 flag-bad-type crm-log $F -c ada@example.com -t 'phone call'
check_err flag-bad-type-msg '^crm-log: type: invalid type "phone call"'
check_store_same flag-bad-store f.snap $F
check_store_same flag-bad-store-events f-ev.snap $F --events
# Usage errors: 64, and nothing written.
for u in "-c ada@example.com" "--subject x -t call" \
    "-c ada@example.com -t call f.csv" "-c ada@example.com -t call -r rej.csv" \
    "-c ada@example.com -t call --set noequals" "-c ada@example.com -t call --set =x" \
    "-c ada@example.com -t call --set email=x" "-c ada@example.com -t call --set ts=x" \
    "-F yaml f.csv" "--as-of never -c ada@example.com -t call" "--nosuch"; do
	check_exit 64 "flag-usage $u" crm-log $F $u
	check_err "flag-usage-msg $u" '.'
	check_empty "flag-usage-stdout $u" "$OUT"
done
check_store_same flag-usage-store f-ev.snap $F --events
# -c is the contact here; the configuration is --config (crm-log(1)).
printf 'types: [call]\n' >only-call.yaml
check_exit 64 flag-c-is-contact crm-log $F -c only-call.yaml f.csv
check_stderr flag-c-is-contact-msg 'crm-log: event options do not go with files'

## An input large beside the store has every stored address read at the
## start: a short one and one too long to be kept in a table slot are
## both found, in any letter case, and an unknown one still is not.
P="-D $T/p"
LONG=an.address.with.a.rather.long.local.part@mail.example-domain.com
printf 'email\nann@example.com\n%s\n' "$LONG" >p.csv
check_exit 0 preload-setup crm-add $P -n --as-of $A1 p.csv
{
	echo email,ts,type,subject
	for i in 1 2 3 4 5 6; do
		echo "ann@example.com,2024-02-0${i}T10:00:00Z,call,row $i"
		echo " $(echo "$LONG" | tr a-z A-Z),2024-02-0${i}T11:00:00Z,note,row $i"
	done
} >p1.csv
check_exit 0 preload-import crm-log $P -v p1.csv
check_stderr preload-import-msg 'crm-log: 12 events added, 0 already stored, 0 contacts created'
check_eq preload-short 6 "$(stat1 $P ann@example.com events)"
check_eq preload-long 6 "$(stat1 $P "$LONG" events)"
{
	cat p1.csv
	echo "nobody@example.com,2024-02-07T10:00:00Z,call,x"
} >p2.csv
check_exit 65 preload-unknown crm-log $P p2.csv
check_err preload-unknown-msg '^crm-log: p2\.csv:14: email: no contact with email "nobody@example\.com"'

## Stream mode: columns, formats, inputs.
S="-D $T/s"
printf 'email,first_name\nann@example.com,Ann\nbo@example.com,Bo\n' >s.csv
check_exit 0 stream-setup crm-add $S -n --as-of $A1 s.csv
printf 'email,ts,type,subject\nann@example.com,2024-02-01T10:00:00Z,call,first\nBO@example.com ,2024-02-02,email,second\n' >s1.csv
check_exit 0 stream-csv crm-log $S s1.csv
check_empty stream-csv-stdout "$OUT"
check_empty stream-csv-stderr "$ERR"
# -v: a summary on stderr, still nothing on stdout.
printf 'contact,ts,type,id,note\n2,2024-02-03,visit,77,by id\n' >s2.csv
check_exit 0 stream-contact-id crm-log $S -v s2.csv
check_empty stream-v-stdout "$OUT"
check_stderr stream-v-summary 'crm-log: 1 event added, 0 already stored, 0 contacts created'
# email is preferred to contact when a row has both; id is not a field.
printf 'email,contact,ts,type\nann@example.com,2,2024-02-04,note\n' >s3.csv
check_exit 0 stream-email-over-contact crm-log $S s3.csv
# -t is the type of rows without one, --ts the time of every row.
printf 'email,type,subject\nann@example.com,,default type\nann@example.com,meeting,own type\n' >s4.csv
check_exit 0 stream-default-type crm-log $S -t call --ts 2024-02-05T08:00:00+01:00 s4.csv
# stdin, "-", several files, TSV and NDJSON.
printf 'email,ts,type\nann@example.com,2024-02-06,visit\n' >s-stdin.csv
check_exit 0 stream-stdin crm-log $S <s-stdin.csv
printf 'email,ts,type\nbo@example.com,2024-02-07,visit\n' >s5.csv
printf 'email,ts,type,subject\nbo@example.com,2024-02-07T12:00:00Z,visit,dash\n' >s-dash.csv
printf 'email,ts,type\nbo@example.com,2024-02-08,visit\n' >s6.csv
check_exit 0 stream-dash-and-files crm-log $S s5.csv - s6.csv <s-dash.csv
printf 'email\tts\ttype\tnote\nbo@example.com\t2024-02-09\tnote\ttab\\there\n' >s7.tsv
check_exit 0 stream-tsv crm-log $S -F tsv s7.tsv
printf '{"email":"ann@example.com","ts":"2024-02-10T12:00:00-05:00","type":"purchase","amount":19.99,"order_id":"N1","gift":true,"tags":["a","b"],"x":null}\n' >s8.ndjson
check_exit 0 stream-ndjson crm-log $S -F ndjson s8.ndjson
# A byte-order mark and CRLF line ends are accepted.
printf '\357\273\277email,ts,type\r\nann@example.com,2024-02-11,call\r\n' >s9.csv
check_exit 0 stream-bom-crlf crm-log $S s9.csv
# Event ids are given in input order and are not compared here.
cat >s.want <<EOF
contact,email,ts,type,subject,amount,order_id,gift,tags,note
1,ann@example.com,2024-02-01T10:00:00Z,call,first,,,,,
1,ann@example.com,2024-02-04T00:00:00Z,note,,,,,,
1,ann@example.com,2024-02-05T07:00:00Z,call,default type,,,,,
1,ann@example.com,2024-02-05T07:00:00Z,meeting,own type,,,,,
1,ann@example.com,2024-02-06T00:00:00Z,visit,,,,,,
1,ann@example.com,2024-02-10T17:00:00Z,purchase,,19.99,N1,true,a;b,
1,ann@example.com,2024-02-11T00:00:00Z,call,,,,,,
2,bo@example.com,2024-02-02T00:00:00Z,email,second,,,,,
2,bo@example.com,2024-02-03T00:00:00Z,visit,,,,,,by id
2,bo@example.com,2024-02-07T00:00:00Z,visit,,,,,,
2,bo@example.com,2024-02-07T12:00:00Z,visit,dash,,,,,
2,bo@example.com,2024-02-08T00:00:00Z,visit,,,,,,
2,bo@example.com,2024-02-09T00:00:00Z,note,,,,,,tab	here
EOF
run crm-export $S --events
cut -d, -f2- "$OUT" >s.got
check_file stream-stored s.want s.got
check_eq stream-ids-unique "" "$(csv_col id <"$OUT" | sort | uniq -d | tr '\n' ' ')"
check_eq stream-ids-order-within-run "1 2" "$(csv_col id <"$OUT" | sed -n '1p;8p' | tr '\n' ' ' | sed 's/ $//')"

## Idempotent bulk import: the nightly cron job.
B="-D $T/b"
printf 'email\nc1@example.com\nc2@example.com\nc3@example.com\n' >b.csv
check_exit 0 bulk-setup crm-add $B -n --as-of $A1 b.csv
cat >orders.csv <<'EOF'
email,ts,amount,order_id,channel
c1@example.com,2024-03-01T10:00:00Z,19.99,O-1,web
c2@example.com,2024-03-01T11:00:00Z,5.00,O-2,shop
c1@example.com,2024-03-02T10:00:00Z,0.01,O-3,web
c3@example.com,2024-03-03T10:00:00Z,100,O-4,web
EOF
check_exit 0 bulk-import crm-log $B -t purchase --as-of $N1 orders.csv
check_empty bulk-import-stdout "$OUT"
check_eq bulk-import-count 4 "$(nevents $B)"
snap bulk.snap $B
snap bulk-ev.snap $B --events
check_exit 0 bulk-rerun crm-log $B -t purchase -v --as-of $N2 orders.csv
check_stderr bulk-rerun-summary 'crm-log: 0 events added, 4 already stored, 0 contacts created'
check_eq bulk-rerun-count 4 "$(nevents $B)"
check_store_same bulk-rerun-contacts bulk.snap $B
check_store_same bulk-rerun-events bulk-ev.snap $B --events
# The next night: yesterday's orders again and one new one.
{ cat orders.csv; echo 'c2@example.com,2024-03-04T09:00:00Z,7.50,O-5,shop'; } >orders2.csv
check_exit 0 bulk-next-night crm-log $B -t purchase -v --as-of $N2 orders2.csv
check_stderr bulk-next-night-summary 'crm-log: 1 event added, 4 already stored, 0 contacts created'
check_eq bulk-next-night-stats "2,2,12.50" "$(stat1 $B c2@example.com purchases,purchase_days,revenue)"
# A refund of an order shares the purchase's order_id: both are stored,
# since the key is the type with the order_id.
printf 'email,ts,type,amount,order_id\nc1@example.com,2024-03-05,refund,19.99,O-1\n' >refund.csv
check_exit 0 bulk-refund crm-log $B refund.csv
check_exit 0 bulk-refund-again crm-log $B refund.csv
check_eq bulk-refund-both "purchase 19.99 O-1|refund 19.99 O-1|" \
    "$(events $B --email c1@example.com | awk -F, '$7 == "O-1" { print $5, $6, $7 }' | tr '\n' '|')"
check_eq bulk-refund-stats "2,2,0.01" "$(stat1 $B c1@example.com purchases,purchase_days,revenue)"
# A repeated key with other values in a later run is skipped: what was
# stored first stays.
printf 'email,ts,type,amount,order_id\nc3@example.com,2024-03-03T10:00:00Z,purchase,999,O-4\n' >changed.csv
check_exit 0 bulk-changed-later crm-log $B -v changed.csv
check_stderr bulk-changed-later-msg 'crm-log: 0 events added, 1 already stored, 0 contacts created'
check_eq bulk-changed-later-kept "100" "$(stat1 $B c3@example.com revenue | sed 's/\.00$//')"
# ext_id is the key where there is one, else order_id; two lines of one
# order with their own ext_ids are two events.
printf 'email,ts,type,amount,order_id,ext_id\nc3@example.com,2024-03-06,purchase,1,O-9,L-1\nc3@example.com,2024-03-06,purchase,2,O-9,L-2\n' >lines.csv
check_exit 0 bulk-ext-id-first crm-log $B -v lines.csv
check_stderr bulk-ext-id-first-msg 'crm-log: 2 events added, 0 already stored, 0 contacts created'
check_exit 0 bulk-ext-id-rerun crm-log $B -v lines.csv
check_stderr bulk-ext-id-rerun-msg 'crm-log: 0 events added, 2 already stored, 0 contacts created'
# --key names another column as the key.
printf 'email,ts,type,amount,invoice,order_id\nc2@example.com,2024-03-07,purchase,1,INV-1,O-7\nc2@example.com,2024-03-08,purchase,2,INV-2,O-7\n' >inv.csv
check_exit 65 bulk-key-default crm-log $B inv.csv
check_err bulk-key-default-msg '^crm-log: inv\.csv:3: .*order_id given twice'
check_exit 0 bulk-key-column crm-log $B --key invoice -v inv.csv
check_stderr bulk-key-column-msg 'crm-log: 2 events added, 0 already stored, 0 contacts created'
check_exit 0 bulk-key-column-rerun crm-log $B --key invoice -v inv.csv
check_stderr bulk-key-column-rerun-msg 'crm-log: 0 events added, 2 already stored, 0 contacts created'
# The same key twice in one input with the same values: one event.
printf 'email,ts,type,amount,order_id\nc1@example.com,2024-03-09,purchase,3,O-10\nc1@example.com,2024-03-09,purchase,3,O-10\n' >twice.csv
check_exit 0 bulk-same-key-same-values crm-log $B -v twice.csv
check_stderr bulk-same-key-same-values-msg 'crm-log: 1 event added, 1 already stored, 0 contacts created'

## Events without a key: an identical event stored before the run is
## skipped; identical rows of one run are all kept.
K="-D $T/k"
check_exit 0 keyless-setup crm-add $K -n --as-of $A1 --email k@example.com
printf 'email,ts,type,subject\nk@example.com,2024-02-01T10:00:00Z,call,hi\nk@example.com,2024-02-01T10:00:00Z,call,hi\nk@example.com,2024-02-01T10:00:00Z,call,other\n' >kl.csv
check_exit 0 keyless-first crm-log $K -v kl.csv
check_stderr keyless-first-msg 'crm-log: 3 events added, 0 already stored, 0 contacts created'
snap kl.snap $K
snap kl-ev.snap $K --events
check_exit 0 keyless-rerun crm-log $K -v kl.csv
check_stderr keyless-rerun-msg 'crm-log: 0 events added, 3 already stored, 0 contacts created'
check_store_same keyless-rerun-store kl.snap $K
check_store_same keyless-rerun-events kl-ev.snap $K --events
# The same instant written another way is the same event; another second,
# another field or another value is not.
printf 'email,ts,type,subject\nk@example.com,2024-02-01T12:00:00+02:00,call,hi\n' >kl2.csv
check_exit 0 keyless-same-instant crm-log $K -v kl2.csv
check_stderr keyless-same-instant-msg 'crm-log: 0 events added, 1 already stored, 0 contacts created'
printf 'email,ts,type,subject\nk@example.com,2024-02-01T10:00:01Z,call,hi\nk@example.com,2024-02-01T10:00:00Z,call,Hi\nk@example.com,2024-02-01T10:00:00Z,visit,hi\n' >kl3.csv
printf 'email,ts,type,subject,channel\nk@example.com,2024-02-01T10:00:00Z,call,hi,phone\n' >kl4.csv
check_exit 0 keyless-different crm-log $K -v kl3.csv kl4.csv
check_stderr keyless-different-msg 'crm-log: 4 events added, 0 already stored, 0 contacts created'
# An empty cell is no field: the row is the same event.
printf 'email,ts,type,subject,channel\nk@example.com,2024-02-01T10:00:00Z,call,hi,\n' >kl5.csv
check_exit 0 keyless-empty-cell crm-log $K -v kl5.csv
check_stderr keyless-empty-cell-msg 'crm-log: 0 events added, 1 already stored, 0 contacts created'
# The same fields in another column order are the same event (kl4.csv
# stored it), so an events export read back into its own store adds
# nothing, whatever order the fields were stored in.
printf 'email,ts,type,channel,subject\nk@example.com,2024-02-01T10:00:00Z,call,phone,hi\n' >kl6.csv
check_exit 0 keyless-field-order crm-log $K -v kl6.csv
check_stderr keyless-field-order-msg 'crm-log: 0 events added, 1 already stored, 0 contacts created'
# ...but a field more, or one value other, is another event.
printf 'email,ts,type,channel,subject,note\nk@example.com,2024-02-01T10:00:00Z,call,phone,hi,x\nk@example.com,2024-02-01T10:00:00Z,call,email,hi,\n' >kl7.csv
check_exit 0 keyless-field-order-other crm-log $K -v kl7.csv
check_stderr keyless-field-order-other-msg 'crm-log: 2 events added, 0 already stored, 0 contacts created'
K2="-D $T/k2"
check_exit 0 keyless-reread-setup crm-add $K2 -n --as-of $A1 --email k@example.com
printf 'email,ts,type,subject,channel\nk@example.com,2024-02-01T10:00:00Z,call,hi,phone\n' >kr1.csv
printf 'email,ts,type,channel,subject\nk@example.com,2024-02-02T10:00:00Z,call,web,yo\n' >kr2.csv
check_exit 0 keyless-reread-log crm-log $K2 kr1.csv kr2.csv
check_exit 0 keyless-reread sh -c '"$0" '"$K2"' --events | "$1" '"$K2"' -v' \
    "$BIN/crm-export" "$BIN/crm-log"
check_stderr keyless-reread-msg 'crm-log: 0 events added, 2 already stored, 0 contacts created'
# In one input, the same key twice with the same fields in another order
# (NDJSON rows name their own keys) is one event, not a contradiction.
printf '{"email":"k@example.com","ts":"2024-03-01","type":"call","ext_id":"n1","subject":"a","channel":"c"}\n{"channel":"c","type":"call","subject":"a","ext_id":"n1","ts":"2024-03-01","email":"k@example.com"}\n' >nd-order.ndjson
check_exit 0 keyed-ndjson-order crm-log $K2 -F ndjson -v nd-order.ndjson
check_stderr keyed-ndjson-order-msg 'crm-log: 1 event added, 1 already stored, 0 contacts created'

## Times: offsets are converted to UTC; a purchase day is a UTC day.
Z="-D $T/z"
check_exit 0 tz-setup crm-add $Z -n --as-of $A1 --email z@example.com
cat >tz.csv <<'EOF'
email,ts,type,subject
z@example.com,2024-05-20T14:17:53+02:00,note,plus two
z@example.com,2024-05-20T00:30:00-01:30,note,minus one thirty
z@example.com,2024-05-20T14:17:53+0200,note,no colon
z@example.com,2024-01-01T00:30+01,note,hours only
z@example.com,2024-05-20 14:17:53,note,space
z@example.com,2024-05-21,note,date
z@example.com,2024-05-22t01:02:03.999z,note,fraction
z@example.com,1969-12-31T23:59:59Z,note,before 1970
EOF
check_exit 0 tz-import crm-log $Z tz.csv
run events $Z
awk -F, '{ print $4, $6 }' "$OUT" >tz.got
check_file tz-stored "1969-12-31T23:59:59Z before 1970
2023-12-31T23:30:00Z hours only
2024-05-20T02:00:00Z minus one thirty
2024-05-20T12:17:53Z plus two
2024-05-20T12:17:53Z no colon
2024-05-20T14:17:53Z space
2024-05-21T00:00:00Z date
2024-05-22T01:02:03Z fraction" tz.got
check_eq tz-first-last "1969-12-31T23:59:59Z,2024-05-22T01:02:03Z,8" \
    "$(stat1 $Z z@example.com first_seen_at,last_seen_at,events)"
# Three purchases on three local dates, one UTC day (2024-03-02); a fourth
# at 23:30 local on 2024-03-02 is 2024-03-03 in UTC.
cat >tzp.csv <<'EOF'
email,ts,type,amount
z@example.com,2024-03-01T23:30:00-02:00,purchase,1
z@example.com,2024-03-02T10:00:00Z,purchase,1
z@example.com,2024-03-03T01:00:00+02:00,purchase,1
z@example.com,2024-03-02T23:30:00-01:00,purchase,1
EOF
check_exit 0 tz-purchases crm-log $Z tzp.csv
check_eq tz-purchase-days "4,2,2024-03-02T01:30:00Z,2024-03-03T00:30:00Z" \
    "$(stat1 $Z z@example.com purchases,purchase_days,first_purchase_at,last_purchase_at)"

## Money: exact decimals, to the cent.
M="-D $T/m"
printf 'email\nm1@example.com\nm2@example.com\nm3@example.com\nm4@example.com\nm5@example.com\n' >m.csv
check_exit 0 money-setup crm-add $M -n --as-of $A1 m.csv
cat >money.csv <<'EOF'
email,ts,type,amount,order_id
m1@example.com,2024-04-01,purchase,19.99,A1
m1@example.com,2024-04-02,purchase,19.99,A2
m1@example.com,2024-04-03,purchase,19.99,A3
m1@example.com,2024-04-04,refund,0.01,A3
m2@example.com,2024-04-01,purchase,0.10,B1
m2@example.com,2024-04-01,purchase,0.20,B2
m3@example.com,2024-04-01,purchase,1.00,C1
m3@example.com,2024-04-02,refund,1.70,C1
m4@example.com,2024-04-01,purchase,99999999.99,D1
m4@example.com,2024-04-01,purchase,99999999.99,D2
m4@example.com,2024-04-02,refund,0.98,D2
m5@example.com,2024-04-01,purchase,0.125,E1
m5@example.com,2024-04-02,purchase, 2.5 ,E2
EOF
check_exit 0 money-import crm-log $M money.csv
check_out money-revenue "email,purchases,purchase_days,revenue
m1@example.com,3,3,59.96
m2@example.com,2,1,0.30
m3@example.com,1,1,-0.70
m4@example.com,2,1,199999999.00
m5@example.com,2,2,2.625" crm-export $M --fields email,purchases,purchase_days,revenue
# Amounts are stored in their normal form: trimmed, as written otherwise.
check_eq money-amount-normal "2.5" "$(events $M --email m5@example.com --type purchase | awk -F, 'NR == 2 { print $6 }')"
# A refund alone: negative revenue, no purchase.
printf 'email,ts,type,amount\nm5@example.com,2024-04-03,refund,2.625\nm5@example.com,2024-04-03,refund,0.005\n' >m-refund.csv
check_exit 0 money-refund-all crm-log $M m-refund.csv
check_eq money-refund-all-value "2,-0.005" "$(stat1 $M m5@example.com purchases,revenue)"
# NDJSON writes the revenue as an exact JSON number.
run crm-export $M -F ndjson --email m4@example.com
check_match money-ndjson-number '"revenue":199999999\.00[,}]' "$(cat "$OUT")"

## Consent from subscribe and unsubscribe events.
C="-D $T/c"
printf 'email,email_opt_in,consent_at,consent_source\nc@example.com,true,2024-05-01,web\nd@example.com,,,\ne@example.com,,,\n' >c.csv
check_exit 0 consent-setup crm-add $C -n --as-of $A1 c.csv
consent() { stat1 $C "$1" email_opt_in,consent_at,consent_source,updated_at; }
# Out of order in one input: the newest wins; the source is the event's
# source, else its channel, else crm-log.
cat >consent.csv <<'EOF'
email,ts,type,source,channel
d@example.com,2024-03-01,subscribe,,email
d@example.com,2024-03-05,unsubscribe,,
d@example.com,2024-03-02,subscribe,form,
e@example.com,2024-03-01,unsubscribe,,
e@example.com,2024-03-03,subscribe,,sms
e@example.com,2024-03-02,unsubscribe,list,
EOF
check_exit 0 consent-import crm-log $C --as-of $N1 consent.csv
check_eq consent-newest-wins "false,2024-03-05T00:00:00Z,crm-log,$N1" "$(consent d@example.com)"
check_eq consent-channel-source "true,2024-03-03T00:00:00Z,sms,$N1" "$(consent e@example.com)"
# The same in batches of two events, into a store where crm-log creates
# the contacts (new ids) and one stored before (an id of the store): each
# contact's latest answer is kept across the batches.
CB="-D $T/cb"
printf 'email\nd@example.com\n' >cb.csv
check_exit 0 consent-batches-setup crm-add $CB -n --as-of $A1 cb.csv
export CRM_EVLOG_BATCH=2
check_exit 0 consent-batches crm-log $CB --as-of $N1 --create consent.csv
unset CRM_EVLOG_BATCH
check_eq consent-batches-stored "false,2024-03-05T00:00:00Z,crm-log,$N1" "$(stat1 $CB d@example.com email_opt_in,consent_at,consent_source,updated_at)"
check_eq consent-batches-created "true,2024-03-03T00:00:00Z,sms,$N1" "$(stat1 $CB e@example.com email_opt_in,consent_at,consent_source,updated_at)"
# An unsubscribe older than the consent crm-add recorded changes nothing,
# updated_at included; the event is still stored and counted.
printf 'email,ts,type,source\nc@example.com,2024-04-01,unsubscribe,old-list\n' >c-old.csv
check_exit 0 consent-older crm-log $C --as-of $N1 c-old.csv
check_eq consent-older-ignored "true,2024-05-01T00:00:00Z,web,$A1" "$(consent c@example.com)"
check_eq consent-older-counted "1" "$(stat1 $C c@example.com events)"
# A newer one applies, with its source.
printf 'email,ts,type,source\nc@example.com,2024-06-01,unsubscribe,link\n' >c-new.csv
check_exit 0 consent-newer crm-log $C --as-of $N2 c-new.csv
check_eq consent-newer-applies "false,2024-06-01T00:00:00Z,link,$N2" "$(consent c@example.com)"
# A later run with an older subscribe does not undo it.
check_exit 0 consent-later-run-older crm-log $C --as-of $N2 -c c@example.com -t subscribe --ts 2024-05-15 --source web
check_eq consent-later-run-older-ignored "false,2024-06-01T00:00:00Z,link,$N2" "$(consent c@example.com)"
# Flag mode: --source wins over --channel.
check_exit 0 consent-flag crm-log $C --as-of $N2 -c c@example.com -t subscribe --ts 2024-06-02T08:00:00+02:00 --channel phone --source hotline
check_eq consent-flag-applies "true,2024-06-02T06:00:00Z,hotline,$N2" "$(consent c@example.com)"
# And crm-add's consent rule then still holds against the event's time.
printf 'email,email_opt_in,consent_at,consent_source\nc@example.com,false,2024-06-01T23:00:00Z,stale\n' >c-add.csv
check_exit 0 consent-add-older crm-add $C -n c-add.csv
check_eq consent-add-older-ignored "true,2024-06-02T06:00:00Z,hotline" "$(consent c@example.com | cut -d, -f1-3)"

## Statistics equal a recomputation from the log.
# recompute EVENTS-CSV CONTACTS-CSV: for every contact of the contacts
# export (its id column), the statistics computed from the events export
# alone, in crm-export's format: id,first_seen_at,...,revenue.
recompute() {
	python3 - "$1" "$2" <<'PY'
import csv, sys
from decimal import Decimal
st = {}
with open(sys.argv[1], newline='') as f:
    for r in csv.DictReader(f):
        s = st.setdefault(r['contact'], {'ts': [], 'p': [], 'days': set(),
                                         'rev': Decimal(0)})
        t = r['ts']
        s['ts'].append(t)
        if r['type'] == 'purchase':
            s['p'].append(t)
            s['days'].add(t[:10])          # times are UTC, YYYY-MM-DDT...
            s['rev'] += Decimal(r['amount'])
        elif r['type'] == 'refund':
            s['rev'] -= Decimal(r['amount'])
def money(d):
    d = d.normalize()
    if d.as_tuple().exponent > -2:
        d = d.quantize(Decimal('0.01'))
    return format(d, 'f')
with open(sys.argv[2], newline='') as f:
    for r in csv.DictReader(f):
        s = st.get(r['id'], {'ts': [], 'p': [], 'days': set(), 'rev': Decimal(0)})
        ts, p = s['ts'], s['p']
        print(','.join([r['id'], min(ts, default=''), max(ts, default=''),
                        str(len(ts)), min(p, default=''), max(p, default=''),
                        str(len(p)), str(len(s['days'])), money(s['rev'])]))
PY
}

# check_stats NAME DIR-OPTION: the store's statistics equal the recomputation.
check_stats() {
	local name=$1
	shift
	crm-export "$@" --events >"$name.ev.csv" &&
	    crm-export "$@" --fields id >"$name.ids.csv" &&
	    crm-export "$@" --fields "id,$STATS" | sed 1d >"$name.stats" || {
		fail "$name" "crm-export failed"
		return
	}
	recompute "$name.ev.csv" "$name.ids.csv" >"$name.want"
	check_file "$name" "$name.want" "$name.stats"
}

if [ -n "$have_py" ]; then
	G="-D $T/g"
	crm-gen events 4000 -c 300 -s 11 >g1.csv
	crm-gen events 3000 -c 300 -s 12 >g2.csv
	# A few contacts without events, and a contact's events out of order.
	check_exit 0 stats-setup crm-add $G -n --as-of $A1 --email idle@example.com
	check_exit 0 stats-import-1 crm-log $G --create g1.csv
	check_match stats-has-purchases '^[1-9]' "$(events $G --type purchase | wc -l)"
	check_match stats-has-refunds '^[1-9]' "$(events $G --type refund | wc -l)"
	check_stats stats-after-1 $G
	check_exit 0 stats-import-2 crm-log $G --create g2.csv
	check_stats stats-after-2 $G
	# Hand-made events inside, before and after the stored timelines, on
	# days with and without stored purchases, refunds and all.
	run crm-export $G --events --type purchase
	awk -F, 'NR > 1 && NR < 60 {
		split($4, d, "T")
		print $3 "," d[1] "T23:59:59Z,purchase,1.01,X" NR            # same UTC day
		print $3 "," d[1] "T12:00:00+14:00,purchase,2.02,Y" NR        # day before in UTC, often
		print $3 ",2001-01-01,refund,0.03,Z" NR                      # before everything
		print $3 ",2031-01-01,visit,,"                               # after everything
	}' "$OUT" | sed '1i email,ts,type,amount,order_id' >g3.csv
	check_exit 0 stats-import-3 crm-log $G g3.csv
	check_stats stats-after-3 $G
	# Re-running every input changes nothing at all.
	snap g.snap $G
	snap g-ev.snap $G --events
	check_exit 0 stats-rerun crm-log $G --create g1.csv g2.csv g3.csv
	check_store_same stats-rerun-contacts g.snap $G
	check_store_same stats-rerun-events g-ev.snap $G --events
	# One input in three runs, its rows dealt out like cards (so every run
	# lands inside the timelines the earlier ones stored), gives the
	# statistics of one run.
	H1="-D $T/h1"
	H3="-D $T/h3"
	check_exit 0 stats-one-run crm-log $H1 --create g1.csv
	for k in 0 1 2; do
		awk -v k=$k 'NR == 1 || NR % 3 == k' g1.csv >g1-$k.csv
		check_exit 0 "stats-run-$k" crm-log $H3 --create g1-$k.csv
	done
	check_stats stats-three-runs $H3
	crm-export $H1 --fields "email,$STATS" | sort >h1.stats
	crm-export $H3 --fields "email,$STATS" | sort >h3.stats
	check_file stats-three-runs-same-as-one h1.stats h3.stats
else
	skip statistics "no python3"
fi

## Many batches: an import that the writer holds, sorts and writes in many
## batches (CRM_EVLOG_BATCH) stores what one batch stores.
if [ -n "$have_py" ]; then
	B1="-D $T/b1"
	B7="-D $T/b7"
	# Several of the reading thread's chunks, so that the writer waits.
	crm-gen events 30000 -c 500 -s 21 >g4.csv
	check_exit 0 batches-one crm-log $B1 --as-of $N1 --create g4.csv g3.csv
	export CRM_EVLOG_BATCH=7
	check_exit 0 batches-many crm-log $B7 --as-of $N1 --create g4.csv g3.csv
	check_stats batches-stats $B7
	crm-export $B1 --events >b1.ev
	crm-export $B7 --events >b7.ev
	check_file batches-same-events b1.ev b7.ev
	crm-export $B1 >b1.ct
	crm-export $B7 >b7.ct
	check_file batches-same-contacts b1.ct b7.ct
	# Re-run in many batches: every key is found, written early or not.
	snap b7.snap $B7 --events
	check_exit 0 batches-rerun crm-log $B7 --as-of $N1 g4.csv g3.csv
	check_store_same batches-rerun-same b7.snap $B7 --events
	# One order number twice in one input, far apart, with other values.
	awk -F, 'NR > 1 && $3 == "purchase" && $5 != "" {
		print $1 "," $2 ",purchase,999.99," $5 "," $6; exit }' g2.csv >dup.row
	cat g2.csv dup.row >g2dup.csv
	B8="-D $T/b8"
	check_exit 65 batches-conflict crm-log $B8 --create g2dup.csv
	check_err batches-conflict-msg "g2dup.csv:$(wc -l <g2dup.csv | tr -d ' '): order_id"
	check_exit 0 batches-conflict-nothing crm-add $B8 -n --as-of $A1 --email x@example.com
	check_eq batches-conflict-no-events 0 "$(nevents $B8)"
	unset CRM_EVLOG_BATCH
else
	skip batches "no python3"
fi

## A large input: its buffers are made present by a thread of their own
## (lib/prefault.c; files of more than about 4 MB). The store is the same
## with that thread turned off, and the sanitizer and valgrind runs of this
## file see the thread at work.
P0="-D $T/p0"
P1="-D $T/p1"
crm-gen events 100000 -c 2000 -s 23 >g5.csv
check_exit 0 prefault crm-log $P1 --as-of $N1 --create g5.csv
export CRM_PREFAULT=0
check_exit 0 prefault-off crm-log $P0 --as-of $N1 --create g5.csv
unset CRM_PREFAULT
crm-export $P0 --events >p0.ev
crm-export $P1 --events >p1.ev
check_eq prefault-events "$(sed 1d g5.csv | wc -l | tr -d ' ')" "$(sed 1d p1.ev | wc -l | tr -d ' ')"
check_file prefault-same-events p0.ev p1.ev
crm-export $P0 >p0.ct
crm-export $P1 >p1.ct
check_file prefault-same-contacts p0.ct p1.ct

## The stored addresses are read by the writing thread while the reading
## thread parses the first rows; then either thread looks up the addresses
## of a chunk of rows (CRM_LOG_LAZY=1: the writing thread all of them, 0:
## the reading thread all it can). Either way the store ends as when each
## address is looked up in the store (from stdin no table is read).
sed -n '1,50001p' g5.csv >h1.csv
{
	sed -n 1p g5.csv
	sed -n '50002,$p' g5.csv
} >h2.csv
check_exit 0 table-setup crm-log -D $T/q --as-of $N1 --create h1.csv
for v in 1 0 s; do
	cp -r $T/q $T/q$v
	if [ $v = s ]; then
		check_exit 0 table-stdin crm-log -D $T/q$v --as-of $N1 --create <h2.csv
	else
		export CRM_LOG_LAZY=$v
		check_exit 0 table-lazy-$v crm-log -D $T/q$v --as-of $N1 --create h2.csv
		unset CRM_LOG_LAZY
	fi
	crm-export -D $T/q$v --events >q$v.ev
	crm-export -D $T/q$v >q$v.ct
done
check_eq table-events "$(sed 1d g5.csv | wc -l | tr -d ' ')" "$(sed 1d qs.ev | wc -l | tr -d ' ')"
check_file table-lazy-1-events qs.ev q1.ev
check_file table-lazy-0-events qs.ev q0.ev
check_file table-lazy-1-contacts qs.ct q1.ct
check_file table-lazy-0-contacts qs.ct q0.ct

## Bad input: exit 65, file:line and the column named, nothing committed.
X="-D $T/x"
printf 'email\nada@example.com\n' >x.csv
check_exit 0 bad-setup crm-add $X -n --as-of $A1 x.csv
check_exit 0 bad-setup-event crm-log $X -c ada@example.com -t call --ts 2024-01-02
snap bad.snap $X
snap bad-ev.snap $X --events
printf 'types: [call, purchase, survey]\n' >types.yaml
GOOD='ada@example.com,2024-02-01,call'
: >prefix.txt

# bad NAME "CRM-LOG OPTIONS" INPUT LINE COLUMN REASON-ERE: the input (printf
# %b) is refused with exit 65; the diagnostic names NAME.csv, LINE and
# matches REASON-ERE (which mentions the column); its first line goes to
# prefix.txt with COLUMN for the check of the "column: reason" form.
bad() {
	local name=$1 opts=$2 input=$3 line=$4 col=$5 want=$6
	printf '%b' "$input" >"$name.csv"
	check_exit 65 "bad-$name" crm-log $X $opts "$name.csv"
	check_err "bad-$name-msg" "^crm-log: $name\\.csv:$line: .*$want"
	check_lastline "bad-$name-last" 'crm-log: 1 bad row; nothing committed'
	check_empty "bad-$name-stdout" "$OUT"
	check_store_same "bad-$name-store" bad.snap $X
	check_store_same "bad-$name-events" bad-ev.snap $X --events
	if [ -n "$col" ]; then
		printf '%s\t%s\n' "$col" "$(grep -a -m 1 "^crm-log: $name\\.csv:" "$ERR")" >>prefix.txt
	fi
}

bad type-invalid '' "email,ts,type\n$GOOD\nada@example.com,2024-02-01,phone call\n" \
    3 type 'invalid type "phone call"'
bad type-missing '' "email,ts,type\n$GOOD\nada@example.com,2024-02-01,\n" \
    3 type 'missing type'
bad type-not-allowed '--config types.yaml' "email,ts,type\n$GOOD\nada@example.com,2024-02-01,visit\n" \
    3 type 'type "visit" is not in the config'"'"'s types'
bad ts-invalid '' "email,ts,type\n$GOOD\nada@example.com,yesterday,call\n" \
    3 ts 'ts: invalid time "yesterday"'
bad ts-impossible '' "email,ts,type\n$GOOD\nada@example.com,2023-02-29,call\n" \
    3 ts 'ts: invalid time "2023-02-29"'
bad ts-missing '' "email,ts,type\n$GOOD\nada@example.com,,call\n" \
    3 ts 'ts: missing time'
bad ts-no-column '' "email,type\nada@example.com,call\n" \
    2 '' 'no ts column and no --ts'
bad ts-bad-option '--ts noon' "email,type\nada@example.com,call\n" \
    2 ts 'ts: invalid time "noon"'
bad amount-comma '' "email,ts,type,amount\n$GOOD,\nada@example.com,2024-02-01,purchase,12,50\n" \
    3 '' 'expected 4 fields, found 5'
bad amount-text '' "email,ts,type,amount\n$GOOD,\nada@example.com,2024-02-01,purchase,abc\n" \
    3 amount 'amount: invalid amount'
bad amount-exponent '' "email,ts,type,amount\n$GOOD,\nada@example.com,2024-02-01,purchase,1e3\n" \
    3 amount 'amount: invalid amount'
bad amount-too-precise '' "email,ts,type,amount\n$GOOD,\nada@example.com,2024-02-01,purchase,0.1234567891\n" \
    3 amount 'amount: invalid amount'
bad amount-on-other-type '' "email,ts,type,amount\n$GOOD,\nada@example.com,2024-02-01,call,free\n" \
    3 amount 'amount: invalid amount'
bad purchase-no-amount '' "email,ts,type,amount\n$GOOD,\nada@example.com,2024-02-01,purchase,\n" \
    3 amount 'a purchase needs an amount'
bad refund-no-amount '' "email,ts,type\n$GOOD\nada@example.com,2024-02-01,refund\n" \
    3 amount 'a refund needs an amount'
bad survey-nps-high '' "email,ts,type,metric,score\n$GOOD,,\nada@example.com,2024-02-01,survey,nps,11\n" \
    3 score 'nps score must be 0 to 10'
bad survey-nps-negative '' "email,ts,type,metric,score\n$GOOD,,\nada@example.com,2024-02-01,survey,nps,-1\n" \
    3 score 'nps score must be 0 to 10'
bad survey-csat-low '' "email,ts,type,metric,score\n$GOOD,,\nada@example.com,2024-02-01,survey,csat,0\n" \
    3 score 'csat score must be 1 to 5'
bad survey-csat-high '' "email,ts,type,metric,score\n$GOOD,,\nada@example.com,2024-02-01,survey,csat,6\n" \
    3 score 'csat score must be 1 to 5'
bad survey-score-fraction '' "email,ts,type,metric,score\n$GOOD,,\nada@example.com,2024-02-01,survey,nps,7.5\n" \
    3 score 'score: invalid score'
bad survey-metric-unknown '' "email,ts,type,metric,score\n$GOOD,,\nada@example.com,2024-02-01,survey,ces,3\n" \
    3 metric 'unknown survey metric \(nps or csat\)'
bad survey-no-metric '' "email,ts,type,score\n$GOOD,\nada@example.com,2024-02-01,survey,3\n" \
    3 metric 'a survey needs a metric'
bad survey-no-score '' "email,ts,type,metric\n$GOOD,\nada@example.com,2024-02-01,survey,nps\n" \
    3 score 'a survey needs a score'
bad utf8-field '' "email,ts,type,subject\n$GOOD,\nada@example.com,2024-02-01,call,ab\\xff\n" \
    3 subject 'subject: invalid UTF-8'
bad utf8-custom '' "email,ts,type,note\n$GOOD,\nada@example.com,2024-02-01,call,\\xc3\n" \
    3 note 'note: invalid UTF-8'
bad utf8-overlong '' "email,ts,type,note\n$GOOD,\nada@example.com,2024-02-01,call,\\xc0\\xaf\n" \
    3 note 'note: invalid UTF-8'
bad utf8-email '' "email,ts,type\n$GOOD\n\\xffada@example.com,2024-02-01,call\n" \
    3 email 'email'
bad utf8-type '' "email,ts,type\n$GOOD\nada@example.com,2024-02-01,ca\\xffll\n" \
    3 type 'type'
# A row's type is checked even where the one before had none, or the
# same one: a type, or a time, that passes is not checked for UTF-8 again.
bad type-missing-first '' "email,ts,type\nada@example.com,2024-02-01,\n" \
    2 type 'missing type'
bad type-after-same '' "email,ts,type\n$GOOD\nada@example.com,2024-02-01,call\\xff\n" \
    3 type 'type: invalid UTF-8'
bad utf8-ts '' "email,ts,type\n$GOOD\nada@example.com,2024-02-01\\xff,call\n" \
    3 ts 'ts: invalid UTF-8'
bad ts-after-good '' "email,ts,type\n$GOOD\nada@example.com,2024-02-01T00:00:00Zx,call\n" \
    3 ts 'ts: invalid time "2024-02-01T00:00:00Zx"'
bad unknown-email '' "email,ts,type\n$GOOD\nNobody@Example.com,2024-02-01,call\n" \
    3 email 'no contact with email "nobody@example\.com"'
bad unknown-id '' "contact,ts,type\n1,2024-02-01,call\n99,2024-02-01,call\n" \
    3 contact 'no contact with id 99'
bad invalid-email '' "email,ts,type\n$GOOD\nbob@,2024-02-01,call\n" \
    3 email 'invalid email "bob@"'
bad invalid-contact-id '' "contact,ts,type\n1,2024-02-01,call\n12x,2024-02-01,call\n" \
    3 contact 'invalid contact id "12x"'
bad no-contact '' "email,ts,type\n$GOOD\n,2024-02-01,call\n" \
    3 '' 'no contact \(an email or contact column\)'
bad key-twice-ext-id '' "email,ts,type,ext_id,subject\n$GOOD,E1,a\nada@example.com,2024-02-01,call,E1,b\n" \
    3 ext_id 'ext_id given twice in this input with different values'
bad key-twice-order-id '' "email,ts,type,amount,order_id\nada@example.com,2024-02-01,purchase,1,O1\nada@example.com,2024-02-01,purchase,2,O1\n" \
    3 order_id 'order_id given twice in this input with different values'
bad key-twice-other-time '' "email,ts,type,amount,order_id\nada@example.com,2024-02-01,purchase,1,O1\nada@example.com,2024-02-02,purchase,1,O1\n" \
    3 order_id 'order_id given twice in this input with different values'
bad csv-too-many-fields '' "email,ts,type\n$GOOD\nada@example.com,2024-02-01,call,x\n" \
    3 '' 'expected 3 fields, found 4'
bad csv-unterminated '' "email,ts,type\n$GOOD\nada@example.com,2024-02-01,\"call\n" \
    3 '' 'unterminated quoted field'
bad ndjson-broken '-F ndjson' "{\"email\":\"ada@example.com\",\"ts\":\"2024-02-01\",\"type\":\"call\"}\n{\"email\":\"ada@example.com\",\n" \
    2 '' 'expected a name at byte [0-9]+'

# A bad row's diagnostic is "file:row: column: reason" wherever there is a
# column (crm-log(1)); a line here lists the reasons that lack it.
awk -F'\t' '{
	msg = $2; sub(/^crm-log: [^:]*:[0-9]+: /, "", msg)
	if (index(msg, $1 ": ") != 1) printf "[%s] %s; ", $1, msg
}' prefix.txt >prefix.bad
check_empty bug-column-prefix prefix.bad

# Invalid UTF-8 in the email or type column is reported as such, and the
# diagnostic itself is valid UTF-8: no raw bytes of the input on stderr.
for name in utf8-email utf8-type; do
	crm-log $X "$name.csv" 2>"$name.err"
	if iconv -f UTF-8 -t UTF-8 <"$name.err" >/dev/null 2>&1; then
		ok "bug-$name-stderr-valid"
	else
		fail "bug-$name-stderr-valid" "stderr is not UTF-8: $(head -n 1 "$name.err" | od -c | head -n 2 | tr '\n' ' ')"
	fi
	cp "$name.err" "$ERR"
	check_err "bug-$name-says-utf8" "^crm-log: $name\\.csv:3: .*invalid UTF-8"
done

# Diagnostics for stdin say "stdin".
printf 'email,ts,type\n%s\nbob@,2024-02-01,call\n' "$GOOD" >stdin-bad.csv
check_exit 65 bad-stdin crm-log $X <stdin-bad.csv
check_err bad-stdin-msg '^crm-log: stdin:3: .*invalid email "bob@"'
check_store_same bad-stdin-store bad-ev.snap $X --events

# Every bad row is reported, each on its line.
printf 'email,ts,type\nbob@,2024-02-01,call\n%s\nada@example.com,never,call\nnobody@example.com,2024-02-01,call\n' "$GOOD" >multi.csv
check_exit 65 bad-multi crm-log $X multi.csv
check_err bad-multi-line2 '^crm-log: multi\.csv:2: .*invalid email "bob@"$'
check_err bad-multi-line4 '^crm-log: multi\.csv:4: ts: invalid time "never"$'
check_err bad-multi-line5 '^crm-log: multi\.csv:5: .*no contact with email "nobody@example\.com"$'
check_eq bad-multi-lines 4 "$(wc -l <"$ERR" | tr -d ' ')"
# The last line counts the bad rows, as crm-add's does.
check_lastline bug-bad-multi-last 'crm-log: 3 bad rows; nothing committed'
check_store_same bad-multi-store bad-ev.snap $X --events
# The first 100 are shown.
awk -v good="$GOOD" 'BEGIN { print "email,ts,type"; print good; for (i = 0; i < 150; i++) print "ada@example.com,bad" i ",call" }' >many.csv
check_exit 65 bad-many crm-log $X many.csv
check_eq bad-many-shown 100 "$(grep -c '^crm-log: many\.csv:[0-9]*: ts: invalid time' "$ERR")"
check_eq bad-many-more 1 "$(grep -cx 'crm-log: more bad rows are not shown' "$ERR")"
check_store_same bad-many-store bad-ev.snap $X --events

# An input with two columns of one name is refused, as crm-add refuses it,
# and so is a field given twice in flag mode: an event has each field once.
X2="-D $T/x2"
check_exit 0 dup-setup crm-add $X2 -n --as-of $A1 --email ada@example.com
printf 'email,ts,type,subject,subject\nada@example.com,2024-02-01,call,a,b\n' >dup-col.csv
check_exit 65 bug-dup-column crm-log $X2 dup-col.csv
check_err bug-dup-column-msg '^crm-log: dup-col\.csv:1: duplicate column "subject"$'
check_exit 64 bug-dup-flag crm-log $X2 -c ada@example.com -t call --ts 2024-02-02 --subject a --set subject=b
check_eq bug-dup-nothing-stored 0 "$(nevents $X2)"
# Column names in another letter case, as a spreadsheet writes them, are
# the same columns, as in crm-add: Email, TS, Type and a built-in field
# such as Amount; so two of one name in any case are refused too.
printf 'email,Email,ts,type\nada@example.com,ada@example.com,2024-02-01,call\n' >dup-case.csv
check_exit 65 dup-case crm-log $X2 dup-case.csv
check_err dup-case-msg '^crm-log: dup-case\.csv:1: duplicate column "Email"$'
printf 'email,ts,type,amount,Amount\nada@example.com,2024-02-01,purchase,5,6\n' >dup-case2.csv
check_exit 65 dup-case-field crm-log $X2 dup-case2.csv
check_eq dup-case-nothing-stored 0 "$(nevents $X2)"
X3="-D $T/x3"
check_exit 0 caps-setup crm-add $X3 -n --as-of $A1 --email ada@example.com
printf ' Email ,TS,Type,Amount,Order_ID,Note\nADA@example.com,2024-02-03T10:00:00Z,purchase,7.5,O-9,first\n' >caps.csv
check_exit 0 caps crm-log $X3 caps.csv
check_out caps-stored 'id,contact,email,ts,type,amount,order_id,Note
1,1,ada@example.com,2024-02-03T10:00:00Z,purchase,7.5,O-9,first' crm-export $X3 --events
check_exit 0 caps-rerun crm-log $X3 -v caps.csv
check_stderr caps-rerun-msg 'crm-log: 0 events added, 1 already stored, 0 contacts created'

# A header with a NUL byte or another control character is refused on
# line 1 (crm(7): text is UTF-8 without control characters); nothing stored.
printf 'email,ts,type,metric\000x\nada@example.com,2024-02-01,call,v\n' >nul-header.csv
check_exit 65 bad-nul-in-header crm-log $X2 nul-header.csv
check_err bad-nul-in-header-msg '^crm-log: nul-header\.csv:1: column 4: a column name is UTF-8 text without control characters$'
printf 'email,ts,type,a\tb\nada@example.com,2024-02-01,call,v\n' >tab-header.csv
check_exit 65 bad-tab-in-header crm-log $X2 tab-header.csv
check_eq bad-header-nothing-stored 0 "$(nevents $X2)"

# Missing input: 66; an unreadable config: 78.
check_exit 66 missing-input crm-log $X nosuch.csv
check_err missing-input-msg '^crm-log: nosuch\.csv'
printf 'types: [call\n' >broken.yaml
check_exit 78 broken-config crm-log $X --config broken.yaml multi.csv
check_exit 78 missing-config crm-log $X --config nosuch.yaml multi.csv
check_store_same bad-other-store bad-ev.snap $X --events

## -r: good rows committed, bad ones written with _line and _error.
R="-D $T/r"
check_exit 0 reject-setup crm-add $R -n --as-of $A1 --email ada@example.com
cat >r.csv <<'EOF'
email,ts,type,amount,note
ada@example.com,2024-05-01,purchase,5,ok
nobody@example.com,2024-05-01,call,,x
ada@example.com,bad,call,,"has, comma"
ada@example.com,2024-05-02,visit,,fine
ada@example.com,2024-05-03,refund,,no amount
EOF
check_exit 0 reject crm-log $R -r rej.csv r.csv
check_empty reject-stdout "$OUT"
check_err reject-msg-3 '^crm-log: r\.csv:3: .*no contact with email "nobody@example\.com"$'
check_err reject-msg-4 '^crm-log: r\.csv:4: ts: invalid time "bad"$'
check_lastline reject-last 'crm-log: 3 bad rows written to rej.csv'
check_file reject-file 'email,ts,type,amount,note,_line,_error
nobody@example.com,2024-05-01,call,,x,3,"r.csv:3: email: no contact with email ""nobody@example.com"""
ada@example.com,bad,call,,"has, comma",4,"r.csv:4: ts: invalid time ""bad"""
ada@example.com,2024-05-03,refund,,no amount,6,r.csv:6: amount: a refund needs an amount' rej.csv
check_eq reject-good-committed "purchase,5,ok|visit,,fine|" "$(events $R | cut -d, -f5- | tr '\n' '|')"
check_eq reject-stats "2,1,5.00" "$(stat1 $R ada@example.com events,purchases,revenue)"
# The corrected reject file is read back; its _line and _error columns are
# not event fields (crm-add ignores them too).
sed -i -e '/nobody/d' -e 's/,bad,/,2024-05-04,/' -e 's/refund,,/refund,1,/' rej.csv
check_exit 0 reject-reread crm-log $R rej.csv
check_eq reject-reread-count 4 "$(nevents $R)"
check_eq bug-reject-reread-no-line-field "$EVH,amount,note" "$(crm-export $R --events | head -n 1)"
# A reject file that cannot be created: 73, before any work.
check_exit 73 reject-cannot-create crm-log $R -r /dev/null/rej.csv r.csv

## --create: an unknown e-mail makes a contact.
N="-D $T/n"
check_exit 0 create-setup crm-add $N -n --as-of $A1 --email old@example.com
printf 'email,ts,type\nnew@example.com,2024-06-01,call\n NEW@Example.com,2024-06-02,call\nold@example.com,2024-06-03,call\n' >n.csv
check_exit 65 create-without crm-log $N n.csv
check_exit 0 create crm-log $N --create -v --as-of $N1 n.csv
check_stderr create-summary 'crm-log: 3 events added, 0 already stored, 1 contact created'
check_out create-contact "id,email,created_at,updated_at,events,first_seen_at,last_seen_at
2,new@example.com,$N1,$N1,2,2024-06-01T00:00:00Z,2024-06-02T00:00:00Z" \
    crm-export $N --email new@example.com --fields id,email,created_at,updated_at,events,first_seen_at,last_seen_at
check_exit 0 create-flag crm-log $N --create --as-of $N1 -c flag@example.com -t note --ts 2024-06-04
check_eq create-flag-contact "3,1" "$(stat1 $N flag@example.com id,events)"
# An id cannot create a contact, nor can an invalid address.
printf 'contact,ts,type\n42,2024-06-01,call\n' >n-id.csv
check_exit 65 create-by-id crm-log $N --create n-id.csv
check_err create-by-id-msg '^crm-log: n-id\.csv:2: .*no contact with id 42$'
printf 'email,ts,type\nbob@,2024-06-01,call\n' >n-bad.csv
check_exit 65 create-invalid-email crm-log $N --create n-bad.csv
check_eq create-nothing-more 3 "$(crm-export $N --fields id | sed 1d | wc -l | tr -d ' ')"
# Created contacts are audited as created (an audit entry per run).
if command -v mdb_dump >/dev/null 2>&1; then
	mdb_dump -p -s audit "$T/n" >n-audit.txt
	check_eq audit-entries 2 "$(grep -c 'crm-log' n-audit.txt)"
	check_match audit-counts '3 events added, 1 contacts created' "$(grep 'crm-log' n-audit.txt | head -n 1)"
	check_eq audit-no-personal-data 0 "$(grep -c -e 'new@example' -e 'flag@example' n-audit.txt)"
	# A run that adds nothing leaves no entry.
	check_exit 0 audit-noop crm-log $N n.csv
	check_eq audit-noop-entries 2 "$(mdb_dump -p -s audit "$T/n" | grep -c 'crm-log')"
else
	skip audit "no mdb_dump (apt-get install lmdb-utils)"
fi

## The config's types: only those types are accepted.
Y="-D $T/y"
check_exit 0 types-setup crm-add $Y -n --as-of $A1 --email ada@example.com
printf 'email,ts,type\nada@example.com,2024-06-01,call\n' >y-call.csv
printf 'email,ts,type\nada@example.com,2024-06-01,visit\n' >y-visit.csv
check_exit 0 types-allowed crm-log $Y --config types.yaml y-call.csv
check_exit 65 types-refused crm-log $Y --config types.yaml y-visit.csv
check_err types-refused-msg '^crm-log: y-visit\.csv:2: .*type "visit" is not in the config'"'"'s types$'
CRM_CONFIG=$T/types.yaml check_exit 65 types-env crm-log $Y y-visit.csv
mkdir -p "$XDG_CONFIG_HOME/crm"
cp types.yaml "$XDG_CONFIG_HOME/crm/config.yaml"
check_exit 65 types-xdg crm-log $Y y-visit.csv
check_exit 65 types-flag crm-log $Y -c ada@example.com -t visit
check_stderr types-flag-msg "crm-log: type: type \"visit\" is not in the config's types"
# Types are compared exactly.
check_exit 65 types-case crm-log $Y -c ada@example.com -t Call
rm -f "$XDG_CONFIG_HOME/crm/config.yaml"
check_exit 0 types-any-without crm-log $Y y-visit.csv
check_eq types-stored "call visit" "$(events $Y | cut -d, -f5 | tr '\n' ' ' | sed 's/ $//')"

## Two writers at once: the second waits and says so; --no-wait exits 75.
if [ -n "$CRM_TEST_WRAP" ]; then SETTLE=${CRM_TEST_SETTLE:-10}; else SETTLE=${CRM_TEST_SETTLE:-2}; fi
L=$T/lock
check_exit 0 lock-setup crm-add -D "$L" -n --as-of $A1 --email w@example.com
rm -f fifo
mkfifo fifo
# The holder reads rows from a FIFO kept open on fd 3: crm-log takes the
# writers' lock before it reads its input.  Every other process started
# meanwhile closes fd 3, or the holder would never see the end.
timeout 120 $CRM_TEST_WRAP "$BIN/crm-log" -D "$L" fifo 2>holder.err &
holder=$!
exec 3<>fifo
printf 'email,ts,type\nw@example.com,2024-01-01,call\n' >&3
sleep "$SETTLE"
run timeout 30 $CRM_TEST_WRAP "$BIN/crm-log" -D "$L" --no-wait -c w@example.com -t note --ts 2024-01-02 3>&-
check_eq lock-no-wait 75 "$RC"
check_stderr lock-no-wait-msg "crm-log: store $L is busy"
check_empty lock-no-wait-stdout "$OUT"
run timeout 30 $CRM_TEST_WRAP "$BIN/crm-log" -D "$L" --no-wait -q -c w@example.com -t note --ts 2024-01-02 3>&-
check_eq lock-no-wait-quiet 75 "$RC"
# Readers are not blocked, and see the last commit.
run timeout 30 $CRM_TEST_WRAP "$BIN/crm-export" -D "$L" --events 3>&-
check_eq lock-reader-not-blocked 0 "$RC"
check_stdout lock-reader-sees-last-commit "$EVH"
run timeout 30 $CRM_TEST_WRAP "$BIN/crm-show" -D "$L" w@example.com 3>&-
check_eq lock-show-not-blocked 0 "$RC"
# Writers wait: another crm-log, quiet or not, and crm-add too.
timeout 120 $CRM_TEST_WRAP "$BIN/crm-log" -D "$L" -c w@example.com -t visit --ts 2024-01-03 2>waiter.err 3>&- &
waiter=$!
printf 'email,ts,type\nw@example.com,2024-01-04,meeting\n' >w.csv
timeout 120 $CRM_TEST_WRAP "$BIN/crm-log" -D "$L" -q w.csv 2>quiet.err 3>&- &
quiet=$!
timeout 120 $CRM_TEST_WRAP "$BIN/crm-add" -D "$L" -n --email w2@example.com 2>adder.err 3>&- &
adder=$!
sleep "$SETTLE"
check_eq lock-waiter-says-so 1 "$(grep -cx "crm-log: store $L is busy, waiting for the lock" waiter.err)"
check_eq lock-add-waits-for-log 1 "$(grep -cx "crm-add: store $L is busy, waiting for the lock" adder.err)"
if kill -0 "$waiter" 2>/dev/null; then ok lock-waiter-waits; else fail lock-waiter-waits "waiter did not wait"; fi
check_eq lock-nothing-yet "$EVH" "$(crm-export -D "$L" --events 3>&-)"
printf 'w@example.com,2024-01-05,call\n' >&3
exec 3>&-
wait "$holder"
check_eq lock-holder-exit 0 "$?"
wait "$waiter"
check_eq lock-waiter-exit 0 "$?"
wait "$quiet"
check_eq lock-quiet-exit 0 "$?"
wait "$adder"
check_eq lock-adder-exit 0 "$?"
check_eq lock-waiter-message-once 1 "$(grep -c 'busy' waiter.err)"
check_empty lock-quiet-no-message quiet.err
check_eq lock-all-committed "2024-01-01 call|2024-01-03 visit|2024-01-04 meeting|2024-01-05 call|" \
    "$(events -D "$L" | awk -F, '{ print substr($4, 1, 10), $5 }' | sort | tr '\n' '|')"
check_eq lock-stats "4,2024-01-01T00:00:00Z,2024-01-05T00:00:00Z" "$(stat1 -D "$L" w@example.com events,first_seen_at,last_seen_at)"
check_eq lock-no-wait-not-committed 0 "$(events -D "$L" --type note | wc -l | tr -d ' ')"
check_exit 0 lock-free-again crm-log -D "$L" --no-wait -c w@example.com -t note --ts 2024-01-06

# A writer interrupted while it reads commits nothing and frees the lock.
snap kill.snap -D "$L"
snap kill-ev.snap -D "$L" --events
rm -f fifo
mkfifo fifo
timeout 120 $CRM_TEST_WRAP "$BIN/crm-log" -D "$L" fifo 2>killed.err &
victim=$!
exec 3<>fifo
printf 'email,ts,type,amount\nw@example.com,2024-02-01,purchase,5\nw@example.com,2024-02-02,subscribe,\n' >&3
sleep "$SETTLE"
kill -TERM "$victim" 2>/dev/null
sleep 1
exec 3>&-
wait "$victim"
rc=$?
if [ $rc -ne 0 ]; then ok kill-nonzero-exit; else fail kill-nonzero-exit "exit 0 after SIGTERM"; fi
check_eq kill-says-so 1 "$(grep -cx 'crm-log: interrupted; nothing committed' killed.err)"
check_store_same kill-nothing-committed kill.snap -D "$L"
check_store_same kill-no-event kill-ev.snap -D "$L" --events
run timeout 30 $CRM_TEST_WRAP "$BIN/crm-log" -D "$L" --no-wait -c w@example.com -t note --ts 2024-02-03
check_eq kill-lock-released 0 "$RC"

## crm-export --events: selection and formats.
E="-D $T/e"
printf 'email\ne1@example.com\ne2@example.com\ne3@example.com\n' >e.csv
check_exit 0 export-setup crm-add $E -n --as-of $A1 e.csv
cat >ev.csv <<'EOF'
email,ts,type,amount,order_id,subject,note
e2@example.com,2024-01-10T10:00:00Z,call,,,hello,
e1@example.com,2024-01-05T00:00:00Z,purchase,10.00,P1,,
e1@example.com,2024-01-20T00:00:00Z,call,,,"a, b",
e2@example.com,2024-01-01T00:00:00Z,purchase,5,P2,,
e1@example.com,2024-01-10T00:00:00Z,refund,2.50,P1,,"say ""no"""
e2@example.com,2024-02-01T00:00:00Z,note,,,,"tab	and
newline"
EOF
check_exit 0 export-import crm-log $E ev.csv
# By contact, then time; the columns those of the events written, in order
# of first sight.
check_out export-all "$EVH,amount,order_id,note,subject
2,1,e1@example.com,2024-01-05T00:00:00Z,purchase,10.00,P1,,
5,1,e1@example.com,2024-01-10T00:00:00Z,refund,2.50,P1,\"say \"\"no\"\"\",
3,1,e1@example.com,2024-01-20T00:00:00Z,call,,,,\"a, b\"
4,2,e2@example.com,2024-01-01T00:00:00Z,purchase,5,P2,,
1,2,e2@example.com,2024-01-10T10:00:00Z,call,,,,hello
6,2,e2@example.com,2024-02-01T00:00:00Z,note,,,\"tab	and
newline\"," crm-export $E --events
check_out export-type "$EVH,subject
3,1,e1@example.com,2024-01-20T00:00:00Z,call,\"a, b\"
1,2,e2@example.com,2024-01-10T10:00:00Z,call,hello" crm-export $E --events --type call
check_out export-types "$EVH,amount,order_id,note
2,1,e1@example.com,2024-01-05T00:00:00Z,purchase,10.00,P1,
5,1,e1@example.com,2024-01-10T00:00:00Z,refund,2.50,P1,\"say \"\"no\"\"\"
4,2,e2@example.com,2024-01-01T00:00:00Z,purchase,5,P2," crm-export $E --events --type purchase --type refund
check_out export-types-list "$(crm-export $E --events --type purchase --type refund)" crm-export $E --events --type refund,purchase
# --since is inclusive, --until exclusive; offsets allowed.
check_out export-since-until "$EVH,amount,order_id,note
2,1,e1@example.com,2024-01-05T00:00:00Z,purchase,10.00,P1,
5,1,e1@example.com,2024-01-10T00:00:00Z,refund,2.50,P1,\"say \"\"no\"\"\"" crm-export $E --events --since 2024-01-05 --until 2024-01-10T11:00:00+01:00
check_out export-until-exclusive "$EVH,amount,order_id,note,subject
2,1,e1@example.com,2024-01-05T00:00:00Z,purchase,10.00,P1,,
5,1,e1@example.com,2024-01-10T00:00:00Z,refund,2.50,P1,\"say \"\"no\"\"\",
1,2,e2@example.com,2024-01-10T10:00:00Z,call,,,,hello" crm-export $E --events --since 2024-01-05 --until 2024-01-10T11:00:01+01:00
check_out export-email "$EVH,amount,order_id,subject
4,2,e2@example.com,2024-01-01T00:00:00Z,purchase,5,P2,
1,2,e2@example.com,2024-01-10T10:00:00Z,call,,,hello" crm-export $E --events --email ' E2@example.com ' --until 2024-02-01
check_out export-id "$EVH,subject
3,1,e1@example.com,2024-01-20T00:00:00Z,call,\"a, b\"" crm-export $E --events --id 1 --type call
check_out export-id-and-email "$EVH,subject
3,1,e1@example.com,2024-01-20T00:00:00Z,call,\"a, b\"
1,2,e2@example.com,2024-01-10T10:00:00Z,call,hello" crm-export $E --events --id 2 --email e1@example.com --id 1 --type call
check_out export-none "$EVH" crm-export $E --events --email e3@example.com
check_out export-none-type "$EVH" crm-export $E --events --type survey
check_out export-tsv "id	contact	email	ts	type	subject	note
1	2	e2@example.com	2024-01-10T10:00:00Z	call	hello	
6	2	e2@example.com	2024-02-01T00:00:00Z	note		tab\\tand\\nnewline" crm-export $E --events -F tsv --email e2@example.com --type call,note
run crm-export $E --events -F ndjson --email e1@example.com
check_eq export-ndjson-exit 0 "$RC"
check_stdout export-ndjson '{"id":"2","contact":"1","email":"e1@example.com","ts":"2024-01-05T00:00:00Z","type":"purchase","amount":"10.00","order_id":"P1"}
{"id":"5","contact":"1","email":"e1@example.com","ts":"2024-01-10T00:00:00Z","type":"refund","amount":"2.50","order_id":"P1","note":"say \"no\""}
{"id":"3","contact":"1","email":"e1@example.com","ts":"2024-01-20T00:00:00Z","type":"call","subject":"a, b"}'
check_out export-o "" crm-export $E --events -o ev-out.csv
check_file export-o-file "$(crm-export $E --events)" ev-out.csv
# Selections that name no contact: reported, exit 1, the header alone.
check_exit 1 export-unknown-email crm-export $E --events --email nobody@example.com
check_stderr export-unknown-email-msg 'crm-export: no contact with email "nobody@example.com"'
check_stdout export-unknown-email-header "$EVH"
check_exit 1 export-unknown-id crm-export $E --events --id 2,99
check_stderr export-unknown-id-msg 'crm-export: no contact with id 99'
check_stdout export-unknown-id-others "$(crm-export $E --events --id 2)"
# Usage errors.
for u in "--type call" "--until 2024-01-01" "--events --fields id" "--events --type x,bad!" \
    "--events --until never" "--events --since never" "--events --id 0"; do
	check_exit 64 "export-usage $u" crm-export $E $u
	check_empty "export-usage-stdout $u" "$OUT"
done
# An event field named like a statistic is no number: the NDJSON stays JSON.
check_exit 0 export-stat-named-field crm-log $E -c e3@example.com -t note --ts 2024-03-01 --set revenue=lots --set events=many
run crm-export $E --events -F ndjson --email e3@example.com
if command -v jq >/dev/null 2>&1; then
	check_eq export-stat-named-field-json 'lots many' "$(jq -r '.revenue + " " + .events' "$OUT" 2>&1)"
else
	check_stdout export-stat-named-field-json '{"id":"7","contact":"3","email":"e3@example.com","ts":"2024-03-01T00:00:00Z","type":"note","revenue":"lots","events":"many"}'
fi
# A closed pipe ends the export quietly.
awk 'BEGIN { print "email,ts,type,subject"; for (i = 0; i < 20000; i++) printf "e1@example.com,2024-05-01T00:00:%02dZ,note,some text to make the rows longer %d\n", i % 60, i }' >lots.csv
check_exit 0 export-pipe-setup crm-log -D "$T/lots" --create lots.csv
crm-export -D "$T/lots" --events 2>"$ERR" | head -n 1 >/dev/null
rc=${PIPESTATUS[0]}
check_empty export-pipe-quiet "$ERR"
case $rc in
0 | 141) ok export-pipe-status ;;
*) fail export-pipe-status "exit $rc after the reader went away" ;;
esac

## Round trip: crm-export --events | crm-log --create into another store
## gives the same events and statistics.
# same_events NAME DIR-A DIR-B: the events (less event and contact ids,
# which the new store gives anew) and the statistics by e-mail.
same_events() {
	crm-export -D "$2" --events | cut -d, -f3- >"$1.a"
	crm-export -D "$3" --events | cut -d, -f3- >"$1.b"
	check_file "$1-events" "$1.a" "$1.b"
	# Contacts without events are not copied.
	crm-export -D "$2" --fields "email,$STATS" | awk -F, '$4 != 0' | sort >"$1.sa"
	crm-export -D "$3" --fields "email,$STATS" | awk -F, '$4 != 0' | sort >"$1.sb"
	check_file "$1-stats" "$1.sa" "$1.sb"
}
if [ -n "$have_py" ]; then RT_SRC=$T/g; else RT_SRC=$T/e; fi
crm-export -D "$RT_SRC" --events | crm-log -D "$T/rt-csv" --create >/dev/null 2>"$ERR"
check_eq rt-csv-exit "0 0" "${PIPESTATUS[*]}"
same_events rt-csv "$RT_SRC" "$T/rt-csv"
crm-export -D "$RT_SRC" --events -F ndjson | crm-log -D "$T/rt-nd" -F ndjson --create >/dev/null 2>"$ERR"
check_eq rt-ndjson-exit "0 0" "${PIPESTATUS[*]}"
same_events rt-ndjson "$RT_SRC" "$T/rt-nd"
crm-export -D "$RT_SRC" --events -F tsv | crm-log -D "$T/rt-tsv" -F tsv --create >/dev/null 2>"$ERR"
check_eq rt-tsv-exit "0 0" "${PIPESTATUS[*]}"
same_events rt-tsv "$RT_SRC" "$T/rt-tsv"
# The events of e-mail, money, consent and time zones tests too.
for d in e m c z; do
	crm-export -D "$T/$d" --events | crm-log -D "$T/rt-$d" --create >/dev/null 2>"$ERR"
	check_eq "rt-$d-exit" "0 0" "${PIPESTATUS[*]}"
	same_events "rt-$d" "$T/$d" "$T/rt-$d"
done
# Read back into a store holding them, an export changes nothing.
snap rt.snap -D "$T/rt-csv"
snap rt-ev.snap -D "$T/rt-csv" --events
crm-export -D "$T/rt-csv" --events | crm-log -D "$T/rt-csv" >/dev/null 2>&1
check_store_same rt-again-contacts rt.snap -D "$T/rt-csv"
check_store_same rt-again-events rt-ev.snap -D "$T/rt-csv" --events
