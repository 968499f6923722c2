# crm-add: every kind of bad input is refused with FILE:LINE, exit 65, and
# nothing committed; -r lets good rows through; usage, input and config errors.

A1=2024-01-01T00:00:00Z

cat >conf.yaml <<'YAML'
stages: [lead, prospect, customer, churned]
fields:
  plan: {type: enum, values: [free, pro]}
  seats: int
  mrr: decimal
  renewal: date
  vip: bool
YAML

printf 'email,ext_id,first_name\na@example.com,E1,A\nb@example.com,E2,B\n' >setup.csv
check_exit 0 setup crm-add -n --as-of $A1 setup.csv
snap before.snap

# bad NAME "CRM-ADD OPTIONS" INPUT(printf %b) EXPECTED-STDERR-LINE(ERE, after "crm-add: NAME.csv:")
bad() {
	local name=$1 opts=$2 input=$3 want=$4
	printf '%b' "$input" >"$name.csv"
	check_exit 65 "$name" crm-add $opts "$name.csv"
	check_err "$name-msg" "^crm-add: $name\\.csv:$want\$"
	check_lastline_re "$name-last" '^crm-add: 1 bad rows?; nothing committed$'
	check_empty "$name-stdout" "$OUT"
	check_store_same "$name-store" before.snap
}

bad unterminated '' 'email,first_name\nx@example.com,X\ny@example.com,"Why\n' \
    '3: unterminated quoted field'
bad unterminated-after-multiline '' 'email,notes\nx@example.com,"line1\nline2"\ny@example.com,"open\n\n' \
    '4: unterminated quoted field'
bad malformed-quote '' 'email,first_name\nx@example.com,"Ex"tra\n' \
    '2: malformed quoted field'
bad too-many-fields '' 'email,first_name\nx@example.com,X,extra\n' \
    '2: expected 2 fields, found 3'
bad too-few-fields '' 'email,first_name,city\nx@example.com,X\n' \
    '2: expected 3 fields, found 2'
bad fields-after-multiline '' 'email,notes\nx@example.com,"a\nb"\ny@example.com\n' \
    '4: expected 2 fields, found 1'
bad invalid-email '' 'email,first_name\nx@example.com,X\nbob@,Bob\n' \
    '3: column "email": invalid email "bob@"'
bad invalid-email-no-at '' 'email,first_name\nplainaddress,P\n' \
    '2: column "email": invalid email "plainaddress"'
bad invalid-email-no-local '' 'email\n@example.com\n' \
    '2: column "email": invalid email "@example\.com"'
bad invalid-utf8 '' 'email,first_name\nx@example.com,\xff\n' \
    '2: column "first_name": invalid UTF-8 at byte 1'
bad invalid-utf8-custom '' 'email,note\nx@example.com,ok\ny@example.com,ab\xc3\n' \
    '3: column "note": invalid UTF-8 at byte [0-9]+'
bad invalid-utf8-overlong '' 'email,city\nx@example.com,\xc0\xaf\n' \
    '2: column "city": invalid UTF-8 at byte 1'
bad stage-not-allowed '-c conf.yaml' 'email,stage\nx@example.com,lead\ny@example.com,foo\n' \
    '3: column "stage": stage "foo" is not allowed'
bad duplicate-conflict '' 'email,first_name\nx@example.com,X\ny@example.com,Y\n X@Example.com ,Z\n' \
    '4: column "first_name": "Z" conflicts with "X" given earlier \(contact first seen on line 2\)'
bad duplicate-conflict-ext-id '' 'ext_id,email\nZ1,x@example.com\nZ1,y@example.com\n' \
    '3: column "email": ".*" conflicts with ".*" given earlier \(contact first seen on line 2\)'
bad int-field '-c conf.yaml' 'email,seats\nx@example.com,x\n' \
    '2: column "seats": not an int "x"'
