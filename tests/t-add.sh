# crm-add: flag mode, upsert, stream import, consent and timestamps.

A1=2024-01-01T00:00:00Z
A2=2024-02-01T00:00:00Z
A3=2024-03-01T00:00:00Z
A4=2024-04-01T00:00:00Z

## Flag mode: create, then update the same contact.

check_out flag-create "$CORE
$(core_row id=1 email=ada@example.com first_name=Ada last_name=Lovelace city=London created_at=$A1 updated_at=$A1)" \
    crm-add --as-of $A1 --email ada@example.com --first-name Ada --last-name Lovelace --city London

check_out flag-update-tag "$CORE
$(core_row id=1 email=ada@example.com first_name=Ada last_name=Lovelace company=ACME city=London 'tags=vip;beta' created_at=$A1 updated_at=$A2)" \
    crm-add --as-of $A2 --email ada@example.com --company ACME --tag vip --tag beta

check_out flag-tag-adds-untag-removes "$CORE
$(core_row id=1 email=ada@example.com first_name=Ada last_name=Lovelace company=ACME city=London 'tags=beta;gamma' created_at=$A1 updated_at=$A3)" \
    crm-add --as-of $A3 --email ada@example.com --tag gamma --untag vip --tag beta

# Nothing to change: updated_at stays.
check_out flag-unchanged "$CORE
$(core_row id=1 email=ada@example.com first_name=Ada last_name=Lovelace company=ACME city=London 'tags=beta;gamma' created_at=$A1 updated_at=$A3)" \
    crm-add --as-of $A4 --email ada@example.com --untag nosuch --city London

# Email is trimmed and lower-cased before matching.
check_out flag-email-normalised "$CORE
$(core_row id=1 email=ada@example.com first_name=Augusta last_name=Lovelace company=ACME city=London 'tags=beta;gamma' created_at=$A1 updated_at=$A4)" \
    crm-add --as-of $A4 --email ' Ada@Example.COM ' --first-name Augusta

check_out flag-second-contact "$CORE
$(core_row id=2 email=bob@example.com stage=lead phone=555 created_at=$A1 updated_at=$A1)" \
    crm-add --as-of $A1 --email bob@example.com --stage lead --phone 555

# --opt-in without a consent time: consent_at = now, source crm-add.
check_out flag-opt-in "$CORE
$(core_row id=2 email=bob@example.com stage=lead phone=555 email_opt_in=true consent_at=$A2 consent_source=crm-add created_at=$A1 updated_at=$A2)" \
    crm-add --as-of $A2 --email bob@example.com --opt-in

check_out flag-opt-out-source "$CORE
$(core_row id=2 email=bob@example.com stage=lead phone=555 email_opt_in=false consent_at=$A3 consent_source=form created_at=$A1 updated_at=$A3)" \
    crm-add --as-of $A3 --email bob@example.com --opt-out --consent-source form

check_out flag-set-custom "$CORE,plan
$(core_row id=2 email=bob@example.com stage=lead phone=555 email_opt_in=false consent_at=$A3 consent_source=form created_at=$A1 updated_at=$A4),pro" \
    crm-add --as-of $A4 --email bob@example.com --set plan=pro

# A custom field, once in the store, is part of every contact (crm-add(1)):
# flag mode shows Ada's plan, empty.
check_out flag-by-id "$CORE,plan
$(core_row id=1 email=ada@example.com first_name=Augusta last_name=Lovelace company=ACME city=Paris 'tags=beta;gamma' created_at=$A1 updated_at=$A4)," \
    crm-add --as-of $A4 --id 1 --email ada@example.com --city Paris

check_out flag-ext-id "$CORE,plan
$(core_row id=1 email=ada@example.com first_name=Augusta last_name=Lovelace company=ACME city=Paris 'tags=beta;gamma' created_at=$A1 updated_at=$A4 ext_id=X-1)," \
    crm-add --as-of $A4 --email ada@example.com --ext-id X-1

# -o writes the row to a file, not stdout.
check_out flag-o-stdout-empty "" \
    crm-add --as-of $A4 -o flag-o.csv --email ada@example.com
