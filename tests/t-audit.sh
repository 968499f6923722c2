# crm-audit: every tool that writes leaves an entry (time, user, tool,
# operation, ids, field names) and no personal value; read-only tools
# leave none; the filters.

check_exit 0 add crm-add -n --email ada@example.com --first-name Ada --set plan=pro --as-of 2024-01-01
check_exit 0 add2 crm-add -n --email bob@example.com --phone 555-0100
check_exit 0 log crm-log -c ada@example.com -t note --note "private words"
check_exit 0 merge crm-merge ada@example.com bob@example.com
check_exit 0 forget crm-forget ada@example.com
check_exit 0 read-only sh -c "$BIN/crm-export >/dev/null; $BIN/crm-export --events >/dev/null; $BIN/crm-show 1 >/dev/null 2>&1; true"

run crm-audit
check_eq entries 5 "$(csv_rows "$OUT")"
check_eq header 'seq,ts,user,tool,op,ids,fields,rows' "$(head -n 1 "$OUT")"
cut -d, -f1,4,5 "$OUT" >tools.txt
check_file tools 'seq,tool,op
1,crm-add,upsert
2,crm-add,upsert
3,crm-log,log
4,crm-merge,merge
5,crm-forget,forget' tools.txt
check_eq add-fields '"email,first_name,plan"' "$(sed -n 2p "$OUT" | cut -d, -f7-9)"
check_eq add-ids 1 "$(sed -n 2p "$OUT" | cut -d, -f6)"
check_eq user "$(id -un)" "$(sed -n 2p "$OUT" | cut -d, -f3)"
check_match ts '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "$(sed -n 2p "$OUT" | cut -d, -f2)"
if grep -Eq 'ada|Ada|bob|555|private|pro\b' "$OUT"; then
	fail no-values "$(grep -Eo 'ada|Ada|bob|555|private|pro' "$OUT" | head -n 1)"
else
	ok no-values
fi

## Filters.
check_eq tool-merge 4 "$(crm-audit --tool crm-merge | sed -n 2p | cut -d, -f1)"
check_eq op 5 "$(crm-audit --op forget | sed -n 2p | cut -d, -f1)"
check_eq id-2 '2
4' "$(crm-audit --id 2 | sed 1d | cut -d, -f1)"
check_eq id-range '1
3
4
5' "$(crm-audit --id 1 | sed 1d | cut -d, -f1)"
# crm-log names the contacts whose log grew and what of them changed.
check_eq log-ids-fields '1,"events,statistics"' "$(crm-audit --tool crm-log | sed -n 2p | cut -d, -f6-8)"
check_eq user-filter 5 "$(crm-audit --user "$(id -un)" | csv_rows /dev/stdin)"
check_exit 1 user-none crm-audit --user nobody-here
check_eq since-future '' "$(crm-audit --since 2999-01-01 | sed 1d)"
check_eq until-past '' "$(crm-audit --until 2000-01-01 | sed 1d)"
check_match ndjson '^\{"seq":"1","ts":"[^"]+","user":"[^"]+","tool":"crm-add","op":"upsert","ids":"1","fields":"email,first_name,plan","rows":"1 created, 0 updated"\}$' "$(crm-audit -F ndjson | head -n 1)"

## Errors.
check_exit 64 bad-time crm-audit --since yesterday
check_exit 64 bad-id crm-audit --id x
check_exit 64 operand crm-audit foo
check_exit 66 no-store crm-audit -D "$T/none"
check_exit 0 help crm-audit --help
check_exit 0 version crm-audit --version

## Subject access: everything about one person, as NDJSON.
rm -rf "$CRM_DB"
check_exit 0 s-add crm-add -n --email eve@example.com --first-name Eve --set plan=pro --as-of 2024-01-01
check_exit 0 s-add2 crm-add -n --email eve.old@example.com --city Oslo --as-of 2024-01-01
check_exit 0 s-other crm-add -n --email zed@example.com --first-name Zed --as-of 2024-01-01
check_exit 0 s-log crm-log -c eve.old@example.com -t call --note "about renewal" --ts 2024-02-01T10:00:00Z
check_exit 0 s-merge crm-merge --as-of 2024-03-01 eve@example.com eve.old@example.com
crm-export --subject EVE@example.com | grep -v '"record":"audit"' >subject.json
check_file subject '{"record":"contact","id":1,"email":"eve@example.com","first_name":"Eve","plan":"pro","created_at":"2024-01-01T00:00:00Z","updated_at":"2024-03-01T00:00:00Z","city":"Oslo"}
{"record":"statistics","contact":1,"first_seen_at":"2024-02-01T10:00:00Z","last_seen_at":"2024-02-01T10:00:00Z","events":"1","first_purchase_at":"","last_purchase_at":"","purchases":"0","purchase_days":"0","revenue":"0.00"}
{"record":"merged_ids","contact":1,"ids":[2]}
{"record":"event","id":1,"contact":1,"ts":"2024-02-01T10:00:00Z","type":"call","text":"about renewal"}' subject.json
run crm-export --subject 2
check_eq subject-audit 'crm-add crm-add crm-log crm-merge' "$(grep '"record":"audit"' "$OUT" | sed 's/.*"tool":"\([^"]*\)".*/\1/' | tr '\n' ' ' | sed 's/ $//')"
if grep -q zed "$OUT"; then fail subject-only-eve "another contact in the output"; else ok subject-only-eve; fi
check_exit 1 subject-unknown crm-export --subject nobody@example.com
check_exit 64 subject-events crm-export --subject 1 --events
check_exit 64 subject-bad crm-export --subject 'not an address'