bad int-field-fraction '-c conf.yaml' 'email,seats\nx@example.com,2.5\n' \
    '2: column "seats": not an int "2\.5"'
bad decimal-field '-c conf.yaml' 'email,mrr\nx@example.com,abc\n' \
    '2: column "mrr": not a decimal "abc"'
bad date-field '-c conf.yaml' 'email,renewal\nx@example.com,2024-13-45\n' \
    '2: column "renewal": not a date "2024-13-45"'
bad bool-field '-c conf.yaml' 'email,vip\nx@example.com,maybe\n' \
    '2: column "vip": not a bool "maybe"'
bad enum-field '-c conf.yaml' 'email,plan\nx@example.com,free\ny@example.com,gold\n' \
    '3: column "plan": not an allowed value "gold"'
bad no-key '' 'first_name,city\nNo,Key\n' \
    '2: row has no id, ext_id or email'
bad no-key-empty-cells '' 'id,ext_id,email,first_name\n,,,Nobody\n' \
    '2: row has no id, ext_id or email'
bad email-of-other-contact '' 'id,email\n1,b@example.com\n' \
    '2: column "email": "b@example\.com" belongs to contact 2'
bad email-of-other-contact-normalised '' 'id,email\n1, B@Example.COM \n' \
    '2: column "email": "b@example\.com" belongs to contact 2'
bad ext-id-of-other-contact '' 'id,ext_id\n1,E2\n' \
    '2: column "ext_id": "E2" belongs to contact 2'
bad email-of-other-contact-by-ext-id '' 'ext_id,email\nE2,a@example.com\n' \
    '2: column "email": "a@example\.com" belongs to contact 1'
bad bad-consent-time '' 'email,consent_at,email_opt_in\nx@example.com,yesterday,true\n' \
    '2: column "consent_at": invalid time "yesterday"'
bad bad-opt-in '' 'email,email_opt_in\nx@example.com,maybe\n' \
    '2: column "email_opt_in": not a bool "maybe"'
bad bad-id '' 'id,email\nabc,x@example.com\n' \
    '2: column "id": invalid id "abc"'

# Diagnostics for stdin say "stdin".
printf 'email\nok@example.com\nbob@\n' >stdin-bad.csv
check_exit 65 stdin-bad crm-add <stdin-bad.csv
check_err stdin-bad-msg '^crm-add: stdin:3: column "email": invalid email "bob@"$'
check_store_same stdin-bad-store before.snap

# Every bad row is reported; the count is in the last line.
printf 'email,seats\nbob@,1\nok@example.com,2\nx@example.com,many\n,3\nok2@example.com,4\n' >multi.csv
check_exit 65 multi-bad crm-add -c conf.yaml multi.csv
check_err multi-bad-line2 '^crm-add: multi\.csv:2: column "email": invalid email "bob@"$'
check_err multi-bad-line4 '^crm-add: multi\.csv:4: column "seats": not an int "many"$'
check_err multi-bad-line5 '^crm-add: multi\.csv:5: row has no id, ext_id or email$'
check_lastline multi-bad-last 'crm-add: 3 bad rows; nothing committed'
check_store_same multi-bad-store before.snap

# Headers that cannot be read: line 1, exit 65.
printf 'email,EMAIL\nx@example.com,y@example.com\n' >dup-header.csv
check_exit 65 header-duplicate crm-add dup-header.csv
check_err header-duplicate-msg '^crm-add: dup-header\.csv:1: duplicate column "(email|EMAIL)"$'
printf 'email,,city\nx@example.com,a,b\n' >noname.csv
check_exit 65 header-no-name crm-add noname.csv
check_err header-no-name-msg '^crm-add: noname\.csv:1: column 2 has no name$'
printf 'email,First Name,first_name\nx@example.com,a,b\n' >dup-header2.csv
check_exit 65 header-duplicate-alias crm-add dup-header2.csv
check_err header-duplicate-alias-msg '^crm-add: dup-header2\.csv:1: duplicate column "first_name"$'
check_store_same header-store before.snap

