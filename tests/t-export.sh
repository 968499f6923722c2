# crm-export: order, header, selection, CSV/TSV/NDJSON, missing store,
# and export | add round trips in every format.

A1=2024-01-01T00:00:00Z
A2=2024-02-01T00:00:00Z
A3=2024-03-01T00:00:00Z

have_jq=
command -v jq >/dev/null 2>&1 && have_jq=1

printf 'email,first_name,last_name,city,tags,email_opt_in,consent_at,consent_source,zeta\na@example.com,Ann,Lee,Oslo,x;y,yes,2023-12-01,web,z1\nb@example.com,Bo,,Rome,,no,2023-12-02,web,\n' >e1.csv
check_exit 0 setup-1 crm-add -n --as-of $A1 e1.csv
printf 'email,alpha,zeta,mid\nc@example.com,a3,z3,m3\n' >e2.csv
check_exit 0 setup-2 crm-add -n --as-of $A2 e2.csv
printf 'email,city\nb@example.com,Paris\n' >e3.csv
check_exit 0 setup-3 crm-add -n --as-of $A3 e3.csv

# The core columns, the statistics (none of these contacts has an event),
# then the custom columns in order of first appearance.
HDR="$XCORE,zeta,alpha,mid"
R1="$(xrow id=1 email=a@example.com first_name=Ann last_name=Lee city=Oslo 'tags=x;y' email_opt_in=true consent_at=2023-12-01T00:00:00Z consent_source=web created_at=$A1 updated_at=$A1),z1,,"
R2="$(xrow id=2 email=b@example.com first_name=Bo city=Paris email_opt_in=false consent_at=2023-12-02T00:00:00Z consent_source=web created_at=$A1 updated_at=$A3),,,"
R3="$(xrow id=3 email=c@example.com created_at=$A2 updated_at=$A2),z3,a3,m3"

check_out export-all "$HDR
$R1
$R2
$R3" crm-export
check_out export-csv-explicit "$HDR
$R1
$R2
$R3" crm-export -F csv
check_out export-D "$HDR
$R1
$R2
$R3" crm-export -D "$CRM_DB"

# export_sel NAME EXPECTED ARGS...
check_out sel-id "$HDR
$R2" crm-export --id 2
check_out sel-id-repeat "$HDR
$R1
$R3" crm-export --id 3 --id 1
check_out sel-id-list "$HDR
$R1
$R3" crm-export --id 3,1
# A selected contact that does not exist: reported, the others written, exit 1.
check_exit 1 sel-id-missing crm-export --id 99,2
check_stdout sel-id-missing-out "$HDR
$R2"
check_stderr sel-id-missing-msg 'crm-export: no contact with id 99'
check_exit 1 sel-email-missing crm-export --email Nobody@Example.com
check_stdout sel-email-missing-out "$HDR"
check_stderr sel-email-missing-msg 'crm-export: no contact with email "nobody@example.com"'
check_out sel-email-normalised "$HDR
$R2" crm-export --email ' B@Example.COM '
check_out sel-id-and-email-once "$HDR
$R1
$R2" crm-export --id 2,1 --email a@example.com
check_out sel-id-email-since "$HDR
$R2" crm-export --id 1,2 --since 2024-02-01
check_out sel-email "$HDR
$R2" crm-export --email b@example.com
check_out sel-email-list "$HDR
$R1
$R3" crm-export --email c@example.com,a@example.com
check_out sel-email-repeat "$HDR
$R1
$R3" crm-export --email c@example.com --email a@example.com
check_out sel-since-date "$HDR
$R2
$R3" crm-export --since 2024-02-01
check_out sel-since-time "$HDR
$R2" crm-export --since 2024-02-01T00:00:01Z
check_out sel-since-offset "$HDR
$R2
$R3" crm-export --since '2024-02-01T01:00:00+01:00'
check_out sel-since-none "$HDR" crm-export --since 2030-01-01
check_out sel-fields "email,city
a@example.com,Oslo
b@example.com,Paris
c@example.com," crm-export --fields email,city
check_out sel-fields-custom "id,zeta,email
1,z1,a@example.com
2,,b@example.com
3,z3,c@example.com" crm-export --fields id,zeta,email
check_out sel-fields-and-id "mid,tags
,x;y" crm-export --fields mid,tags --id 1
check_out export-o "" crm-export -o all.csv
check_file export-o-file "$HDR
$R1
$R2
$R3" all.csv

