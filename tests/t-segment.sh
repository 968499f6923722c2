# crm-segment: filters by expression and by named segment, every operator
# and type rule of crm-expr(7), empty values, unusual CSV passing through
# unchanged, --label/--count/--split, --campaign consent rules, caret
# messages and exit statuses.

NOW=2024-05-20T00:00:00Z
S="crm-segment --as-of $NOW"

HDR='id,email,first_name,country,stage,tags,email_opt_in,consent_at,created_at,last_purchase_at,purchases,revenue,Plan Type,seats'
cat >c.csv <<'EOF'
id,email,first_name,country,stage,tags,email_opt_in,consent_at,created_at,last_purchase_at,purchases,revenue,Plan Type,seats
1,ann@example.com,Ann,DE,customer,vip;newsletter,true,2024-01-01T00:00:00Z,2023-01-10T00:00:00Z,2024-01-15T00:00:00Z,3,250.00,pro,5
2,bob@example.com,Bob,FR,lead,,false,2024-02-01T00:00:00Z,2024-03-01T00:00:00Z,,0,0,free,
3,cy@example.org,Cy,DE,customer,newsletter,,,2022-06-01T00:00:00Z,2024-05-01T00:00:00Z,1,99.99,free,1
4,dee@example.com,Dee,AT,prospect,"vip;""odd;tag""",yes,2024-03-01,2024-04-01T00:00:00Z,,0,,team,12
5,Ann@Example.com,Änne,CH,customer,newsletter,true,2024-04-01T00:00:00Z,2024-05-19T12:00:00Z,2024-02-19T23:59:59Z,2,100,pro,10
EOF
R1=$(sed -n 2p c.csv)
R2=$(sed -n 3p c.csv)
R3=$(sed -n 4p c.csv)
R4=$(sed -n 5p c.csv)
R5=$(sed -n 6p c.csv)

# ids EXPR: the ids of the rows -e EXPR keeps, space-separated.
ids() {
	$S -e "$1" c.csv 2>"$ERR" | csv_col id | tr '\n' ' ' | sed 's/ $//'
}

## Rows pass through whole and unchanged, header once.
check_out filter-basic "$HDR
$R1
$R3" $S -e 'country == "DE"' c.csv
check_out filter-quoted-row "$HDR
$R4" $S -e 'country == "AT"' c.csv
check_out filter-stdin "$HDR
$R2" $S -e 'country == "FR"' <c.csv
check_out filter-dash "$HDR
$R2" $S -e 'country == "FR"' - <c.csv
check_out filter-two-files "$HDR
$R2
$R2" $S -e 'country == "FR"' c.csv c.csv
check_out filter-long-options "$HDR
$R2" crm-segment --as-of=$NOW --expr='country == "FR"' c.csv

## Every operator and type rule, on the fixture (now = 2024-05-20).
while IFS='|' read -r want expr; do
	[ -n "$expr" ] || continue
	check_eq "op: $expr" "$want" "$(ids "$expr")"
done <<'EOF'
1 3|country == "DE"
2 4 5|country != "DE"
2|country > "DE"
4|country < "DE" and country != "CH"
1 3 5|stage == 'customer'
1 3 5|stage in ("customer", "churned")
2 4|stage not in ("customer")
1 5|revenue > 99.99
3 5|revenue <= 100 and revenue > 0
5|revenue == 100.000
2|revenue == 0
1 2 3 5|revenue >= 0
4|revenue is empty
1 3 5|purchases >= 1
2 4|purchases < 1
4 5|seats >= 10
4|seats > 10
3|seats in (1, 2)
4 5|seats > 9
1|seats == "5"
1 3|created_at < 2024-01-01
2 4 5|created_at >= 2024-01-01
5|created_at >= now - 1d
4 5|created_at >= now - 2mo
5|created_at > 2024-05-19T13:00:00+02:00
1 5|last_purchase_at < now - 90d
3|last_purchase_at >= now - 90d
3|not (last_purchase_at < now - 90d)
2 4|last_purchase_at is empty
1 3 5|last_purchase_at is not empty
5|last_purchase_at + 90d < now and created_at > 2024-05-01
1 4 5|email_opt_in
2|not email_opt_in
1 4 5|email_opt_in == true
2|email_opt_in != true
3|email_opt_in is empty
1 4|tags has "vip"
4|tags has "odd;tag"
2 3 5|not (tags has "vip")
1 3 5|tags has "newsletter"
1 4|tags contains "vip"
1 2 4|email =~ "@example\.com$"
1 2 4 5|email =~ /@EXAMPLE\.COM$/i
3 5|email !~ /example\.com/
5|email matches "^[A-Z]"
1 2 5|first_name starts with "A" or first_name starts with "B" or first_name starts with "Ä"
1|first_name starts with "An"
1|first_name ends with "nn"
5|first_name == "Änne"
5|first_name > "Z"
1 5|`Plan Type` == "pro"
1 4 5|`Plan Type` > "free"
1 3|country == "DE" and (stage == "customer" or stage == "lead")
1 3 4|country == "DE" or country == "AT"
1|country == "DE" and revenue >= 100 and last_purchase_at < now - 90d
1 2 3 4 5|id >= 1
4 5|id in (4, 5)
|country == "XX"
EOF