# Flag mode: a bad value has no file and line.
check_exit 65 flag-bad-email crm-add --email bob@
check_stderr flag-bad-email-msg 'crm-add: column "email": invalid email "bob@"'
check_empty flag-bad-email-stdout "$OUT"
check_exit 65 flag-email-of-other crm-add --id 1 --email b@example.com
check_err flag-email-of-other-msg '^crm-add: column "email": "b@example\.com" belongs to contact 2$'
check_exit 65 flag-bad-stage crm-add -c conf.yaml --email a@example.com --stage foo
check_err flag-bad-stage-msg '^crm-add: column "stage": stage "foo" is not allowed$'
check_exit 65 flag-bad-typed crm-add -c conf.yaml --email a@example.com --set seats=x
check_err flag-bad-typed-msg '^crm-add: column "seats": not an int "x"$'
check_store_same flag-bad-store before.snap

# A duplicate that agrees with the earlier row is accepted.
printf 'email,first_name,last_name\nx@example.com,X,\nx@example.com,,Ex\n X@EXAMPLE.COM ,X,Ex\n' >dup-ok.csv
check_exit 0 duplicate-agreeing crm-add -n --as-of $A1 dup-ok.csv
run crm-export --email x@example.com
check_eq duplicate-agreeing-stored "x@example.com|X|Ex|" \
    "$(csv_col email <"$OUT" | tr '\n' '|')$(csv_col first_name <"$OUT" | tr '\n' '|')$(csv_col last_name <"$OUT" | tr '\n' '|')"
snap before.snap

## -r: good rows committed, bad rows with _line and _error.
printf 'email,first_name,seats\ngood1@example.com,G1,1\nbob@,Bob,2\ngood2@example.com,G2,3\nz@example.com,"Zed, Z",many\n' >mixed.csv
check_exit 0 reject crm-add -n -c conf.yaml -r rejects.csv --as-of $A1 mixed.csv
check_lastline reject-msg 'crm-add: 2 bad rows written to rejects.csv'
run crm-export --email good1@example.com,good2@example.com
check_eq reject-good-committed "good1@example.com|good2@example.com|" "$(csv_col email <"$OUT" | tr '\n' '|')"
if [ -f rejects.csv ]; then
	check_eq reject-header 'email,first_name,seats,_line,_error' "$(head -n 1 rejects.csv)"
	check_eq reject-lines '3|5|' "$(csv_col _line rejects.csv | tr '\n' '|')"
	check_eq reject-input-cells 'bob@:Bob:2|z@example.com:Zed, Z:many|' \
	    "$(paste -d: <(csv_col email rejects.csv) <(csv_col first_name rejects.csv) <(csv_col seats rejects.csv) | tr '\n' '|')"
	check_eq reject-error-1 'mixed.csv:3: column "email": invalid email "bob@"' "$(csv_col _error rejects.csv | sed -n 1p)"
	check_eq reject-error-2 'mixed.csv:5: column "seats": not an int "many"' "$(csv_col _error rejects.csv | sed -n 2p)"
else
	fail reject-file "rejects.csv not written"
fi
snap before.snap

# --reject is the long form; all rows bad still exits 0.
printf 'email\nbob@\n' >allbad.csv
check_exit 0 reject-long crm-add -n --reject rej2.csv allbad.csv
check_lastline_re reject-long-msg '^crm-add: 1 bad rows? written to rej2\.csv$'
check_store_same reject-long-store before.snap

## --batch N: committed batches stay, the bad batch and after do not.
printf 'email\nbatch1@example.com\nbatch2@example.com\nbatch3@example.com\nbob@\nbatch5@example.com\n' >batch.csv
check_exit 65 batch crm-add -n --batch 2 batch.csv
check_err batch-msg '^crm-add: batch\.csv:5: column "email": invalid email "bob@"$'
check_lastline_re batch-last '^crm-add: 1 bad rows?; the first 2 rows were committed$'
run crm-export --email batch1@example.com,batch2@example.com,batch3@example.com,batch5@example.com
check_eq batch-committed "batch1@example.com|batch2@example.com|" "$(csv_col email <"$OUT" | tr '\n' '|')"
snap before.snap

