# Helpers for the black-box tests; sourced by tests/run before each t-*.sh.
# Every assertion records one result: ok NAME or fail NAME MESSAGE.
# run CMD... leaves the exit status in $RC, stdout in $OUT, stderr in $ERR.

OUT=$T/.out
ERR=$T/.err
RC=0
DETAIL=$T/.detail

# Without GNU timeout(1), run the command without a time limit.
if ! command -v timeout >/dev/null 2>&1; then
	timeout() { shift; "$@"; }
fi

# The tools, with $CRM_TEST_WRAP (e.g. valgrind) in front of each.
crm() { $CRM_TEST_WRAP "$BIN/crm" "$@"; }
crm-add() { $CRM_TEST_WRAP "$BIN/crm-add" "$@"; }
crm-export() { $CRM_TEST_WRAP "$BIN/crm-export" "$@"; }
crm-log() { $CRM_TEST_WRAP "$BIN/crm-log" "$@"; }
crm-show() { $CRM_TEST_WRAP "$BIN/crm-show" "$@"; }
crm-segment() { $CRM_TEST_WRAP "$BIN/crm-segment" "$@"; }
crm-score() { $CRM_TEST_WRAP "$BIN/crm-score" "$@"; }
crm-report() { $CRM_TEST_WRAP "$BIN/crm-report" "$@"; }
crm-check() { $CRM_TEST_WRAP "$BIN/crm-check" "$@"; }
crm-gen() { "$BIN/crm-gen" "$@"; }
crm-merge() { $CRM_TEST_WRAP "$BIN/crm-merge" "$@"; }
crm-forget() { $CRM_TEST_WRAP "$BIN/crm-forget" "$@"; }
crm-audit() { $CRM_TEST_WRAP "$BIN/crm-audit" "$@"; }

ok() {
	echo "P $TEST_FILE $1" >>"$RESULTS"
}

# fail NAME MESSAGE: one line per failure; details on demand.
fail() {
	local msg
	echo "F $TEST_FILE $1" >>"$RESULTS"
	msg=$(printf '%s' "$2" | tr '\n\t' '|  ' | cut -c1-400)
	echo "FAIL $TEST_FILE: $1: $msg"
	if [ -n "$CRM_TEST_VERBOSE" ] && [ -s "$DETAIL" ]; then
		sed 's/^/    /' "$DETAIL"
	fi
	: >"$DETAIL"
}

skip() {
	echo "SKIP $TEST_FILE: $1: $2" >&2
}

run() {
	"$@" >"$OUT" 2>"$ERR"
	RC=$?
	return 0
}

# first line of stderr, for failure messages
_errline() {
	head -n 3 "$ERR" | tr '\n' '|'
}

# _expect EXPECTED FILE: EXPECTED is a file name, or a string ("" = empty).
_expect() {
	if [ -n "$1" ] && [ "${1#*
}" = "$1" ] && [ -f "$1" ]; then
		cat -- "$1"
	elif [ -n "$1" ]; then
		printf '%s\n' "$1"
	fi
}

# _same NAME EXPECTED FILE: compare FILE with EXPECTED exactly.
_same() {
	_expect "$2" >"$T/.expected"
	if cmp -s "$T/.expected" "$3"; then
		ok "$1"
	else
		diff -u "$T/.expected" "$3" >"$DETAIL" 2>&1
		fail "$1" "output differs: $(grep '^[-+][^-+]' "$DETAIL" | head -n 4 | tr '\n' ' ')"
	fi
}

# check_exit EXPECTED NAME CMD...
check_exit() {
	local want=$1 name=$2
	shift 2
	run "$@"
	if [ "$RC" -eq "$want" ]; then
		ok "$name"
	else
		cp "$ERR" "$DETAIL"
		fail "$name" "exit $RC, expected $want; stderr: $(_errline)"
	fi
}

# check_out NAME EXPECTED CMD...: exit 0 and stdout exactly EXPECTED.
check_out() {
	local name=$1 want=$2
	shift 2
	run "$@"
	if [ "$RC" -ne 0 ]; then
		cp "$ERR" "$DETAIL"
		fail "$name" "exit $RC, expected 0; stderr: $(_errline)"
		return
	fi
	_same "$name" "$want" "$OUT"
}

# check_stdout NAME EXPECTED: stdout of the last run is exactly EXPECTED.
check_stdout() {
	_same "$1" "$2" "$OUT"
}

# check_stderr NAME EXPECTED: stderr of the last run is exactly EXPECTED.
check_stderr() {
	_same "$1" "$2" "$ERR"
}

# check_file NAME EXPECTED FILE
check_file() {
	if [ ! -f "$3" ]; then
		fail "$1" "file $3 missing"
		return
	fi
	_same "$1" "$2" "$3"
}

# check_err NAME ERE: some line of stderr of the last run matches ERE.
check_err() {
	if grep -Eq -- "$2" "$ERR"; then
		ok "$1"
	else
		cp "$ERR" "$DETAIL"
		fail "$1" "stderr does not match /$2/; got: $(_errline)"
	fi
}