## --as-of is "now"; without it, the current time.
check_eq as-of-later '1 3 5' "$(crm-segment --as-of 2024-08-15 -e 'last_purchase_at < now - 90d' c.csv | csv_col id | tr '\n' ' ' | sed 's/ $//')"
check_eq as-of-today '1 3 5' "$(crm-segment -e 'last_purchase_at < now - 90d' c.csv | csv_col id | tr '\n' ' ' | sed 's/ $//')"

## A field typed in the config is compared as its type.
printf 'fields:\n  seats: int\n  Plan Type: {type: enum, values: [free, pro, team]}\n' >typed.yaml
check_eq typed-untyped-text '' "$(ids 'seats > "9"')"
check_eq typed-int '4 5' "$($S -c typed.yaml -e 'seats > "9"' c.csv | csv_col id | tr '\n' ' ' | sed 's/ $//')"
check_eq typed-enum-order '4' "$($S -c typed.yaml -e '`Plan Type` > "pro"' c.csv | csv_col id | tr '\n' ' ' | sed 's/ $//')"
check_exit 64 typed-enum-value $S -c typed.yaml -e '`Plan Type` == "gold"' c.csv
check_err typed-enum-value-msg '"gold" is not a value of Plan Type: free, pro, team'
check_exit 78 config-missing $S -c nosuch.yaml -e 'id == 1' c.csv
check_err config-missing-msg 'nosuch\.yaml'

## Empty values never compare true; is empty tests for them.
check_eq empty-never-true '' "$(ids 'email_opt_in == true and email_opt_in == false')"
check_eq empty-not-either '' "$(ids 'last_purchase_at < now - 90d and id == 2')"
check_eq empty-negated '' "$(ids 'not (last_purchase_at >= now - 90d) and id == 2')"
check_eq empty-or '2' "$(ids 'last_purchase_at < 2000-01-01 or id == 2')"

## -v: the rows the expression does not select, unknown ones included.
check_out invert "$HDR
$R2
$R4" $S -v -e 'last_purchase_at is not empty' c.csv
check_out invert-unknown "$HDR
$R2
$R3" $S -v -e 'email_opt_in' c.csv
check_out invert-long "$HDR
$R2
$R4" $S --invert -e 'last_purchase_at is not empty' c.csv

## Exit statuses: 0 matched, 1 none (header still written), -q.
check_exit 0 exit-match $S -e 'id == 1' c.csv
check_exit 1 exit-none $S -e 'id == 99' c.csv
check_stdout exit-none-header "$HDR"
check_exit 0 quiet-match $S -q -e 'id == 1' c.csv
check_empty quiet-match-out "$OUT"
check_exit 1 quiet-none $S -q -e 'id == 99' c.csv
check_empty quiet-none-out "$OUT"
check_exit 0 quiet-long $S --quiet -e 'id == 1' c.csv
printf '' >empty.csv
check_exit 1 empty-input $S -e 'id == 1' empty.csv
check_empty empty-input-out "$OUT"
printf 'id,x\n' >header-only.csv
check_exit 1 header-only $S -e 'id == 1' header-only.csv
check_stdout header-only-header 'id,x'
check_exit 66 missing-input $S -e 'id == 1' c.csv nosuch.csv
check_err missing-input-msg '^crm-segment: nosuch\.csv: No such file'
check_empty missing-input-nothing-written "$OUT"