## Input missing: 66, nothing committed.
check_exit 66 missing-input crm-add nosuch.csv
check_err missing-input-msg '^crm-add: .*nosuch\.csv'
printf 'email\nmissing-test@example.com\n' >good.csv
check_exit 66 missing-second-input crm-add good.csv nosuch.csv
check_store_same missing-input-store before.snap

## Output files that cannot be created: 73, nothing committed.
check_exit 73 output-cannot-create crm-add -o /dev/null/out.csv good.csv
check_store_same output-cannot-create-store before.snap
snap before.snap
check_exit 73 reject-cannot-create crm-add -r /dev/null/rej.csv good.csv
check_store_same reject-cannot-create-store before.snap
snap before.snap
check_exit 73 export-output-cannot-create crm-export -o /dev/null/out.csv

## Usage errors: 64 with a usage message on stderr.
# usage NAME TOOL ARGS...: exit 64, a message, nothing on stdout
usage() {
	local name=$1
	shift
	check_exit 64 "$name" "$@"
	if [ -s "$ERR" ]; then ok "$name-msg"; else fail "$name-msg" "no message on stderr"; fi
	check_empty "$name-stdout" "$OUT"
}
# usage_syn NAME TOOL ARGS...: the same, and the usage is shown
usage_syn() {
	usage "$@"
	check_err "$1-usage" '^usage: '
}
usage_syn usage-add-long crm-add --nosuch
usage_syn usage-add-short crm-add -Z
usage usage-add-format crm-add -F xml good.csv
usage usage-add-batch crm-add --batch abc good.csv
usage usage-add-as-of crm-add --as-of notatime --email u@example.com
usage usage-add-map crm-add --map nonsense good.csv
usage usage-add-opt-in-out crm-add --email u@example.com --opt-in --opt-out
usage_syn usage-add-missing-arg crm-add -D
usage usage-add-flag-file crm-add --email u@example.com good.csv
usage usage-add-flag-F crm-add -F tsv --email u@example.com
usage usage-add-flag-r crm-add -r rej.csv --email u@example.com
usage usage-add-flag-batch crm-add --batch 2 --email u@example.com
usage usage-add-flag-no-key crm-add --first-name Nobody
usage usage-add-consent-source-alone crm-add --email u@example.com --consent-source x
usage usage-add-mapping crm-add -m nosuch good.csv
usage usage-add-set-core crm-add --email u@example.com --set email=x@example.com
usage_syn usage-export-long crm-export --nosuch
usage usage-export-format crm-export -F yaml
usage usage-export-since crm-export --since notatime
usage usage-export-fields crm-export --fields email,nosuch
check_err usage-export-fields-msg '^crm-export: unknown field "nosuch"$'
usage usage-export-id crm-export --id abc
usage usage-export-operand crm-export extra-operand

check_store_same usage-store before.snap

## Config errors: 78 with FILE:LINE.
cat >bad1.yaml <<'YAML'
# a crm config with a typo
stages: [lead, prospect]
fields:
  seats: int
  plan: strng
YAML
check_exit 78 config-bad-type crm-add -c bad1.yaml good.csv
check_err config-bad-type-msg '^crm-add: bad1\.yaml:5: unknown type "strng" for field "plan"$'
check_exit 78 config-bad-type-export crm-export -c bad1.yaml
check_err config-bad-type-export-msg '^crm-export: bad1\.yaml:5: unknown type "strng" for field "plan"$'

