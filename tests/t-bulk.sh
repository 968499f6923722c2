# Bulk imports through the reader thread: many batches of rows, --batch
# commits, rejects and progress. Data from the project's own generator.

crm-gen() { "$BIN/crm-gen" "$@"; }
AS=--as-of=2025-01-01
count() { crm-export "$@" | sed 1d | wc -l | tr -d ' '; }
# The number of distinct e-mail addresses of a contacts CSV, lower-cased.
distinct() { sed 1d "$1" | cut -d, -f1 | tr 'A-Z' 'a-z' | sort -u | wc -l | tr -d ' '; }

crm-gen contacts 5000 -s 3 --dups 0.03 >c.csv
n=$(distinct c.csv)
check_exit 0 bulk-import crm-add -v -n $AS c.csv
check_err bulk-summary "^crm-add: 5000 rows: $n created, 0 updated, $((5000 - n)) unchanged\$"
check_eq bulk-count "$n" "$(count)"
crm-export >first.csv
check_exit 0 bulk-reimport crm-add -v -n --as-of=2025-02-01 c.csv
check_err bulk-reimport-summary '^crm-add: 5000 rows: 0 created, 0 updated, 5000 unchanged$'
crm-export >second.csv
check_eq bulk-reimport-same "" "$(cmp first.csv second.csv 2>&1)"

# A row's record is made ready on the reading thread, or, when the writer
# has nothing else to do, on the writer's: the store is the same either
# way. CRM_FEED_LAZY forces one way for every row. Two inputs, so that
# each row's consent source is its own file's.
head -n 2600 c.csv >c1.csv
{ head -n 1 c.csv; tail -n +2601 c.csv; } >c2.csv
check_exit 0 bulk-lazy crm-add -n $AS -D "$T/l" c1.csv c2.csv
crm-export -D "$T/l" >lazy-default.csv
for lazy in 0 1; do
	export CRM_FEED_LAZY=$lazy
	check_exit 0 bulk-lazy$lazy crm-add -n $AS -D "$T/l$lazy" c1.csv c2.csv
	check_empty bulk-lazy$lazy-quiet "$ERR"
	crm-export -D "$T/l$lazy" >lazy$lazy.csv
	check_eq bulk-lazy$lazy-same "" "$(cmp lazy-default.csv lazy$lazy.csv 2>&1)"
	check_exit 0 bulk-lazy$lazy-batches crm-add -n $AS -D "$T/l$lazy" \
	    --batch 700 c.csv
	check_eq bulk-lazy$lazy-reimport "$n" "$(count -D "$T/l$lazy")"
	unset CRM_FEED_LAZY
done
check_match bulk-lazy-source 'c2\.csv' "$(cat lazy1.csv)"

# The rows printed are the stored contacts, in input order, one per row.
check_exit 0 bulk-output crm-add $AS -D "$T/o" c.csv
check_eq bulk-output-rows 5000 "$(sed 1d "$OUT" | wc -l | tr -d ' ')"
check_eq bulk-output-first "$(sed -n 2p c.csv | cut -d, -f1)" "$(sed -n 2p "$OUT" | cut -d, -f2)"

# Committing every 700 rows gives the same store as one transaction.
check_exit 0 bulk-batches crm-add -n $AS --batch 700 -D "$T/b" c.csv
crm-export -D "$T/b" >batched.csv
check_eq bulk-batches-same "" "$(cmp first.csv batched.csv 2>&1)"

# A bad row deep in a large file: nothing committed, its line named.
crm-gen contacts 3000 -s 4 --dups 0 >d.csv
awk 'NR == 2500 { sub(/@/, "@@") } { print }' d.csv >bad.csv
check_exit 65 bulk-bad crm-add -n $AS -D "$T/x" bad.csv
check_err bulk-bad-line '^crm-add: bad\.csv:2500: column "email": invalid email '
check_lastline bulk-bad-last 'crm-add: 1 bad row; nothing committed'
check_eq bulk-bad-nothing 0 "$(count -D "$T/x")"
check_exit 0 bulk-reject crm-add -n $AS -D "$T/x" -r rej.csv bad.csv
check_eq bulk-reject-count 2999 "$(count -D "$T/x")"
check_eq bulk-reject-line 2500 "$(sed -n 2p rej.csv | awk -F, '{ print $(NF - 1) }')"

# With --batch, the batches before the bad one stay committed.
check_exit 65 bulk-batch-bad crm-add -n $AS --batch 1000 -D "$T/y" bad.csv
check_lastline bulk-batch-bad-last 'crm-add: 1 bad row; the first 2000 rows were committed'
check_eq bulk-batch-bad-count 2000 "$(count -D "$T/y")"

# Progress shows on a terminal only.
if command -v script >/dev/null 2>&1; then
	# A slow producer: the rows after a pause find half a second gone.
	script -qec "sh -c '(head -n 2001 c.csv; sleep 1; tail -n +2002 c.csv) |
	    $BIN/crm-add -n $AS -D $T/p'" /dev/null >tty.out 2>&1
	check_match bulk-progress-tty 'rows/s' "$(tr '\r' '\n' <tty.out)"
	run crm-add -n $AS -D "$T/p2" c.csv
	check_empty bulk-progress-not-tty "$ERR"
else
	skip bulk-progress-tty "no script(1)"
fi

## A larger input: the e-mail index and the heap for the store's changed
## pages are made present ahead by a thread of their own (lib/prefault.c,
## from about 16,000 rows). The store is the same with that thread off.
crm-gen contacts 30000 -s 5 --dups 0.01 >big.csv
check_exit 0 bulk-prefault crm-add -n $AS -D "$T/pf1" big.csv
export CRM_PREFAULT=0
check_exit 0 bulk-prefault-off crm-add -n $AS -D "$T/pf0" big.csv
unset CRM_PREFAULT
crm-export -D "$T/pf1" >pf1.csv
crm-export -D "$T/pf0" >pf0.csv
check_eq bulk-prefault-rows "$(distinct big.csv)" "$(count -D "$T/pf1")"
check_eq bulk-prefault-same "" "$(cmp pf0.csv pf1.csv 2>&1)"