check_out export-o-long "" crm-export --output=all2.csv --fields=email
check_file export-o-long-file "email
a@example.com
b@example.com
c@example.com" all2.csv

## An empty store: a header alone, or nothing in NDJSON.
printf 'email\n' >header-only.csv
check_exit 0 empty-setup crm-add -D "$T/empty" -n header-only.csv
check_out empty-csv "$XCORE" crm-export -D "$T/empty"
check_out empty-tsv "$(echo "$XCORE" | tr , '\t')" crm-export -D "$T/empty" -F tsv
check_out empty-ndjson "" crm-export -D "$T/empty" -F ndjson

## A closed pipe ends the export quietly.
awk 'BEGIN { print "email,first_name,notes"; for (i = 0; i < 5000; i++) printf "p%d@example.com,P%d,some text to make the rows longer than a few bytes\n", i, i }' >many.csv
check_exit 0 pipe-setup crm-add -D "$T/many" -n many.csv
crm-export -D "$T/many" 2>"$ERR" | head -n 1 >/dev/null
rc=${PIPESTATUS[0]}
check_empty pipe-quiet "$ERR"
case $rc in
0 | 141) ok pipe-status ;;
*) fail pipe-status "exit $rc after the reader went away" ;;
esac
run crm-export -D "$T/many"
check_eq pipe-count 5000 "$(csv_rows "$OUT")"

## CSV quoting and TSV escaping.
Q="-D $T/q"
printf 'email,first_name,company,note\nq@example.com,"He said ""hi""","A, B","tab\tnl\ncr\rbs\\"\n' >q.csv
check_exit 0 quote-setup crm-add $Q -n --as-of $A1 q.csv
printf '%s\n%s\n' "$XCORE,note" \
    "$(xrow id=1 email=q@example.com 'first_name="He said ""hi"""' 'company="A, B"' created_at=$A1 updated_at=$A1),\"$(printf 'tab\tnl\ncr\rbs\\')\"" >q.want
check_out csv-quoting q.want crm-export $Q
{
	printf '%s\n' "$XCORE,note" | tr , '\t'
	xrow id=1 email=q@example.com 'first_name=He said "hi"' 'company=A; B' created_at=$A1 updated_at=$A1 |
	    tr , '\t' | sed 's/A; B/A, B/' | tr -d '\n'
	printf '\t%s\n' 'tab\tnl\ncr\rbs\\'
} >q.tsv.want
check_out tsv-escaping q.tsv.want crm-export $Q -F tsv

## NDJSON.
# check_ndjson NAME EXPECTED-FILE ACTUAL-FILE: same JSON values line by line
check_ndjson() {
	if [ -z "$have_jq" ]; then
		_same "$1" "$2" "$3"
		return
	fi
	if ! jq -S -c . <"$3" >"$3.norm" 2>"$DETAIL"; then
		fail "$1" "not valid JSON: $(head -n 1 "$DETAIL")"
		return
	fi
	jq -S -c . <"$2" >"$2.norm"
	_same "$1" "$2.norm" "$3.norm"
}
# Empty values are left out (the statistics times of a contact without
# events too); the counts and the revenue are JSON numbers.
cat >nd.want <<EOF2
{"id":1,"email":"a@example.com","first_name":"Ann","last_name":"Lee","city":"Oslo","tags":["x","y"],"email_opt_in":true,"consent_at":"2023-12-01T00:00:00Z","consent_source":"web","created_at":"$A1","updated_at":"$A1","events":0,"purchases":0,"purchase_days":0,"revenue":0.00,"zeta":"z1"}
{"id":2,"email":"b@example.com","first_name":"Bo","city":"Paris","email_opt_in":false,"consent_at":"2023-12-02T00:00:00Z","consent_source":"web","created_at":"$A1","updated_at":"$A3","events":0,"purchases":0,"purchase_days":0,"revenue":0.00}
{"id":3,"email":"c@example.com","created_at":"$A2","updated_at":"$A2","events":0,"purchases":0,"purchase_days":0,"revenue":0.00,"zeta":"z3","alpha":"a3","mid":"m3"}
EOF2
run crm-export -F ndjson
if [ "$RC" -ne 0 ]; then
	fail ndjson "exit $RC: $(_errline)"
else
	check_ndjson ndjson nd.want "$OUT"
	check_eq ndjson-lines 3 "$(wc -l <"$OUT" | tr -d ' ')"
fi
cat >ndq.want <<'EOF2'
{"id":1,"email":"q@example.com","first_name":"He said \"hi\"","company":"A, B","created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:00Z","events":0,"purchases":0,"purchase_days":0,"revenue":0.00,"note":"tab\tnl\ncr\rbs\\"}
EOF2
run crm-export $Q -F ndjson
if [ "$RC" -ne 0 ]; then
	fail ndjson-escaping "exit $RC: $(_errline)"
else
	check_ndjson ndjson-escaping ndq.want "$OUT"
	check_eq ndjson-escaping-one-line 1 "$(wc -l <"$OUT" | tr -d ' ')"
fi

## Missing store: 66, and the store is not created.
check_exit 66 missing-store-D crm-export -D "$T/nostore"
check_stderr missing-store-D-msg "crm-export: no store at $T/nostore"
check_empty missing-store-D-stdout "$OUT"
if [ -e "$T/nostore" ]; then fail missing-store-not-created "$T/nostore was created"; else ok missing-store-not-created; fi
CRM_DB=$T/nostore2 check_exit 66 missing-store-env crm-export
check_stderr missing-store-env-msg "crm-export: no store at $T/nostore2"
(unset CRM_DB; check_exit 66 missing-store-xdg crm-export; check_stderr missing-store-xdg-msg "crm-export: no store at $XDG_DATA_HOME/crm")
(unset CRM_DB XDG_DATA_HOME; check_exit 66 missing-store-home crm-export; check_stderr missing-store-home-msg "crm-export: no store at $HOME/.local/share/crm")

## Round trips: export of A, added to an empty store B, exports identically.
RA="-D $T/ra"
cat >awk1.csv <<'CSV'
email,first_name,last_name,company,city,country,tags,email_opt_in,consent_at,consent_source,stage,owner,phone,title,source,ext_id,notes,Größe,"quote""col",multi word
ann@example.com,"Ann, Jr.","O""Neil",ACME Inc.,São Paulo,BR,"a;b c;ü",true,2024-01-02T03:04:05Z,web form,lead,kim,+55 11 5555,"CEO, ""Chief""",fair,X-1,"line1
line2",1,"x,y",😀
bo@example.com,Bø,Ærø,,Zürich,CH,,false,2024-01-03,import,customer,,,,,,"tab	here \ back",,,
ci@example.com,  spaced  ,,,,,,,,,,,,,,,"crlf
inside",,,
,,,,,,,,,,,,,,,E-only,,"ß",,
CSV
# the second record's note has a CR LF inside the quotes
sed -i '/^ci@example.com/s/crlf$/crlf\r/' awk1.csv
check_exit 0 rt-setup crm-add $RA -n --as-of $A1 awk1.csv
printf 'id,email,first_name,tags\n10,ten@example.com,"Ten ""10""","t1;""t 2"";t3"\n' >awk2.csv
check_exit 0 rt-setup-id crm-add $RA -n --as-of $A2 awk2.csv
printf 'email,city\nann@example.com,Rio\n' >awk3.csv
check_exit 0 rt-setup-update crm-add $RA -n --as-of $A3 awk3.csv
snap ra.snap $RA
check_eq rt-setup-count 5 "$(grep -c '@example.com\|E-only' ra.snap)"

