# Concurrency: writers and readers in parallel processes on one store for
# a bounded time, as when cron overlaps an interactive session. Every write
# lands (no lost update: each writer's tags on one shared contact all stay,
# each event is there once); writers say nothing but the documented
# "waiting for the lock"; every reader sees a consistent snapshot (two
# contacts written in one transaction are seen both or neither, and
# crm-check passes on whatever moment it reads).
#
#   CRM_CONC_SECONDS   how long the writers run (default 6)

SECS=${CRM_CONC_SECONDS:-6}
NW=3
NR=2
printf 'email,pair\nshared@example.com,\n' >seed.csv
check_exit 0 seed crm-add seed.csv

# writer W: until the deadline, one pair of contacts (one transaction), a
# tag on the shared contact, an event on it; counts the rounds done.
writer() {
	local w=$1 k=0 end=$(($(date +%s) + SECS))
	while [ "$(date +%s)" -lt $end ]; do
		k=$((k + 1))
		printf 'email,pair\nw%s-%s-a@example.com,w%s-%s\nw%s-%s-b@example.com,w%s-%s\n' \
		    $w $k $w $k $w $k $w $k |
		    crm-add -q >/dev/null 2>>"w$w.err" || echo "add $k failed" >>"w$w.bad"
		crm-add -q --email shared@example.com --tag "w$w-$k" >/dev/null 2>>"w$w.err" ||
		    echo "tag $k failed" >>"w$w.bad"
		crm-log -q -c shared@example.com -t note --ext-id "w$w-$k" \
		    --subject "round $k" >/dev/null 2>>"w$w.err" ||
		    echo "log $k failed" >>"w$w.bad"
		echo $k >"w$w.rounds"
	done
}

# reader R: until the writers are done, exports and checks.
reader() {
	local r=$1 n=0
	while [ ! -e writers.done ]; do
		n=$((n + 1))
		crm-export --fields email,pair >"r$r.csv" 2>>"r$r.err" ||
		    echo "export $n failed" >>"r$r.bad"
		# every pair complete: each pair value seen exactly twice
		awk -F, 'NR > 1 && $2 != "" { c[$2]++ }
		    END { for (p in c) if (c[p] != 2) { print "pair " p " seen " c[p] " times"; exit 1 } }' \
		    "r$r.csv" >>"r$r.bad"
		crm-check -q >/dev/null 2>>"r$r.err" || echo "check $n failed" >>"r$r.bad"
		echo $n >"r$r.rounds"
		sleep 0.2 # leave the writers some of the machine
	done
}

w=1
while [ $w -le $NW ]; do
	writer $w &
	w=$((w + 1))
done
r=1
while [ $r -le $NR ]; do
	reader $r &
	r=$((r + 1))
done
# wait for the writers (the first NW jobs), then stop the readers
w=1
for pid in $(jobs -p | head -n $NW); do
	wait "$pid"
done
touch writers.done
wait

total=0
w=1
while [ $w -le $NW ]; do
	k=$(cat "w$w.rounds" 2>/dev/null || echo 0)
	total=$((total + k))
	check_eq "writer-$w-ran" 1 $((k > 0))
	if [ -s "w$w.bad" ]; then fail "writer-$w-no-failure" "$(head -n 3 "w$w.bad")"; else ok "writer-$w-no-failure"; fi
	# the only words a writer may say: that it waits for the lock
	if grep -v 'is busy, waiting for the lock$' "w$w.err" >"w$w.other"; then
		fail "writer-$w-quiet" "$(head -n 3 "w$w.other")"
	else
		ok "writer-$w-quiet"
	fi
	w=$((w + 1))
done
r=1
while [ $r -le $NR ]; do
	check_eq "reader-$r-ran" 1 $(($(cat "r$r.rounds" 2>/dev/null || echo 0) > 0))
	if [ -s "r$r.bad" ]; then fail "reader-$r-consistent" "$(head -n 3 "r$r.bad")"; else ok "reader-$r-consistent"; fi
	if [ -s "r$r.err" ]; then fail "reader-$r-quiet" "$(head -n 3 "r$r.err")"; else ok "reader-$r-quiet"; fi
	r=$((r + 1))
done
echo "t-concurrency: $NW writers did $total rounds, readers $(cat r*.rounds | tr '\n' ' ')rounds in ${SECS}s" >&2

## Nothing lost.
check_eq contacts $((1 + 2 * total)) $(($(crm-export --fields id | wc -l) - 1))
tags=$(crm-export --email shared@example.com --fields tags | sed 1d | tr ';' '\n' | sort)
want=$(w=1; while [ $w -le $NW ]; do k=1; n=$(cat "w$w.rounds"); while [ $k -le "$n" ]; do echo "w$w-$k"; k=$((k + 1)); done; w=$((w + 1)); done | sort)
check_eq shared-tags "$want" "$tags"
check_eq shared-events $total $(($(crm-export --events --email shared@example.com | wc -l) - 1))
check_exit 0 final-check crm-check