check_file flag-o-file "$CORE,plan
$(core_row id=1 email=ada@example.com first_name=Augusta last_name=Lovelace company=ACME city=Paris 'tags=beta;gamma' created_at=$A1 updated_at=$A4 ext_id=X-1)," flag-o.csv

check_out flag-store "$XCORE,plan
$(xrow id=1 email=ada@example.com first_name=Augusta last_name=Lovelace company=ACME city=Paris 'tags=beta;gamma' created_at=$A1 updated_at=$A4 ext_id=X-1),
$(xrow id=2 email=bob@example.com stage=lead phone=555 email_opt_in=false consent_at=$A3 consent_source=form created_at=$A1 updated_at=$A4),pro" \
    crm-export

## Upsert order: id, then ext_id, then email.

U="-D $T/u"
printf 'email,ext_id,first_name\na@example.com,E1,A\nb@example.com,E2,B\n' >u0.csv
check_exit 0 upsert-setup crm-add $U -n --as-of $A1 u0.csv

# upsert_case NAME CSV [expected export lines for ids 1 and 2, then extra]
upsert_case() {
	local name=$1 csv=$2
	shift 2
	printf '%b' "$csv" >"$name.csv"
	check_exit 0 "$name" crm-add $U -n --as-of $A2 "$name.csv"
	{
		echo "$XCORE"
		for l in "$@"; do echo "$l$NOSTATS"; done
	} >"$name.want"
	check_out "$name-store" "$name.want" crm-export $U
}

upsert_case upsert-id-over-email 'id,email\n1,new-a@example.com\n' \
    "$(core_row id=1 email=new-a@example.com first_name=A created_at=$A1 updated_at=$A2 ext_id=E1)" \
    "$(core_row id=2 email=b@example.com first_name=B created_at=$A1 updated_at=$A1 ext_id=E2)"
upsert_case upsert-id-over-ext-id 'id,ext_id\n1,E9\n' \
    "$(core_row id=1 email=new-a@example.com first_name=A created_at=$A1 updated_at=$A2 ext_id=E9)" \
    "$(core_row id=2 email=b@example.com first_name=B created_at=$A1 updated_at=$A1 ext_id=E2)"
upsert_case upsert-ext-id-over-email 'ext_id,email\nE2,new-b@example.com\n' \
    "$(core_row id=1 email=new-a@example.com first_name=A created_at=$A1 updated_at=$A2 ext_id=E9)" \
    "$(core_row id=2 email=new-b@example.com first_name=B created_at=$A1 updated_at=$A2 ext_id=E2)"
upsert_case upsert-email-normalised 'email,first_name\n NEW-B@Example.COM ,Bee\n' \
    "$(core_row id=1 email=new-a@example.com first_name=A created_at=$A1 updated_at=$A2 ext_id=E9)" \
    "$(core_row id=2 email=new-b@example.com first_name=Bee created_at=$A1 updated_at=$A2 ext_id=E2)"
upsert_case upsert-new-id-creates 'id,email,first_name\n10,ten@example.com,Ten\n' \
    "$(core_row id=1 email=new-a@example.com first_name=A created_at=$A1 updated_at=$A2 ext_id=E9)" \
    "$(core_row id=2 email=new-b@example.com first_name=Bee created_at=$A1 updated_at=$A2 ext_id=E2)" \
    "$(core_row id=10 email=ten@example.com first_name=Ten created_at=$A2 updated_at=$A2)"

# The key that matched decides; another contact's email is then a bad row.
snap u.snap $U
printf 'id,email\n1,new-b@example.com\n' >order1.csv
check_exit 65 upsert-id-first-conflict crm-add $U order1.csv
check_err upsert-id-first-conflict-msg '^crm-add: order1\.csv:2: column "email": "new-b@example\.com" belongs to contact 2$'
printf 'ext_id,email\nE9,new-b@example.com\n' >order2.csv
check_exit 65 upsert-ext-id-first-conflict crm-add $U order2.csv
check_err upsert-ext-id-first-conflict-msg '^crm-add: order2\.csv:2: column "email": "new-b@example\.com" belongs to contact 2$'
check_store_same upsert-conflicts-unchanged u.snap $U

