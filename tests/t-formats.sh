# crm-add input formats: BOM and CRLF, NDJSON, YAML, --map, -m mailchimp.

A1=2024-01-01T00:00:00Z
MC=$TESTDATA/mailchimp

## BOM and CRLF give the same result as a plain LF file.
printf 'email,first_name,city\nx@example.com,X,Oslo\ny@example.com,"Y, Z",Rome\n' >plain.csv
printf '\357\273\277' | cat - plain.csv >bom.csv
sed 's/$/\r/' plain.csv >crlf.csv
sed 's/$/\r/' bom.csv >bom-crlf.csv
printf 'email,first_name,city\nx@example.com,X,Oslo\ny@example.com,"Y, Z",Rome' >no-final-newline.csv
run crm-add -D "$T/s-plain" --as-of $A1 plain.csv
cp "$OUT" plain.out
check_eq plain-exit 0 "$RC"
for v in bom crlf bom-crlf no-final-newline; do
	check_out "$v-output" plain.out crm-add -D "$T/s-$v" --as-of $A1 $v.csv
	snap plain.snap -D "$T/s-plain"
	check_store_same "$v-store" plain.snap -D "$T/s-$v"
done
# From stdin, too.
check_out bom-crlf-stdin plain.out crm-add -D "$T/s-stdin" --as-of $A1 <bom-crlf.csv

## The tools read CSV with a scanner of their own; CRM_CSV_SPLIT=0 has
## libcsv read every line. Both give the same store, output and errors,
## with quoted commas, quotes and line ends, CRLF, a byte-order mark, and
## bad rows (a quote after a field, an invalid address, an unterminated
## quote at the end), each reported with its line.
printf '\357\273\277email,first_name,note\r\n' >scan.csv
printf 'a@example.com,"Ann, A","say ""hi""\nthen go"\r\n' >>scan.csv
printf 'b@example.com,"B"x,bad\n' >>scan.csv
printf '\n"c@example.com",C,""\n' >>scan.csv
printf 'not-an-address,D,d\n' >>scan.csv
printf 'e@example.com,E,"multi\r\nline, two"\n' >>scan.csv
printf 'f@example.com,F,"open\n' >>scan.csv
run crm-add -D "$T/s-scan" --as-of $A1 -r scan-rej.csv scan.csv
cp "$OUT" scan.out
cp "$ERR" scan.err
check_eq scan-exit 0 "$RC"
check_eq scan-errors 3 "$(grep -c 'scan.csv:[0-9]*: ' scan.err)"
check_match scan-error-lines 'scan.csv:4: .*scan.csv:7: .*scan.csv:10: ' "$(tr '\n' ' ' <scan.err)"
cp scan-rej.csv scan-rej.want
export CRM_CSV_SPLIT=0
run crm-add -D "$T/s-scan0" --as-of $A1 -r scan-rej.csv scan.csv
unset CRM_CSV_SPLIT
check_eq scan-libcsv-exit 0 "$RC"
check_stdout scan-libcsv-output scan.out
check_file scan-libcsv-errors scan.err "$ERR"
check_file scan-libcsv-rejects scan-rej.want scan-rej.csv
snap scan.snap -D "$T/s-scan"
check_store_same scan-libcsv-store scan.snap -D "$T/s-scan0"

## Input from a pipe comes in reads of 64 KB or less, and a row that is
## not whole in the reader's buffer is read again with more: a quoted
## field of 32 KB with line ends and quotes in it, across byte 262144 (the
## first read of a file), in 400 KB of rows.
awk 'BEGIN {
	print "email,first_name,note"
	for (i = 0; i < 6000; i++) {
		if (i == 4300) {
			printf "long@example.com,Long,\""
			for (j = 0; j < 800; j++)
				printf "line %d, with \"\"quotes\"\" and more text\n", j
			print "end\""
		}
		printf "p%d@example.com,Name%d,note %d with some words to fill\n", i, i, i
	}
}' >pipe.csv
run crm-add -D "$T/s-pipe-file" -n --as-of $A1 pipe.csv
check_eq pipe-file-exit 0 "$RC"
snap pipe.snap -D "$T/s-pipe-file"
check_eq pipe-file-rows 6001 "$(grep -c '@example.com' pipe.snap)"
check_match pipe-long-field 'line 799, with "quotes" and more text' "$(crm-export -D "$T/s-pipe-file" -F ndjson | grep long@ | sed 's/\\"/"/g')"
cat pipe.csv | crm-add -D "$T/s-pipe" -n --as-of $A1 - >/dev/null 2>&1
check_store_same pipe-stdin-store pipe.snap -D "$T/s-pipe"
export CRM_CSV_SPLIT=0
cat pipe.csv | crm-add -D "$T/s-pipe0" -n --as-of $A1 - >/dev/null 2>&1
unset CRM_CSV_SPLIT
check_store_same pipe-libcsv-store pipe.snap -D "$T/s-pipe0"