# check_no_err NAME ERE: no line of stderr matches ERE.
check_no_err() {
	if grep -Eq -- "$2" "$ERR"; then
		cp "$ERR" "$DETAIL"
		fail "$1" "stderr matches /$2/: $(grep -E -- "$2" "$ERR" | head -n 1)"
	else
		ok "$1"
	fi
}

# check_lastline NAME STRING: the last line of stderr is exactly STRING.
check_lastline() {
	local last
	last=$(tail -n 1 "$ERR")
	if [ "$last" = "$2" ]; then
		ok "$1"
	else
		cp "$ERR" "$DETAIL"
		fail "$1" "last stderr line \"$last\", expected \"$2\""
	fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "got \"$3\", expected \"$2\""
	fi
}

# check_match NAME ERE STRING
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		fail "$1" "\"$3\" does not match /$2/"
	fi
}

# check_empty NAME FILE
check_empty() {
	if [ -s "$2" ]; then
		cp "$2" "$DETAIL"
		fail "$1" "expected empty, got: $(head -n 2 "$2" | tr '\n' '|')"
	else
		ok "$1"
	fi
}

# snap FILE [crm-export options]: the store as crm-export sees it,
# including its exit status, so "no store" is a state too.
snap() {
	local f=$1
	shift
	crm-export "$@" >"$f" 2>&1
	echo "exit $?" >>"$f"
}

# check_store_same NAME SNAPFILE [crm-export options]: store unchanged.
check_store_same() {
	local name=$1 f=$2
	shift 2
	snap "$T/.snap.now" "$@"
	if cmp -s "$f" "$T/.snap.now"; then
		ok "$name"
	else
		diff -u "$f" "$T/.snap.now" >"$DETAIL" 2>&1
		fail "$name" "store changed: $(grep '^[-+][^-+]' "$DETAIL" | head -n 4 | tr '\n' ' ')"
	fi
}

# csv_col NAME [FILE]: the values of column NAME, one per record, for CSV
# without embedded newlines (quotes and commas inside quotes are handled).
csv_col() {
	awk -v want="$1" '
	function split_csv(line, out,    n, i, c, f, q) {
		n = 0; f = ""; q = 0
		for (i = 1; i <= length(line); i++) {
			c = substr(line, i, 1)
			if (q) {
				if (c == "\"") {
					if (substr(line, i + 1, 1) == "\"") { f = f "\""; i++ }
					else q = 0
				} else f = f c
			} else if (c == "\"") q = 1
			else if (c == ",") { out[++n] = f; f = "" }
			else f = f c
		}
		out[++n] = f
		return n
	}
	{ sub(/\r$/, "") }
	NR == 1 {
		n = split_csv($0, h); col = 0
		for (i = 1; i <= n; i++) if (h[i] == want) col = i
		if (col == 0) { print "csv_col: no column " want > "/dev/stderr"; exit 2 }
		next
	}
	{ split_csv($0, r); print r[col] }
	' "${2:--}"
}

# csv_rows FILE: number of data lines (records without embedded newlines).
csv_rows() {
	echo $(($(wc -l <"$1") - 1))
}

# The 19 core columns in export order.
CORE='id,email,first_name,last_name,phone,company,title,city,country,source,stage,owner,tags,email_opt_in,consent_at,consent_source,created_at,updated_at,ext_id'

# The statistics columns crm-export writes after the core columns; their
# values for a contact without events, with a leading comma to append to a
# core_row; and the header of a contact export (custom columns follow it).
STATS='first_seen_at,last_seen_at,events,first_purchase_at,last_purchase_at,purchases,purchase_days,revenue'
NOSTATS=',,,0,,,0,0,0.00'
XCORE="$CORE,$STATS"

# core_row KEY=VALUE...: one CSV line in CORE order; values are written as
# given (quote them yourself when they need it).
core_row() {
	awk -v core="$CORE" 'BEGIN {
		n = split(core, c, ",")
		for (i = 1; i < ARGC; i++) {
			k = ARGV[i]; sub(/=.*/, "", k)
			v = ARGV[i]; sub(/^[^=]*=/, "", v)
			if (!(k in known)) { known[k] = 1 }
			val[k] = v
		}
		for (i = 1; i <= n; i++) delete known[c[i]]
		for (k in known) { print "core_row: not a core column: " k > "/dev/stderr"; exit 2 }
		line = ""
		for (i = 1; i <= n; i++) line = line (i > 1 ? "," : "") val[c[i]]
		print line
		exit
	}' "$@"
}

# xrow KEY=VALUE...: an exported contact without events: core_row, then
# the statistics (NOSTATS).  Custom columns are for the caller to append.
xrow() {
	local r
	r=$(core_row "$@") || return
	printf '%s%s\n' "$r" "$NOSTATS"
}

# check_lastline_re NAME ERE: the last line of stderr matches ERE.
check_lastline_re() {
	local last
	last=$(tail -n 1 "$ERR")
	if printf '%s\n' "$last" | grep -Eq -- "$2"; then
		ok "$1"
	else
		cp "$ERR" "$DETAIL"
		fail "$1" "last stderr line \"$last\" does not match /$2/"
	fi
}