## Stream mode: a wide CSV with custom fields.

W="-D $T/w"
cat >wide.csv <<'CSV'
Email,First Name,last-name,PHONE,company,Title,city,country,source,stage,owner,tags,email_opt_in,consent_at,consent_source,plan,Favourite Colour,seats,ext_id,notes,revenue,events
 Grace@Example.com ,Grace ,Hopper,+1 555 0100,Navy,Rear Admiral,Arlington,US,conf,lead,kim,"navy; cobol ;navy",yes,2023-05-01 10:00:00,form,pro,blue,3,G-1,"likes, commas",12.50,4
linus@example.com,Linus,Torvalds,,,,Portland,US,web,prospect,kim,,N,,,free,,1,L-1,,,
CSV
# crm-add writes the core and custom columns; crm-export puts the
# statistics between them.  The input's revenue and events are read-only
# statistics, not custom fields.
WIDE_CUSTOM="plan,Favourite Colour,seats,notes"
WIDE_HDR="$CORE,$WIDE_CUSTOM"
G1c="$(core_row id=1 email=grace@example.com first_name=Grace last_name=Hopper 'phone=+1 555 0100' company=Navy 'title=Rear Admiral' city=Arlington country=US source=conf stage=lead owner=kim 'tags=navy;cobol' email_opt_in=true consent_at=2023-05-01T10:00:00Z consent_source=form created_at=$A1 updated_at=$A1 ext_id=G-1)"
G1x=",pro,blue,3,\"likes, commas\""
L1c="$(core_row id=2 email=linus@example.com first_name=Linus last_name=Torvalds city=Portland country=US source=web stage=prospect owner=kim email_opt_in=false consent_at=$A1 consent_source=import:wide.csv created_at=$A1 updated_at=$A1 ext_id=L-1)"
L1x=",free,,1,"
check_out stream-wide "$WIDE_HDR
$G1c$G1x
$L1c$L1x" crm-add $W --as-of $A1 wide.csv
check_out stream-wide-export "$XCORE,$WIDE_CUSTOM
$G1c$NOSTATS$G1x
$L1c$NOSTATS$L1x" crm-export $W
snap w.snap $W

# Re-importing a row that changes nothing leaves updated_at alone.
printf 'email,first_name,tags,email_opt_in,consent_at,consent_source,plan\ngrace@example.com,Grace,navy;cobol,true,2023-05-01T10:00:00Z,form,pro\n' >same.csv
# The output is the stored contact as crm-export prints it (less the
# statistics, which crm-add does not write): every custom column of the
# store, whatever the input's columns.
check_exit 0 stream-unchanged-row crm-add $W -v --as-of $A2 same.csv
cp "$OUT" unchanged.out
cp "$ERR" unchanged.err
check_out stream-unchanged-row-as-export unchanged.out crm-export $W --id 1 --fields "$WIDE_HDR"
cp unchanged.err "$ERR"
check_err stream-unchanged-summary '^crm-add: 1 rows?: 0 created, 0 updated, 1 unchanged$'
check_store_same stream-unchanged-store w.snap $W

# Empty cells do not clear.
printf 'email,first_name,city,plan,notes,tags\ngrace@example.com,,,,,\n' >empty.csv
check_exit 0 stream-empty-cells crm-add $W -n -v --as-of $A2 empty.csv
check_err stream-empty-cells-summary '^crm-add: 1 rows?: 0 created, 0 updated, 1 unchanged$'
check_store_same stream-empty-cells-store w.snap $W

# A tags cell replaces the set; quotes around an item are removed.
printf 'email,tags\ngrace@example.com,"fortran; ""flow matic"" ;fortran"\n' >tags.csv
check_exit 0 stream-tags-replace crm-add $W -n --as-of $A2 tags.csv
run crm-export $W
check_eq stream-tags-replace-value 'fortran;flow matic||' "$(csv_col tags <"$OUT" | tr '\n' '|')"
check_eq stream-tags-replace-updated "$A2|$A1|" "$(csv_col updated_at <"$OUT" | tr '\n' '|')"
check_eq stream-tags-replace-created "$A1|$A1|" "$(csv_col created_at <"$OUT" | tr '\n' '|')"

