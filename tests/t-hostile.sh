# Hostile input: malformed CSV, invalid UTF-8, NUL bytes, a 10 MB field,
# 100k columns, deeply nested YAML, a YAML alias bomb, pathological regular
# expressions and expressions nested without end. Each gets a clear error
# (or a correct result) within bounded time and memory, never a crash; an
# import that fails leaves the store as it was and crm-check passes.
# Then output safety: crm-export --spreadsheet.

LIMIT_S=30           # seconds any one run may take
LIMIT_KB=1048576     # resident memory any one run may use (1 GiB)
measure=
if [ -z "$CRM_TEST_WRAP" ] && [ -x /usr/bin/time ]; then
	measure=1
fi

# hostile NAME STATUS ERE CMD...: CMD exits STATUS (never by a signal), in
# time and memory, and stderr matches ERE ("" for no check).
hostile() {
	local name=$1 want=$2 re=$3 cmd=$4
	shift 4
	# timeout(1) runs programs, not the shell functions of lib.sh
	case $cmd in
	crm*) set -- $CRM_TEST_WRAP "$BIN/$cmd" "$@" ;;
	*) set -- "$cmd" "$@" ;;
	esac
	if [ -n "$measure" ]; then
		run /usr/bin/time -o "$T/.rss" -f %M timeout $LIMIT_S "$@"
	else
		run timeout $((LIMIT_S * 20)) "$@"
	fi
	if [ "$RC" -eq 124 ]; then
		fail "$name" "took more than ${LIMIT_S}s"
		return
	fi
	if [ "$RC" -ne "$want" ]; then
		cp "$ERR" "$DETAIL"
		fail "$name" "exit $RC, expected $want: $(_errline)"
		return
	fi
	ok "$name"
	[ -n "$re" ] && check_err "$name-msg" "$re"
	if [ -n "$measure" ] && [ "$(tail -n 1 "$T/.rss")" -gt $LIMIT_KB ]; then
		fail "$name-memory" "used $(tail -n 1 "$T/.rss") KB"
	fi
}

# repeat N STRING SEP: STRING N times, joined by SEP
repeat() {
	awk -v n="$1" -v s="$2" -v sep="$3" 'BEGIN {
		for (i = 1; i <= n; i++) printf "%s%s", s, (i < n ? sep : "")
	}'
}

# names N: c0,c1,...: N distinct column names
names() {
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "c%d%s", i, (i < n - 1 ? "," : "") }'
}

crm-add -q --email keep@example.com >/dev/null
snap before

## CSV into crm-add.
printf 'email,first_name\na@x.com,"unterminated\nb@x.com,bob\n' >quote.csv
printf 'email,first_name\na@x.com,\377\376bad\n' >utf8.csv
printf 'email,first_name\na@x.com,bo\000b\n' >nul.csv
printf 'email,first_name\r\na@x.com,"a""b\r\n' >crlf.csv
printf 'email,first_name,first_name\na@x.com,a,b\n' >dup.csv
printf '\357\273\277\357\273\277email\na@x.com\n' >bom2.csv
printf 'email,fir\000st\na@x.com,A\n' >nulname.csv
printf 'email,first\377\na@x.com,A\n' >utf8name.csv
hostile add-quote 65 '^crm-add: quote.csv:2: unterminated quoted field$' crm-add -q quote.csv
hostile add-utf8 65 '^crm-add: utf8.csv:2: column "first_name": invalid UTF-8' crm-add -q utf8.csv
hostile add-nul 65 '^crm-add: nul.csv:2: column "first_name": ' crm-add -q nul.csv
hostile add-crlf-quote 65 '^crm-add: crlf.csv:2: ' crm-add -q crlf.csv
hostile add-dup-column 65 'duplicate column "first_name"' crm-add -q dup.csv
hostile add-two-boms 65 '^crm-add: bom2.csv:' crm-add -q bom2.csv
# a NUL in a header name was cut there ("fir"): now refused, on line 1
hostile add-nul-in-name 65 '^crm-add: nulname.csv:1: column 2: a column name is UTF-8 text without control characters$' crm-add -q nulname.csv
hostile add-utf8-in-name 65 '^crm-add: utf8name.csv:1: column 2: a column name' crm-add -q utf8name.csv
check_store_same add-bad-store before
{
	printf 'email,'
	names 100000
	printf '\na@x.com,'
	repeat 100000 v ,
	echo
} >cols.csv
hostile add-100k-columns 65 '^crm-add: cols.csv:1: 100001 columns; a contact row has at most 4096$' crm-add -q cols.csv
check_store_same add-100k-store before
{
	printf 'email,note\nbig@x.com,'
	head -c 10485760 /dev/zero | tr '\0' x
	echo
} >big.csv
hostile add-10mb-field 0 '' crm-add -q big.csv
check_eq add-10mb-field-kept 10485760 "$(crm-export --email big@x.com --fields note | sed 1d | tr -d '\n' | wc -c | tr -d ' ')"
check_exit 0 add-store-check crm-check
snap before
snap before-ev --events

