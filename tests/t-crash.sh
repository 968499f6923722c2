# Crash consistency: crm-add and crm-log killed with SIGKILL at random
# points of large imports. After every kill the store opens, crm-check
# finds it consistent, and it holds exactly the transactions that were
# committed: byte for byte what an uninterrupted run had after that many
# commits.
#
#   CRM_CRASH_TRIALS   kills per tool (default 12; scripts/crash runs more)
#   CRM_CRASH_SEED     seed of the kill points (default: from the clock);
#                      a failure prints the seed that reproduces it

TRIALS=${CRM_CRASH_TRIALS:-12}
SEED=${CRM_CRASH_SEED:-$(date +%s)}
ASOF=2025-01-01T00:00:00Z
NC=40000    # contacts imported by crm-add
BATCH=2000  # in batches of this many
NE=400000   # events imported by crm-log
NCHUNK=8    # in this many runs
if [ -n "$CRM_TEST_WRAP" ]; then
	# under valgrind every run is fifty times slower: less of everything
	[ -z "${CRM_CRASH_TRIALS-}" ] && TRIALS=2
	NC=4000 BATCH=200 NE=20000 NCHUNK=4
fi

# now: seconds since the epoch, with decimals
now() { date +%s.%N; }

# pick I SPAN: a kill delay in [0, SPAN) seconds, from SEED and I
pick() {
	awk -v s="$SEED" -v i="$1" -v span="$2" \
	    'BEGIN { srand(s * 1000 + i); printf "%.3f\n", rand() * span }'
}

# killed_run DELAY TOOL ARG...: runs TOOL ARG... $IN in the background,
# SIGKILLs it after DELAY seconds (if it still runs), waits for it. The
# binary is started directly: the process killed must be the tool itself,
# not a subshell that would leave it running.
killed_run() {
	local delay=$1 tool=$2 pid
	shift 2
	$CRM_TEST_WRAP "$BIN/$tool" "$@" "$IN" >/dev/null 2>"$T/.killed.err" &
	pid=$!
	sleep "$delay"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# consistent NAME DB: the store opens and passes crm-check.
consistent() {
	run crm-check -D "$2"
	if [ "$RC" -eq 0 ]; then
		ok "$1"
	else
		cp "$ERR" "$DETAIL"
		fail "$1" "crm-check exit $RC (seed $SEED): $(_errline)"
	fi
}

## crm-add --batch: after a kill the store holds the first k batches.
crm-gen contacts $NC --dups 0 -s 11 >contacts.csv
t0=$(now)
check_exit 0 add-reference crm-add -D "$T/ref" -q --as-of $ASOF --batch $BATCH contacts.csv
span=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print (b - a) * 1.2 }')
crm-export -D "$T/ref" >ref.csv
consistent add-reference-check "$T/ref"
IN=contacts.csv
i=0
partial=0
while [ $i -lt "$TRIALS" ]; do
	i=$((i + 1))
	rm -rf "$T/k"
	killed_run "$(pick $i "$span")" crm-add -D "$T/k" -q --as-of $ASOF --batch $BATCH
	if [ ! -e "$T/k/data.mdb" ]; then
		ok "add-kill-$i-before-create"
		continue
	fi
	run crm-check -D "$T/k"
	if [ "$RC" -eq 66 ]; then
		# Killed while creating the store, before its first commit: no
		# store yet, and the next writer creates it.
		check_err "add-kill-$i-uncreated" "^crm-check: no store at $T/k\$"
		check_exit 0 "add-kill-$i-create-after" crm-add -D "$T/k" -q --email after@example.com
		consistent "add-kill-$i-create-after-check" "$T/k"
		continue
	fi
	consistent "add-kill-$i-check" "$T/k"
	crm-export -D "$T/k" >got.csv 2>"$T/.exp.err"
	n=$(($(wc -l <got.csv) - 1))
	if [ $((n % BATCH)) -ne 0 ] && [ $n -ne $NC ]; then
		fail "add-kill-$i-batches" "$n contacts is not a whole number of batches (seed $SEED)"
	else
		ok "add-kill-$i-batches"
	fi
	head -n $((n + 1)) ref.csv >want.csv
	# (with no batch committed the header has no custom columns yet)
	if [ $n -eq 0 ] || cmp -s want.csv got.csv; then
		ok "add-kill-$i-committed"
	else
		fail "add-kill-$i-committed" "the $n contacts differ from the reference's first $n (seed $SEED)"
	fi
	[ $n -gt 0 ] && [ $n -lt $NC ] && partial=$((partial + 1))
	# The killed import, run again, completes the store.
	if [ $i -le 2 ]; then
		check_exit 0 "add-kill-$i-rerun" crm-add -D "$T/k" -q --as-of $ASOF --batch $BATCH contacts.csv
		crm-export -D "$T/k" >got.csv
		if cmp -s ref.csv got.csv; then ok "add-kill-$i-rerun-same"; else fail "add-kill-$i-rerun-same" "store differs from the reference"; fi
	fi