## Usage errors.
check_exit 64 usage-nothing $S c.csv
check_err usage-nothing-msg 'nothing to select by'
check_exit 64 usage-two-e $S -e 'id == 1' -e 'id == 2' c.csv
check_exit 64 usage-bad-format $S -F xml -e 'id == 1' c.csv
check_exit 64 usage-bad-asof crm-segment --as-of yesterday -e 'id == 1' c.csv
check_err usage-bad-asof-msg 'invalid time "yesterday"'
check_exit 64 usage-bad-option $S --bogus c.csv
check_exit 64 usage-split-o $S --split d -o x.csv c.csv
check_exit 64 usage-quiet-o $S -q -o x.csv -e 'id == 1' c.csv
check_exit 64 usage-count-label $S --count --label c.csv
check_exit 64 usage-default-alone $S --default x -e 'id == 1' c.csv
check_exit 64 usage-invert-label $S -v --label c.csv
run crm-segment -h
check_eq help-exit 0 "$RC"
check_match help-usage '^usage: crm-segment ' "$(head -n 1 "$OUT")"
check_out version 'crm-segment (crm) 0.1.0' crm-segment --version

## Errors in -e show the expression and a caret under the fault.
check_exit 64 caret-unknown-column $S -e 'country == "DE" and contry == "AT"' c.csv
check_stderr caret-unknown-column-msg 'crm-segment: -e: column 21: unknown column "contry"
  country == "DE" and contry == "AT"
                      ^'