# -v summary counts created / updated / unchanged.
printf 'email,city\ngrace@example.com,Boston\nlinus@example.com,Portland\nnew@example.com,Oslo\n' >mix.csv
check_exit 0 stream-summary crm-add $W -n -v --as-of $A3 mix.csv
check_err stream-summary-line '^crm-add: 3 rows: 1 created, 1 updated, 1 unchanged$'
check_empty stream-n-no-rows "$OUT"
run crm-export $W
check_eq stream-n-committed "Boston|Portland|Oslo|" "$(csv_col city <"$OUT" | tr '\n' '|')"
check_eq stream-summary-updated "$A3|$A1|$A3|" "$(csv_col updated_at <"$OUT" | tr '\n' '|')"

# created_at / updated_at taken from the input, in any accepted form.
printf 'email,created_at,updated_at,consent_at,email_opt_in\nold@example.com,2020-01-02,2020-01-03 04:05:06+02:00,2020-01-01T12:00:00+0200,1\n' >times.csv
check_exit 0 stream-times-from-input crm-add $W -n --as-of $A3 times.csv
run crm-export $W --email old@example.com
check_eq stream-times-from-input-values "4|true|2020-01-01T10:00:00Z|import:times.csv|2020-01-02T00:00:00Z|2020-01-03T02:05:06Z" \
    "$(paste -d'|' <(csv_col id <"$OUT") <(csv_col email_opt_in "$OUT") <(csv_col consent_at "$OUT") <(csv_col consent_source "$OUT") <(csv_col created_at "$OUT") <(csv_col updated_at "$OUT"))"
# The output has the custom columns of the input, not all of the store's.
printf 'email,seats
old@example.com,7
' >seats.csv
check_exit 0 stream-output-store-columns crm-add $W --as-of $A4 seats.csv
cp "$OUT" seats.out
check_eq stream-output-store-header "$WIDE_HDR" "$(head -n 1 seats.out)"
check_out stream-output-as-export seats.out crm-export $W --id 4 --fields "$WIDE_HDR"

# Rows go to stdout only after the commit: a bad row means no output at all.
snap w2.snap $W
printf 'email,city\ngrace@example.com,Rome\nbob@,Nowhere\n' >late-bad.csv
check_exit 65 stream-no-output-before-commit crm-add $W --as-of $A4 late-bad.csv
check_empty stream-no-output-before-commit-stdout "$OUT"
check_store_same stream-no-output-before-commit-store w2.snap $W

# stdin, and "-" as stdin.
printf 'email,city\nstdin@example.com,Lima\n' >in.csv
check_exit 0 stream-stdin crm-add $W -n --as-of $A4 <in.csv
printf 'email,city\ndash@example.com,Quito\n' >in2.csv
check_exit 0 stream-dash crm-add $W -n --as-of $A4 - <in2.csv
run crm-export $W --email stdin@example.com,dash@example.com
check_eq stream-stdin-stored "Lima|Quito|" "$(csv_col city <"$OUT" | tr '\n' '|')"

# Several files in one run.
printf 'email\nf1@example.com\n' >f1.csv
printf 'email,city\nf2@example.com,Bern\n' >f2.csv
check_exit 0 stream-two-files crm-add $W -n --as-of $A4 f1.csv f2.csv
run crm-export $W --email f1@example.com,f2@example.com
check_eq stream-two-files-stored "f1@example.com|f2@example.com|" "$(csv_col email <"$OUT" | tr '\n' '|')"

## Consent: an older consent time does not override a newer one.
C="-D $T/c"
printf 'email,email_opt_in,consent_at,consent_source\nc@example.com,true,2024-05-01,web\n' >c1.csv
check_exit 0 consent-setup crm-add $C -n --as-of $A1 c1.csv
printf 'email,email_opt_in,consent_at,consent_source\nc@example.com,false,2024-04-01,old-list\n' >c2.csv
check_exit 0 consent-older-ignored crm-add $C -n --as-of $A2 c2.csv
run crm-export $C
check_eq consent-older-ignored-value "true|2024-05-01T00:00:00Z|web" \
    "$(csv_col email_opt_in <"$OUT")|$(csv_col consent_at <"$OUT")|$(csv_col consent_source <"$OUT")"