# round_trip NAME FORMAT
round_trip() {
	local name=$1 fmt=$2 dir=$T/rt-$1
	crm-export $RA -F "$fmt" >"$name.a" 2>"$ERR"
	local rc1=$?
	crm-add -D "$dir" -F "$fmt" -n <"$name.a" 2>>"$ERR"
	local rc2=$?
	if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
		fail "$name" "export exit $rc1, add exit $rc2: $(_errline)"
	else
		ok "$name"
	fi
	check_out "$name-same" "$name.a" crm-export -D "$dir" -F "$fmt"
	check_store_same "$name-same-csv" ra.snap -D "$dir"
}
round_trip rt-csv csv
round_trip rt-ndjson ndjson
round_trip rt-tsv tsv

# A literal pipe, as the spec writes it.
crm-export $RA | crm-add -D "$T/rt-pipe" >/dev/null 2>"$ERR"
check_eq rt-pipe-exit "0 0" "${PIPESTATUS[*]}"
check_store_same rt-pipe-same ra.snap -D "$T/rt-pipe"

# And the round trip into a store that already holds the same contacts
# changes nothing.
crm-export $RA | crm-add $RA -v -n 2>"$ERR" >/dev/null
check_err rt-again-unchanged '^crm-add: 5 rows: 0 created, 0 updated, 5 unchanged$'
check_store_same rt-again-same ra.snap $RA