done
echo "t-crash: crm-add: $TRIALS kills, $partial mid-import (seed $SEED)" >&2

## crm-log: one transaction a run. Chunks run one after another; a kill
## leaves the store as it was after the last completed chunk, or (killed
## after its commit) after this one.
crm-gen contacts 5000 --dups 0 -s 12 >base.csv
crm-gen events $NE -c 5000 -s 12 >events.csv
per=$((NE / NCHUNK))
j=1
while [ $j -le $NCHUNK ]; do
	{ head -n 1 events.csv; sed -n "$((2 + (j - 1) * per)),$((1 + j * per))p" events.csv; } >chunk$j.csv
	j=$((j + 1))
done
crm-add -D "$T/base" -q --as-of $ASOF base.csv >/dev/null
cp -r "$T/base" "$T/lref"
# sum DB: a checksum of everything the store exports
sum() {
	{ crm-export -D "$1"; crm-export -D "$1" --events; } 2>&1 | cksum
}
sum "$T/lref" >sum0
took=0
j=1
while [ $j -le $NCHUNK ]; do
	t0=$(now)
	crm-log -D "$T/lref" -q --as-of $ASOF --create chunk$j.csv >/dev/null 2>&1
	took=$(awk -v a="$t0" -v b="$(now)" -v s="$took" 'BEGIN { print s + b - a }')
	sum "$T/lref" >sum$j
	j=$((j + 1))
done
span=$(awk -v s="$took" -v n=$NCHUNK 'BEGIN { print s / n * 1.2 }')
consistent log-reference-check "$T/lref"
rm -rf "$T/k"
cp -r "$T/base" "$T/k"
j=1
i=0
partial=0
while [ $i -lt "$TRIALS" ] && [ $j -le $NCHUNK ]; do
	i=$((i + 1))
	IN=chunk$j.csv
	killed_run "$(pick $((i + 1000)) "$span")" crm-log -D "$T/k" -q --as-of $ASOF --create
	consistent "log-kill-$i-check" "$T/k"
	s=$(sum "$T/k")
	if [ "$s" = "$(cat sum$((j - 1)))" ]; then
		ok "log-kill-$i-committed"
		partial=$((partial + 1))
	elif [ "$s" = "$(cat sum$j)" ]; then
		ok "log-kill-$i-committed"
		j=$((j + 1))
	else
		fail "log-kill-$i-committed" "store after chunk $j is neither the state before nor after it (seed $SEED)"
		break
	fi
done
# What was not committed, run again, lands: the final state is the reference's.
while [ $j -le $NCHUNK ]; do
	crm-log -D "$T/k" -q --as-of $ASOF --create chunk$j.csv >/dev/null 2>&1
	j=$((j + 1))
done
check_eq log-kill-rerun-same "$(cat sum$NCHUNK)" "$(sum "$T/k")"
consistent log-kill-final-check "$T/k"
echo "t-crash: crm-log: $i kills, $partial before the commit (seed $SEED)" >&2