check_empty caret-nothing-written "$OUT"
check_exit 64 caret-parse $S -e 'revenue >= 100 and (country == "DE"' c.csv
check_stderr caret-parse-msg 'crm-segment: -e: column 36: expected ) or an operator
  revenue >= 100 and (country == "DE"
                                     ^'
check_exit 64 caret-types $S -e 'revenue > "lots"' c.csv
check_stderr caret-types-msg 'crm-segment: -e: column 11: revenue is a number, and "lots" is not one
  revenue > "lots"
            ^'
check_exit 64 caret-utf8 $S -e 'first_name == "Änne" and x' c.csv
check_stderr caret-utf8-msg 'crm-segment: -e: column 26: unknown column "x"
  first_name == "Änne" and x
                           ^'
# A syntax error is found even when no row comes.
check_exit 64 caret-no-input $S -e 'id ==' empty.csv
check_err caret-no-input-msg 'the expression ends where a value is expected'

## Unusual CSV: quotes, commas, embedded newlines, CRLF, BOM, UTF-8.
printf 'name,note,n\r\n"Doe, Jane","say ""hi""",1\r\n"multi\nline",plain,2\r\nZoë,"ümlaut, 🎉",3\r\n' >odd.csv
check_out odd-quotes 'name,note,n
"Doe, Jane","say ""hi""",1' $S -e 'n == 1' odd.csv
check_out odd-newline 'name,note,n
"multi
line",plain,2' $S -e 'name contains "line"' odd.csv
check_out odd-utf8 'name,note,n
Zoë,"ümlaut, 🎉",3' $S -e 'note contains "🎉" and name == "Zoë"' odd.csv
printf '\357\273\277a,b\n1,2\n3,4' >bom.csv
check_out odd-bom-last-line 'a,b
3,4' $S -e 'a == 3' bom.csv
printf 'a,b\n"unquoted-needless",x\n' >needless.csv
check_out odd-needless-quotes 'a,b
"unquoted-needless",x' $S -e 'b == "x"' needless.csv

## Bad rows are reported with file and line, skipped, and make exit 65.
printf 'id,v\n1,a\n2,b,extra\n3,"x"y\n4,\377\n5,e\n' >bad.csv
run $S -e 'id >= 1' bad.csv
check_eq bad-exit 65 "$RC"
check_stdout bad-good-rows 'id,v
1,a
5,e'
check_stderr bad-msgs 'crm-segment: bad.csv:3: expected 2 fields, found 3
crm-segment: bad.csv:4: malformed quoted field
crm-segment: bad.csv:5: column "v": invalid UTF-8'
printf '"id,v\n1,2\n' >badhdr.csv
check_exit 65 bad-header $S -e 'id == 1' badhdr.csv
printf 'id,w\n1,2\n' >other.csv
check_exit 65 header-differs $S -e 'id == 1' c.csv other.csv
check_err header-differs-msg 'other\.csv: its header differs from that of c\.csv'

## TSV and NDJSON, in and out in the same format.
printf 'id\tnote\n1\ta\\tb\n2\tplain\n' >t.tsv
check_out tsv 'id	note
1	a\tb' $S -F tsv -e 'note ends with "b" and note starts with "a"' t.tsv
check_out tsv-escaped-pass-through 'id	note
1	a\tb' $S -F tsv -e 'id == 1' t.tsv
cat >n.ndjson <<'EOF'
{"id":1,"email":"a@example.com","tags":["vip","x"],"email_opt_in":true,"revenue":"120.5"}
{"id":2,"email":"b@example.com","email_opt_in":false}
{"email":"c@example.com","First Name":"Cy","revenue":5}
EOF
check_out ndjson '{"id":1,"email":"a@example.com","tags":["vip","x"],"email_opt_in":true,"revenue":"120.5"}' \
    $S -F ndjson -e 'tags has "vip" and revenue > 100' n.ndjson
check_out ndjson-missing-key '{"email":"c@example.com","First Name":"Cy","revenue":5}' \
    $S -F ndjson -e 'id is empty and first_name == "Cy"' n.ndjson
check_exit 1 ndjson-unknown-key-is-empty $S -F ndjson -e 'nosuch == 1' n.ndjson

## Named segments from the config.
cat >seg.yaml <<'EOF'
fields:
  seats: int
segments:
  vip: tags has "vip"
  at_risk: 'last_purchase_at < now - 90d and purchases >= 2'
  big: revenue >= 100
  dach: country in ("DE", "AT", "CH")
EOF
C="$S -c seg.yaml"
check_out seg-one "$HDR
$R1
$R5" $C -s at_risk c.csv
check_out seg-two "$HDR
$R1
$R4
$R5" $C -s vip,at_risk c.csv
check_out seg-repeat "$HDR
$R1
$R4
$R5" $C -s at_risk -s vip c.csv
check_out seg-and-e "$HDR
$R5" $C -s at_risk -e 'country == "CH"' c.csv
check_out seg-invert "$HDR
$R2
$R3" $C -v -s vip,at_risk c.csv
check_exit 64 seg-unknown $C -s nope c.csv
check_stderr seg-unknown-msg 'crm-segment: no segment "nope" in the config'
CRM_CONFIG=seg.yaml check_out seg-env-config "$HDR
$R1
$R5" $S -s at_risk c.csv

## --label: the first matching segment in config order.
check_out label "$HDR,segment
$R1,vip
$R2,
$R3,dach
$R4,vip
$R5,at_risk" $C --label c.csv
check_out label-default "$HDR,segment
$R1,vip
$R2,other
$R3,dach
$R4,vip
$R5,at_risk" $C --label --default other c.csv
check_out label-selected "$HDR,seg
$R1,big
$R2,
$R3,dach
$R4,dach
$R5,big" $C --label=seg -s dach,big c.csv
check_out label-filtered "$HDR,segment
$R3,dach" $C --label -e 'id == 3' c.csv
check_exit 65 label-exists $C --label=country c.csv
check_err label-exists-msg 'already has a column "country"'
# Labelled rows, but none in a segment: exit 1.
check_exit 1 label-ndjson $C -F ndjson --label -e 'id != 1 or id is empty' n.ndjson
check_stdout label-ndjson-out '{"id":2,"email":"b@example.com","email_opt_in":false,"segment":""}
{"email":"c@example.com","First Name":"Cy","revenue":5,"segment":""}'
check_out label-ndjson-vip '{"id":1,"email":"a@example.com","tags":["vip","x"],"email_opt_in":true,"revenue":"120.5","segment":"vip"}' \
    $C -F ndjson --label -e 'id == 1' n.ndjson
printf '{}\n' >emptyobj.ndjson
check_exit 1 label-ndjson-empty-object $C -F ndjson --label --default none emptyobj.ndjson
check_stdout label-ndjson-empty-object-out '{"segment":"none"}'
check_exit 1 label-none-matched $C --label -s big -e 'id == 2' c.csv
check_exit 1 label-default-quoted $C --label --default 'x, y' -s vip -e 'id == 2' c.csv
check_stdout label-default-quoted-out "$HDR,segment
$R2,\"x, y\""

## --count: a count per segment, and the rows in none.
check_out count "segment,count
vip,2
at_risk,1
big,0
dach,1
,1" $C --count c.csv
check_out count-default "segment,count
big,2
rest,3" $C --count -s big --default rest c.csv
check_out count-e-only '2' $S --count -e 'country == "DE"' c.csv
check_exit 1 count-none $S --count -e 'id == 9' c.csv
check_stdout count-none-out '0'
printf 'id\trevenue\n1\t250\n2\t0\n3\t100\n' >r.tsv
check_out count-tsv "segment	count
big	2
	1" $C -F tsv --count -s big r.tsv
check_out count-ndjson '{"segment":"vip","count":1}
{"segment":"","count":2}' $C -F ndjson --count -s vip n.ndjson

## --split: one file per segment, a header in each.
check_out split '' $C --split out c.csv
check_file split-vip "$HDR
$R1
$R4" out/vip.csv
check_file split-at-risk "$HDR
$R5" out/at_risk.csv
check_file split-big "$HDR" out/big.csv
check_file split-dach "$HDR
$R3" out/dach.csv
check_eq split-no-default-file no "$([ -e out/.csv ] && echo yes || echo no)"
check_out split-default '' $C --split out2 --default rest -s vip c.csv
check_file split-default-rest "$HDR
$R2
$R3
$R5" out2/rest.csv
check_out split-label '' $C --split out3 --label -s dach c.csv
check_file split-label-file "$HDR,segment
$R1,dach
$R3,dach
$R4,dach
$R5,dach" out3/dach.csv
check_exit 64 split-default-slash $C --split out4 --default a/b c.csv
touch notadir
check_exit 73 split-cannot-create $C --split notadir c.csv

## Config errors: a segment that does not compile, a bad section.
cat >bad-seg.yaml <<'EOF'
segments:
  ok: id == 1
  broken: revnue > 1
EOF
check_exit 78 config-segment-error $S -c bad-seg.yaml -s broken c.csv
check_stderr config-segment-error-msg 'crm-segment: bad-seg.yaml:3: segment "broken": column 1: unknown column "revnue"
  revnue > 1
  ^'
# Only the segments in use need to compile.
check_out config-segment-unused "$HDR
$R1" $S -c bad-seg.yaml -s ok c.csv
check_exit 78 config-segment-all-for-label $S -c bad-seg.yaml --label c.csv
printf 'segments:\n  a,b: id == 1\n' >bad-name.yaml
check_exit 78 config-segment-name $S -c bad-name.yaml -e 'id == 1' c.csv
check_err config-segment-name-msg "bad-name.yaml:2: segments: \"a,b\": a segment name has no ','"
check_exit 64 label-no-segments $S --label c.csv
check_err label-no-segments-msg 'no segments to label by'

## --campaign: consent, usable email, duplicates; a summary on stderr.
cat >camp.csv <<'EOF'
email,first_name,email_opt_in,consent_at,unsubscribed_at
ann@example.com,Ann,true,2024-01-01,
bob@example.com,Bob,false,2024-01-01,
cy@example.com,Cy,,,
not-an-email,Dee,true,2024-01-01,
,Eve,true,2024-01-01,
 ANN@Example.COM ,Ann again,yes,2024-02-01,
gus@example.com,Gus,true,2024-01-01,2024-03-01
hal@example.com,Hal,true,2024-04-01,2024-03-01
ida@example.com,Ida,maybe,2024-01-01,
EOF
run $S --campaign camp.csv
check_eq campaign-exit 0 "$RC"
check_stdout campaign-rows 'email,first_name,email_opt_in,consent_at,unsubscribed_at
ann@example.com,Ann,true,2024-01-01,
hal@example.com,Hal,true,2024-04-01,2024-03-01'
check_stderr campaign-summary 'crm-segment: campaign: 2 contacts listed, 7 held back: 2 without a usable email; 1 opted out (email_opt_in false); 2 without recorded consent (email_opt_in empty or not a boolean); 1 unsubscribed; 1 repeating an email already listed'
run $S --campaign -e 'first_name starts with "A"' camp.csv
check_stdout campaign-with-e 'email,first_name,email_opt_in,consent_at,unsubscribed_at
ann@example.com,Ann,true,2024-01-01,'
check_stderr campaign-with-e-summary 'crm-segment: campaign: 1 contact listed, 1 held back: 1 repeating an email already listed'
run $S --campaign -e 'first_name == "Hal"' camp.csv
check_stderr campaign-none-held 'crm-segment: campaign: 1 contact listed, none held back'
run $S --campaign -e 'first_name == "Bob"' camp.csv
check_eq campaign-all-held-exit 1 "$RC"
check_stdout campaign-all-held-header 'email,first_name,email_opt_in,consent_at,unsubscribed_at'
# Duplicates are found across inputs too.
run $S --campaign -e 'first_name == "Ann"' camp.csv camp.csv
check_stderr campaign-dups-across 'crm-segment: campaign: 1 contact listed, 1 held back: 1 repeating an email already listed'
# It cannot be turned round or silenced by accident.
check_exit 64 campaign-invert $S --campaign -v -e 'id == 1' c.csv
check_err campaign-invert-msg 'exclude each other'
check_exit 64 campaign-quiet $S --campaign -q c.csv
# Without a consent column nothing is written.
printf 'email,name\na@example.com,A\n' >noconsent.csv
check_exit 65 campaign-no-consent-column $S --campaign noconsent.csv
check_empty campaign-no-consent-column-out "$OUT"
check_err campaign-no-consent-column-msg 'noconsent\.csv has no email_opt_in column'
printf 'name,email_opt_in\nA,true\n' >noemail.csv
check_exit 65 campaign-no-email-column $S --campaign noemail.csv
printf 'email,email_opt_in,Email Opt-In\na@example.com,true,false\n' >twoconsent.csv
check_exit 65 campaign-two-consent-columns $S --campaign twoconsent.csv
check_err campaign-two-consent-columns-msg 'columns "email_opt_in" and "Email Opt-In" both give email_opt_in'
# Headers that spell the core columns loosely (crm(7)) count.
printf 'EMAIL,Email-Opt-In\nx@example.com,TRUE\n' >loose.csv
check_out campaign-loose-names 'EMAIL,Email-Opt-In
x@example.com,TRUE' $S --campaign loose.csv
check_out campaign-count '2' $S --campaign --count camp.csv
check_out campaign-split '' $C --campaign --split camp-out -s vip c.csv
check_file campaign-split-file "$HDR
$R1
$R4" camp-out/vip.csv
check_out campaign-label "$HDR,segment
$R1,vip
$R4,vip" $C --campaign --label -s vip c.csv
# NDJSON: a row without the keys is held back.
check_out campaign-ndjson '{"id":1,"email":"a@example.com","tags":["vip","x"],"email_opt_in":true,"revenue":"120.5"}' \
    $S -F ndjson --campaign n.ndjson

## -o writes a file; a file that cannot be made is exit 73.
check_out output-file '' $S -e 'id == 2' -o sel.csv c.csv
check_file output-file-content "$HDR
$R2" sel.csv
check_exit 73 output-cannot-create $S -e 'id == 2' -o nodir/sel.csv c.csv

## A closed pipe ends the filter quietly.
awk 'BEGIN { print "id,v"; for (i = 0; i < 20000; i++) printf "%d,value %d with some text\n", i, i }' >many.csv
$S -e 'id >= 0' many.csv 2>"$ERR" | head -n 1 >/dev/null
rc=${PIPESTATUS[0]}
check_empty pipe-quiet "$ERR"
case $rc in
0 | 141) ok pipe-status ;;
*) fail pipe-status "exit $rc after the reader went away" ;;
esac
check_eq many-count 10000 "$($S -e 'id < 10000' many.csv | csv_rows /dev/stdin)"

## From a store: crm-export | crm-segment.
printf 'email,first_name,country,tags\nx@example.com,X,DE,vip\ny@example.com,Y,FR,\n' >store.csv
check_exit 0 store-setup crm-add -n --as-of 2024-01-01T00:00:00Z store.csv
crm-export | $S -e 'country == "DE" and tags has "vip" and created_at >= 2024-01-01' >fromstore.csv
check_eq store-pipeline 'x@example.com' "$(csv_col email fromstore.csv)"