## TSV input.
printf 'email\tfirst_name\tcity\nx@example.com\tX\tOslo\ny@example.com\tY, Z\tRome\n' >plain.tsv
check_out tsv-input plain.out crm-add -D "$T/s-tsv" --as-of $A1 -F tsv plain.tsv
printf 'email\tnote\nx@example.com\ta\\tb\\nc\\\\d\n' >esc.tsv
check_exit 0 tsv-unescape crm-add -D "$T/s-tsv2" -n --as-of $A1 -F tsv esc.tsv
run crm-export -D "$T/s-tsv2" -F tsv
check_eq tsv-unescape-value 'a\tb\nc\\d' "$(tail -n 1 "$OUT" | awk -F'\t' '{print $NF}')"

## NDJSON input: tags as an array, id as a number, bools.
cat >in.ndjson <<'EOF2'
{"email":"n1@example.com","first_name":"N1","tags":["a","b c"],"email_opt_in":true,"consent_at":"2024-01-01","consent_source":"web","plan":"pro"}
{"id":5,"email":"N2@Example.com","last_name":"Two \"2\"","email_opt_in":false,"consent_at":"2024-01-02T10:00:00Z","consent_source":"web","note":"a,b\nc"}

{"email":"n3@example.com","city":"Zürich \u00fc"}
EOF2
cat >in-nd.csv <<'EOF2'
id,email,first_name,last_name,tags,email_opt_in,consent_at,consent_source,plan,city,note
,n1@example.com,N1,,a;b c,true,2024-01-01,web,pro,,
5,n2@example.com,,"Two ""2""",,false,2024-01-02T10:00:00Z,web,,,"a,b
c"
,n3@example.com,,,,,,,,Zürich ü,
EOF2
check_exit 0 ndjson-input crm-add -D "$T/s-nd" -n --as-of $A1 -F ndjson in.ndjson
check_exit 0 ndjson-input-csv crm-add -D "$T/s-ndcsv" -n --as-of $A1 in-nd.csv
check_out ndjson-input-ids 'id,email
1,n1@example.com
5,n2@example.com' crm-export -D "$T/s-nd" --fields id,email --email n1@example.com,n2@example.com
run crm-export -D "$T/s-nd" --fields email,tags,email_opt_in,city --email n1@example.com,n3@example.com
check_stdout ndjson-input-fields 'email,tags,email_opt_in,city
n1@example.com,a;b c,true,
n3@example.com,,,Zürich ü'
# Column order can differ (the CSV names every column up front), so
# compare the common core columns plus the custom ones by name.
run crm-export -D "$T/s-nd" --fields "$CORE,plan,note"
cp "$OUT" nd.out
check_out ndjson-input-same-as-csv nd.out crm-export -D "$T/s-ndcsv" --fields "$CORE,plan,note"

printf '{"email":"ok@example.com"}\n{"email":"bad@example.com",\n' >bad.ndjson
check_exit 65 ndjson-bad crm-add -D "$T/s-nd" -F ndjson bad.ndjson
check_err ndjson-bad-msg '^crm-add: bad\.ndjson:2: '
printf '{"email":"ok@example.com"}\n{"email":"bob@"}\n' >bad2.ndjson
check_exit 65 ndjson-bad-email crm-add -D "$T/s-nd" -F ndjson bad2.ndjson
check_err ndjson-bad-email-msg '^crm-add: bad2\.ndjson:2: column "email": invalid email "bob@"$'
printf '[{"email":"ok@example.com"}]\n' >bad3.ndjson
check_exit 65 ndjson-not-object crm-add -D "$T/s-nd" -F ndjson bad3.ndjson
check_err ndjson-not-object-msg '^crm-add: bad3\.ndjson:1: '

## YAML input: a sequence of mappings.
cat >in.yaml <<'EOF2'
# contacts
- email: n1@example.com
  first_name: N1
  tags: "a;b c"
  email_opt_in: true
  consent_at: 2024-01-01
  consent_source: web
  plan: pro
- id: 5
  email: N2@Example.com
  last_name: 'Two "2"'
  email_opt_in: false
  consent_at: "2024-01-02T10:00:00Z"
  consent_source: web
  note: "a,b\nc"
- email: n3@example.com
  city: Zürich ü
EOF2
check_exit 0 yaml-input crm-add -D "$T/s-yaml" -n --as-of $A1 -F yaml in.yaml
check_out yaml-input-same-as-csv nd.out crm-export -D "$T/s-yaml" --fields "$CORE,plan,note"