cat >bad2.yaml <<'YAML'
stages: [lead, prospect
fields:
  seats: int
YAML
check_exit 78 config-syntax crm-add -c bad2.yaml good.csv
check_err config-syntax-msg '^crm-add: bad2\.yaml:[0-9]+: '

cat >bad3.yaml <<'YAML'
fields:
  plan:
    type: enum
    values: [free, pro]
  seats:
    type: integer
YAML
check_exit 78 config-bad-type-block crm-add -c bad3.yaml good.csv
check_err config-bad-type-block-msg '^crm-add: bad3\.yaml:6: unknown type "integer" for field "seats"$'

cat >bad4.yaml <<'YAML'
stages: [lead]
stagez: [prospect]
YAML
check_exit 78 config-unknown-key crm-add -c bad4.yaml good.csv
check_err config-unknown-key-msg '^crm-add: bad4\.yaml:2: '
printf 'fields:\n  plan: {type: enum}\n' >bad5.yaml
check_exit 78 config-enum-no-values crm-add -c bad5.yaml good.csv
check_err config-enum-no-values-msg '^crm-add: bad5\.yaml:2: '
printf 'stages: [lead]\nfields:\n  email: string\n' >bad6.yaml
check_exit 78 config-field-core-name crm-add -c bad6.yaml good.csv
check_err config-field-core-name-msg '^crm-add: bad6\.yaml:3: '
printf 'fields:\n  revenue: decimal\n' >bad7.yaml
check_exit 78 config-field-stats-name crm-add -c bad7.yaml good.csv
check_err config-field-stats-name-msg '^crm-add: bad7\.yaml:2: '
printf 'stages:\n  lead: 1\n' >bad8.yaml
check_exit 78 config-wrong-kind crm-add -c bad8.yaml good.csv
check_err config-wrong-kind-msg '^crm-add: bad8\.yaml:[0-9]+: '
check_exit 78 config-missing-c crm-add -c nosuch.yaml good.csv
check_err config-missing-c-msg 'nosuch\.yaml'
CRM_CONFIG=nosuch.yaml check_exit 78 config-missing-env crm-add good.csv
: >empty.yaml
check_exit 0 config-empty-ok crm-add -n -c empty.yaml good.csv
snap before.snap
CRM_CONFIG=bad1.yaml check_exit 78 config-env-bad crm-add good.csv
check_err config-env-bad-msg '^crm-add: bad1\.yaml:5: '
mkdir -p "$XDG_CONFIG_HOME/crm"
cp bad1.yaml "$XDG_CONFIG_HOME/crm/config.yaml"
check_exit 78 config-xdg-bad crm-add good.csv
check_err config-xdg-bad-msg '^crm-add: .*crm/config\.yaml:5: '
rm -f "$XDG_CONFIG_HOME/crm/config.yaml"
check_store_same config-store before.snap

## --batch with -r: every batch committed without its bad rows.
printf 'email\nbr1@example.com\nbob@\nbr3@example.com\nbr4@example.com\nalso-bad\nbr6@example.com\n' >batch-r.csv
check_exit 0 batch-reject crm-add -n --batch 2 -r batch-rej.csv batch-r.csv
check_lastline_re batch-reject-msg '^crm-add: 2 bad rows written to batch-rej\.csv$'
run crm-export --email br1@example.com,br3@example.com,br4@example.com,br6@example.com
check_eq batch-reject-committed "br1@example.com|br3@example.com|br4@example.com|br6@example.com|" "$(csv_col email <"$OUT" | tr '\n' '|')"
check_eq batch-reject-lines '3|6|' "$(csv_col _line batch-rej.csv | tr '\n' '|')"

## Inputs the fuzzers found: each was a crash once.
# A YAML tag made a config key that is not a name (strcmp on NULL).
check_exit 78 fuzz-config-tagged-key crm-export -c "$TESTDATA/fuzz/config-tagged-key.yaml"
check_err fuzz-config-tagged-key-msg 'config-tagged-key\.yaml:3: keys must be names$'