## Events into crm-log.
{
	printf 'email,ts,type,'
	names 100000
	printf '\na@x.com,2024-01-01,note,'
	repeat 100000 v ,
	echo
} >ecols.csv
printf 'email,ts,type,text\na@x.com,2024-01-01,note,\303\050\n' >eutf8.csv
printf 'email,ts,type,text\na@x.com,2024-01-01,note,a\000b\n' >enul.csv
printf 'email,ts,type,amount\na@x.com,99999-01-01,purchase,1\na@x.com,2024-01-01,purchase,1e308\na@x.com,2024-01-01,purchase,99999999999999999999999\n' >enum.csv
hostile log-100k-columns 65 '^crm-log: ecols.csv:2: more than 64 fields$' crm-log -q --create ecols.csv
hostile log-utf8 65 '^crm-log: eutf8.csv:2: text: invalid UTF-8' crm-log -q --create eutf8.csv
hostile log-nul 65 '^crm-log: enul.csv:2: text: ' crm-log -q --create enul.csv
hostile log-numbers 65 '^crm-log: 3 bad rows; nothing committed$' crm-log -q --create enum.csv
check_store_same log-bad-store before-ev --events
{
	printf 'email,ts,type,text\nbig@x.com,2024-01-01,note,'
	head -c 10485760 /dev/zero | tr '\0' y
	echo
} >ebig.csv
hostile log-10mb-field 0 '' crm-log -q ebig.csv
check_exit 0 log-store-check crm-check
snap before-ev --events

## The YAML config: nesting, aliases, size.
awk 'BEGIN { printf "stages: "; for (i = 0; i < 100000; i++) printf "["; for (i = 0; i < 100000; i++) printf "]"; print "" }' >deep.yaml
awk 'BEGIN { for (i = 0; i < 5000; i++) { for (j = 0; j < i; j++) printf " "; printf "k%d:\n", i } }' >deepmap.yaml
{
	echo 'a: &a ["x","x","x","x","x","x","x","x","x","x"]'
	p=a
	for i in 1 2 3 4 5 6 7 8 9; do
		printf 'b%s: &b%s [%s]\n' $i $i "$(repeat 10 "*$p" ,)"
		p=b$i
	done
} >bomb.yaml
printf 'stages: [lead\n' >broken.yaml
printf 'stages: [lead]\n\377\376: x\n' >binary.yaml
hostile yaml-deep 78 '^crm-export: deep.yaml:1: nested too deeply$' crm-export -c deep.yaml
hostile yaml-deep-map 78 '^crm-export: deepmap.yaml:[0-9]+: nested too deeply$' crm-export -c deepmap.yaml
hostile yaml-alias-bomb 78 '^crm-export: bomb.yaml:[0-9]+: aliases are not supported$' crm-export -c bomb.yaml
hostile yaml-broken 78 '^crm-export: broken.yaml:[0-9]+: ' crm-export -c broken.yaml
hostile yaml-binary 78 '^crm-export: binary.yaml:' crm-export -c binary.yaml
hostile yaml-add 78 'deep.yaml:1: nested too deeply' crm-add -c deep.yaml --email x@example.com

