# crm (the front), and --help / --version of every tool.

TOOLS="crm crm-add crm-check crm-export crm-log crm-show"

for t in $TOOLS; do
	check_exit 0 "$t-help" $t --help
	check_match "$t-help-usage" '^usage: ' "$(grep '^usage:' "$OUT" | head -n 1)"
	check_empty "$t-help-stderr" "$ERR"
	check_exit 0 "$t-h" $t -h
	check_match "$t-h-usage" '^usage: ' "$(grep '^usage:' "$OUT" | head -n 1)"
	check_exit 0 "$t-version" $t --version
	check_match "$t-version-format" "^$t \\(crm\\) [0-9]+\\.[0-9]+\\.[0-9]+\$" "$(cat "$OUT")"
	check_eq "$t-version-one-line" 1 "$(wc -l <"$OUT" | tr -d ' ')"
done
run crm-add --version
v=$(sed 's/.*) //' "$OUT")
check_out version-same-crm "crm (crm) $v" crm --version
check_out version-same-export "crm-export (crm) $v" crm-export --version
check_out version-same-log "crm-log (crm) $v" crm-log --version
check_out version-same-show "crm-show (crm) $v" crm-show --version
check_eq version-spec 0.1.0 "$v"

# crm add ... runs crm-add.
check_out front-add "$CORE
$(core_row id=1 email=f@example.com first_name=F created_at=2024-01-01T00:00:00Z updated_at=2024-01-01T00:00:00Z)" \
    crm add --as-of 2024-01-01T00:00:00Z --email f@example.com --first-name F
check_out front-export "$XCORE
$(xrow id=1 email=f@example.com first_name=F created_at=2024-01-01T00:00:00Z updated_at=2024-01-01T00:00:00Z)" \
    crm export
check_out front-add-version "crm-add (crm) $v" crm add --version
check_exit 64 front-add-exit-status crm add --nosuch
printf 'email\nbob@\n' >bad.csv
check_exit 65 front-add-passes-exit crm add bad.csv
check_err front-add-passes-stderr '^crm-add: bad\.csv:2: '
check_exit 66 front-export-passes-exit crm export -D "$T/nostore"
# crm log and crm show run crm-log and crm-show.
check_exit 0 front-log crm log --as-of 2024-01-02T00:00:00Z -c f@example.com -t call --subject hello
check_out front-log-stored "id,contact,email,ts,type,subject
1,1,f@example.com,2024-01-02T00:00:00Z,call,hello" crm export --events
check_exit 0 front-show crm show f@example.com
check_match front-show-head '^F <f@example\.com>  \(id 1\)$' "$(head -n 1 "$OUT")"

# crm help lists the tools.
check_exit 0 help crm help
check_match help-add '(^|[^-a-z])add([^-a-z]|$)|crm-add' "$(cat "$OUT")"
check_match help-export '(^|[^-a-z])export([^-a-z]|$)|crm-export' "$(cat "$OUT")"
check_match help-log '(^|[^-a-z])log([^-a-z]|$)|crm-log' "$(cat "$OUT")"
check_match help-show '(^|[^-a-z])show([^-a-z]|$)|crm-show' "$(cat "$OUT")"

# crm help TOOL is TOOL's usage.
run crm-add --help
cp "$OUT" add-help.out
check_out help-tool add-help.out crm help add

# An unknown tool, or no tool, is a usage error.
check_exit 64 unknown-tool crm nosuchtool
check_stderr unknown-tool-msg 'crm: unknown tool "nosuchtool"; see crm help'
check_empty unknown-tool-stdout "$OUT"
check_exit 64 no-tool crm
check_err no-tool-usage '^usage: '
check_empty no-tool-stdout "$OUT"

# crm finds crm-add next to itself even when PATH has none.
mkdir -p elsewhere
run env PATH=/usr/bin:/bin $CRM_TEST_WRAP "$BIN/crm" add --email p@example.com
check_eq front-without-path 0 "$RC"
# ... and, when copied away from its tools, falls back to PATH.
cp "$BIN/crm" elsewhere/crm
run env PATH="$BIN:/usr/bin:/bin" $CRM_TEST_WRAP ./elsewhere/crm add --email q@example.com
check_eq front-path-fallback 0 "$RC"
check_out front-path-fallback-store "email
f@example.com
p@example.com
q@example.com" crm-export --fields email