printf -- '- email: ok@example.com\n- first_name: B\n  email: bob@\n' >bad.yaml
check_exit 65 yaml-bad-email crm-add -D "$T/s-yaml" -F yaml bad.yaml
check_err yaml-bad-email-msg '^crm-add: bad\.yaml:2: column "email": invalid email "bob@"$'
printf -- '- email: ok@example.com\n- [unclosed\n' >bad2.yaml
check_exit 65 yaml-syntax crm-add -D "$T/s-yaml" -F yaml bad2.yaml
check_err yaml-syntax-msg '^crm-add: bad2\.yaml:[0-9]+: '

## --map.
printf 'Email Address,Given,city\nx@example.com,X,Oslo\ny@example.com,"Y, Z",Rome\n' >mapped.csv
check_out map plain.out crm-add -D "$T/s-map" --as-of $A1 --map 'Email Address=email' --map Given=first_name mapped.csv
# Without the mapping "Email Address" is a custom column and no row has a key.
check_exit 65 map-needed crm-add -D "$T/s-map2" --as-of $A1 mapped.csv
check_err map-needed-msg '^crm-add: mapped\.csv:2: row has no id, ext_id or email$'
# Header names: trimmed, case-insensitive, spaces and hyphens as underscores.
printf ' EMAIL ,First Name,CITY\nx@example.com,X,Oslo\ny@example.com,"Y, Z",Rome\n' >headers.csv
check_out header-names plain.out crm-add -D "$T/s-hdr" --as-of $A1 headers.csv
printf 'e-mail,first-name,City\nx@example.com,X,Oslo\ny@example.com,"Y, Z",Rome\n' >headers2.csv
check_out header-names-hyphen plain.out crm-add -D "$T/s-hdr2" --as-of $A1 --map e-mail=email headers2.csv

## Mailchimp export: all three files with the built-in mapping.
MC_SUB=$MC/ghost-migrate_mailchimp_subscribed.csv
MC_UNSUB=$MC/ghost-migrate_mailchimp_unsubscribed.csv
MC_CLEAN=$MC/ghost-migrate_mailchimp_cleaned.csv
M="-D $T/mc"
check_exit 0 mailchimp crm-add $M -n -m mailchimp --as-of $A1 "$MC_SUB" "$MC_UNSUB" "$MC_CLEAN"
cat >mc.want <<'EOF2'
s1@example.com|||||true|2023-04-21T11:16:57Z|mailchimp
s2@example.com||||Lorem Editors|true|2018-02-12T10:54:27Z|mailchimp
s3@example.com||||Lorem Editors|true|2018-02-12T10:54:27Z|mailchimp
s4@example.com||||Lorem Editors|true|2018-02-05T19:28:23Z|mailchimp
s5@example.com|Dolor|Simet|Lorem Co.|Lorem Editors|true|2018-02-05T19:28:22Z|mailchimp
u1@example.com|Dolor||||false|2018-07-23T12:19:27Z|mailchimp
u2@example.com||Simet||Lorem Editors|false|2023-06-06T12:56:15Z|mailchimp
u3@example.com|Lorem|Ipsum|Example foundation|Lorem Editors|false|2022-12-05T21:01:47Z|mailchimp
u4@example.com||||Lorem Editors|false|2020-05-13T10:18:25Z|mailchimp
u5@example.com||||Lorem Editors|false|2021-09-20T20:13:55Z|mailchimp
c1@example.com|Dolor|||Editors|false|2020-03-23T17:30:05Z|mailchimp
c2@example.com|Simet|Lut||Editors|false|2020-06-25T15:12:06Z|mailchimp
c3@example.com|Lorem|Ipsum|Another Company||false|2023-05-12T15:19:02Z|mailchimp
c4@example.com||Lorem||Editors|false|2023-02-08T13:15:46Z|mailchimp
c5@example.com||||Editors|false|2020-03-25T17:40:24Z|mailchimp
EOF2
# mc_table DIR-ARGS: the columns above, one contact a line, id order.
mc_table() {
	crm-export "$@" >"$T/.mc.csv" 2>"$ERR" || return
	paste -d'|' <(csv_col email "$T/.mc.csv") <(csv_col first_name "$T/.mc.csv") \
	    <(csv_col last_name "$T/.mc.csv") <(csv_col company "$T/.mc.csv") \
	    <(csv_col tags "$T/.mc.csv") <(csv_col email_opt_in "$T/.mc.csv") \
	    <(csv_col consent_at "$T/.mc.csv") <(csv_col consent_source "$T/.mc.csv")
}
mc_table $M >mc.got
check_file mailchimp-contacts mc.want mc.got
check_eq mailchimp-count 15 "$(wc -l <mc.got | tr -d ' ')"