printf 'email,email_opt_in,consent_at,consent_source\nc@example.com,no,2024-06-01,unsub-link\n' >c3.csv
check_exit 0 consent-newer-applies crm-add $C -n --as-of $A2 c3.csv
run crm-export $C
check_eq consent-newer-applies-value "false|2024-06-01T00:00:00Z|unsub-link" \
    "$(csv_col email_opt_in <"$OUT")|$(csv_col consent_at <"$OUT")|$(csv_col consent_source <"$OUT")"

# Boolean spellings.
i=0
for v in true false yes no 1 0 y n t f TRUE No Y F; do
	i=$((i + 1))
	case $v in
	[tTyY1]*) want=true ;;
	*) want=false ;;
	esac
	printf 'email,email_opt_in,consent_at\nb%d@example.com,%s,2024-01-01\n' $i "$v" >bool$i.csv
	run crm-add $C -n bool$i.csv
	if [ "$RC" -ne 0 ]; then
		fail "bool-$v" "exit $RC: $(_errline)"
		continue
	fi
	run crm-export $C --email b$i@example.com
	check_eq "bool-$v" "$want" "$(csv_col email_opt_in <"$OUT")"
done

## Quiet by default when stderr is not a terminal; -o; --batch.
printf 'email,city\nq1@example.com,A\nq2@example.com,B\nq3@example.com,C\nq4@example.com,D\nq5@example.com,E\n' >five.csv
run crm-add -D "$T/b1" --as-of $A1 five.csv
check_eq quiet-exit 0 "$RC"
check_empty quiet-stderr "$ERR"
cp "$OUT" five.out
check_eq five-rows 5 "$(csv_rows five.out)"
check_out output-o "" crm-add -D "$T/b2" --as-of $A1 -o five-o.csv five.csv
check_file output-o-file five.out five-o.csv
check_out batch-same-output five.out crm-add -D "$T/b3" --as-of $A1 --batch 2 five.csv
snap b1.snap -D "$T/b1"
check_store_same batch-same-store b1.snap -D "$T/b3"
check_out batch-1 five.out crm-add -D "$T/b4" --as-of $A1 --batch 1 five.csv
check_store_same batch-1-store b1.snap -D "$T/b4"

## White space around values in a CSV import: core fields are trimmed, an
## untyped custom field is kept as given (blanks too), a core field of
## blanks is no field. The common case (ASCII with nothing to trim) takes a
## shorter path in the library than the rest; both must give the same.
printf 'email,first_name,city,phone,owner,note,memo\n' >ws.csv
printf 'ws1@example.com, Ada ,\tLondon,555 01 ,anna,  keep me  ,   \n' >>ws.csv
printf 'ws2@example.com,Bob,Zürich ,  ,bo b,x,plain\n' >>ws.csv
run crm-add -D "$T/ws" --as-of $A1 -n ws.csv
check_eq ws-exit 0 "$RC"
run crm-export -D "$T/ws" --email ws1@example.com
check_eq ws-core-trimmed "Ada|London|555 01|anna" \
    "$(csv_col first_name <"$OUT")|$(csv_col city <"$OUT")|$(csv_col phone <"$OUT")|$(csv_col owner <"$OUT")"
check_eq ws-custom-kept "  keep me  " "$(csv_col note <"$OUT")"
check_eq ws-custom-blank-kept "   " "$(csv_col memo <"$OUT")"
run crm-export -D "$T/ws" --email ws2@example.com
check_eq ws-utf8-trimmed "Zürich|bo b|x|plain" \
    "$(csv_col city <"$OUT")|$(csv_col owner <"$OUT")|$(csv_col note <"$OUT")|$(csv_col memo <"$OUT")"
check_eq ws-blank-core-empty "" "$(csv_col phone <"$OUT")"
