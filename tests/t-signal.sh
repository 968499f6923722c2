# SIGINT and SIGTERM during an import: the open transaction is abandoned,
# the tool says so on stderr and ends by the signal; the store is as it was
# after the last commit and passes crm-check. The input comes through a
# FIFO, so the signal arrives while the import is surely in its middle.

ASOF=2025-01-01T00:00:00Z
crm-gen contacts 6000 --dups 0 -s 21 >contacts.csv
crm-gen events 6000 -c 6000 -s 21 >events.csv
head -n 1001 contacts.csv >first.csv
crm-add -q --as-of $ASOF first.csv >/dev/null

# count: the contacts in the store now
count() {
	echo $(($(crm-export --fields id | wc -l) - 1))
}

# wait_for N: until the store holds N contacts (at most 20 s)
wait_for() {
	local i=0
	while [ "$(count)" -ne "$1" ] && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# feed SIG ROWS TOOL ARG...: TOOL reads a FIFO; ROWS lines of $SRC are
# written to it and the FIFO is held open, then SIG is sent. Leaves the
# exit status in $RC and stderr in $ERR. $SETTLE may name a number of
# contacts to wait for before the signal.
feed() {
	local sig=$1 rows=$2 tool=$3 pid
	shift 3
	rm -f fifo
	mkfifo fifo
	$CRM_TEST_WRAP "$BIN/$tool" "$@" fifo >/dev/null 2>"$ERR" &
	pid=$!
	exec 3>fifo
	head -n "$rows" "$SRC" >&3
	if [ -n "${SETTLE-}" ]; then
		wait_for "$SETTLE"
	else
		sleep "${CRM_TEST_SETTLE:-2}"
	fi
	kill -"$sig" $pid
	# The input is still open: the tool must end without more of it.
	STALLED=0
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 30 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 $pid 2>/dev/null && STALLED=1
	exec 3>&-
	wait $pid
	RC=$?
}

# responsive NAME: the last feed ended on the signal alone.
responsive() {
	if [ "$STALLED" -eq 0 ]; then
		ok "$1"
	elif [ -n "${2-}" ]; then
		skip "$1" "$2"
	else
		fail "$1" "still running 3 s after the signal, input open"
	fi
}

snap before
SRC=contacts.csv
for sig in INT TERM; do
	feed $sig 4000 crm-add -q --as-of $ASOF
	[ $sig = INT ] && want=130 || want=143
	responsive "add-$sig-stalled-input"
	check_eq "add-$sig-status" $want $RC
	check_lastline "add-$sig-message" "crm-add: interrupted; nothing committed"
	check_store_same "add-$sig-store" before
	check_exit 0 "add-$sig-check" crm-check
done

# --batch: the batches committed before the signal stay.
SETTLE=3000 feed TERM 3500 crm-add -q --as-of $ASOF --batch 1000
responsive add-batch-stalled-input
check_eq add-batch-status 143 $RC
check_lastline add-batch-message "crm-add: interrupted; rows after the last batch were not committed"
check_eq add-batch-kept 3000 "$(count)"
check_exit 0 add-batch-check crm-check

snap before
snap before-ev --events
SRC=events.csv
for sig in INT TERM HUP; do
	feed $sig 5000 crm-log -q --as-of $ASOF --create
	case $sig in INT) want=130 ;; TERM) want=143 ;; HUP) want=129 ;; esac
	# crm-log once read on after the signal until its input ended
	# (fixed in cc49c4b: its writer wakes every 0.1 s).
	responsive "log-$sig-stalled-input"
	check_eq "log-$sig-status" $want $RC
	check_lastline "log-$sig-message" "crm-log: interrupted; nothing committed"
	check_store_same "log-$sig-store" before
	check_store_same "log-$sig-events" before-ev --events
	check_exit 0 "log-$sig-check" crm-check
done