# Each file alone, in the other order, lands the same contacts.
check_exit 0 mailchimp-separate-1 crm-add -D "$T/mc2" -n -m mailchimp --as-of $A1 "$MC_CLEAN"
check_exit 0 mailchimp-separate-2 crm-add -D "$T/mc2" -n -m mailchimp --as-of $A1 "$MC_UNSUB"
check_exit 0 mailchimp-separate-3 crm-add -D "$T/mc2" -n -m mailchimp --as-of $A1 "$MC_SUB"
mc_table -D "$T/mc2" | sort >mc2.got
sort mc.want >mc.sorted
check_file mailchimp-separate mc.sorted mc2.got

# Re-importing the export changes nothing.
crm-add $M -n -v -m mailchimp --as-of 2025-01-01 "$MC_SUB" "$MC_UNSUB" "$MC_CLEAN" 2>"$ERR"
check_err mailchimp-reimport-unchanged '^crm-add: 15 rows: 0 created, 0 updated, 15 unchanged$'

## Consent: an older opt-in does not undo a newer opt-out.
head -n 1 "$MC_SUB" >resub-old.csv
echo 'u2@example.com,,,,,,,2018-02-12 10:54:26,,2018-02-12 10:54:26,,,,,,,,,,,,,' >>resub-old.csv
check_exit 0 consent-older-optin crm-add $M -n -m mailchimp --as-of 2025-01-01 resub-old.csv
run crm-export $M --email u2@example.com
check_eq consent-older-optin-kept 'false|2023-06-06T12:56:15Z' \
    "$(csv_col email_opt_in <"$OUT")|$(csv_col consent_at <"$OUT")"

# Subscribed first, unsubscribed later: opted out.
printf '%s\n%s\n' "$(head -n 1 "$MC_SUB")" "$(grep '^u2@' "$MC_UNSUB" | cut -d, -f1-18),,,,,\"\"\"Lorem Editors\"\"\"" >u2-sub.csv
check_exit 0 consent-sub-then-unsub-1 crm-add -D "$T/mc3" -n -m mailchimp --as-of $A1 u2-sub.csv
run crm-export -D "$T/mc3"
check_eq consent-sub-then-unsub-sub 'true|2018-02-12T10:54:26Z' \
    "$(csv_col email_opt_in <"$OUT")|$(csv_col consent_at <"$OUT")"
check_exit 0 consent-sub-then-unsub-2 crm-add -D "$T/mc3" -n -m mailchimp --as-of $A1 "$MC_UNSUB"
run crm-export -D "$T/mc3" --email u2@example.com
check_eq consent-sub-then-unsub 'false|2023-06-06T12:56:15Z' \
    "$(csv_col email_opt_in <"$OUT")|$(csv_col consent_at <"$OUT")"
# ... and subscribing again later opts back in.
head -n 1 "$MC_SUB" >resub-new.csv
echo 'u2@example.com,,,,,,,2024-02-02 02:02:02,,2024-02-02 02:02:02,,,,,,,,,,,,,' >>resub-new.csv
check_exit 0 consent-newer-optin crm-add -D "$T/mc3" -n -m mailchimp --as-of 2025-01-01 resub-new.csv
run crm-export -D "$T/mc3" --email u2@example.com
check_eq consent-newer-optin-applied 'true|2024-02-02T02:02:02Z|mailchimp' \
    "$(csv_col email_opt_in <"$OUT")|$(csv_col consent_at <"$OUT")|$(csv_col consent_source <"$OUT")"

## A mapping from a config, with another tag separator.
cat >conf.yaml <<'EOF2'
mappings:
  shop:
    columns: {"E-Mail": email, "Vorname": first_name, Schlagworte: tags}
    set: {source: shop}
    opt_in: [Angemeldet]
    opt_out: [Abgemeldet]
    tag_separator: "|"
EOF2
printf 'E-Mail,Vorname,Schlagworte,Angemeldet,Abgemeldet\nk@example.com,Käthe,a|b,2024-03-01 10:00:00,\nl@example.com,Lars,,2024-03-01 10:00:00,2024-03-02 11:00:00\n' >shop.csv
check_exit 0 config-mapping crm-add -D "$T/shop" -n -c conf.yaml -m shop --as-of $A1 shop.csv
run crm-export -D "$T/shop"
check_eq config-mapping-values 'k@example.com|Käthe|a;b|shop|true|2024-03-01T10:00:00Z l@example.com|Lars||shop|false|2024-03-02T11:00:00Z' \
    "$(paste -d'|' <(csv_col email <"$OUT") <(csv_col first_name "$OUT") <(csv_col tags "$OUT") <(csv_col source "$OUT") <(csv_col email_opt_in "$OUT") <(csv_col consent_at "$OUT") | tr '\n' ' ' | sed 's/ $//')"
check_exit 64 mapping-unknown crm-add -D "$T/shop" -n -m nosuch shop.csv