## Expressions: pathological regular expressions, nesting, length.
{ echo email,x; printf 'a@x.com,'; repeat 28 a ''; echo b; } >re.csv
hostile re-nested-plus 1 '' crm-segment -e 'x =~ "^(a+)+$"' re.csv
hostile re-alternation 1 '' crm-segment -e 'x =~ "(a|aa)*(a|aa)*(a|aa)*c"' re.csv
hostile re-star-star 0 '' crm-segment -e 'x =~ "^(a*)*(b|c)$"' re.csv
hostile re-huge-repeat 64 'regular expression too large' crm-segment -e 'x =~ "(.*){1,32000}[bc]"' re.csv
hostile re-nested-repeat 64 'regular expression too large' crm-segment -e 'x =~ "((a{1,100}){1,100}){1,100}b"' re.csv
hostile re-bad 64 '' crm-segment -e 'x =~ "(("' re.csv
hostile expr-parens 64 'nested more than 100 deep' crm-segment -e "$(repeat 50000 '(' '')x == 1$(repeat 50000 ')' '')" re.csv
hostile expr-not 64 'nested more than 100 deep' crm-segment -e "$(repeat 30000 'not ' '')x == 1" re.csv
hostile expr-long-or 1 '' crm-segment -e "$(repeat 10000 'x == 1' ' or ')" re.csv
hostile expr-long-in 1 '' crm-segment -e "x in ($(repeat 20000 '"a"' ,))" re.csv
printf 'segments:\n  s: %s\n' "$(repeat 100000 '(' '')" >seg.yaml
hostile expr-config 78 'seg.yaml:2: segment "s": column 101: nested more than 100 deep' crm-segment -c seg.yaml -s s re.csv
check_store_same hostile-store-end before-ev --events

## Output safety: crm-export --spreadsheet.
cat >cells.csv <<'CSV'
email,first_name,phone,note,amount,tags
f1@x.com,"=HYPERLINK(""http://evil"",""x"")",+1 555 0100,@SUM(A1),-12.50,"-x;=y"
f2@x.com,plain,-,+5,--1,ok
f3@x.com,"x=1",'+1,"-2.5e3",+,
CSV
check_exit 0 safe-import crm-add -q -D safe cells.csv
check_out safe-csv "email,first_name,phone,note,amount,tags
f1@x.com,\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",'+1 555 0100,'@SUM(A1),-12.50,'-x;=y
f2@x.com,plain,'-,+5,'--1,ok
f3@x.com,x=1,'+1,'-2.5e3,'+," crm-export -D safe --spreadsheet --fields email,first_name,phone,note,amount,tags
check_out safe-tsv "email	first_name	phone	note	amount	tags
f1@x.com	'=HYPERLINK(\"http://evil\",\"x\")	'+1 555 0100	'@SUM(A1)	-12.50	'-x;=y
f2@x.com	plain	'-	+5	'--1	ok
f3@x.com	x=1	'+1	'-2.5e3	'+	" crm-export -D safe --spreadsheet -F tsv --fields email,first_name,phone,note,amount,tags
# without the option the cells are as stored
check_out safe-off "email,note
f1@x.com,@SUM(A1)
f2@x.com,+5
f3@x.com,-2.5e3" crm-export -D safe --fields email,note
# a header a spreadsheet would run is neutralised too, and events as well
printf 'email,=cmd\ng@x.com,1\n' >hdr.csv
check_exit 0 safe-hdr-import crm-add -q -D safe2 hdr.csv
check_out safe-header "email,'=cmd
g@x.com,1" crm-export -D safe2 --spreadsheet --fields email,=cmd
check_exit 0 safe-event crm-log -q -D safe -c f2@x.com -t note --ts 2024-01-01 --subject '=1+1'
run crm-export -D safe --events --spreadsheet
check_match safe-event-subject "'=1\\+1" "$(cat "$OUT")"

## A record wider than a contact may be, through NDJSON: bad input (65).
awk 'BEGIN { printf "{\"email\":\"w@x.com\""; for (i = 0; i < 5000; i++) printf ",\"c%d\":\"v\"", i; print "}" }' >wide.ndjson
hostile add-wide-ndjson 65 '^crm-add: wide.ndjson:1: value too large$' crm-add -q -F ndjson wide.ndjson
