# The store: where it is, its permissions, concurrent writers, the lock.

A1=2024-01-01T00:00:00Z

# perm FILE: octal permission bits
perm() {
	stat -c %a "$1" 2>/dev/null || stat -f %Lp "$1" 2>/dev/null
}

# check_perms NAME DIR: dir 0700, every file in it 0600
check_perms() {
	local name=$1 d=$2 f
	if [ ! -d "$d" ]; then
		fail "$name" "store $d not created"
		return
	fi
	check_eq "$name-dir" 700 "$(perm "$d")"
	for f in data.mdb lock.mdb; do
		if [ -f "$d/$f" ]; then
			check_eq "$name-$f" 600 "$(perm "$d/$f")"
		else
			fail "$name-$f" "$d/$f missing"
		fi
	done
	for f in "$d"/*; do
		case $(perm "$f") in
		600 | 700) ;;
		*) fail "$name-other" "$f has mode $(perm "$f")"; return ;;
		esac
	done
	ok "$name-other"
}

## Permissions, with the usual umask and with umask 000.
check_exit 0 perms-create crm-add -D "$T/p1" --email a@example.com
check_perms perms "$T/p1"
(umask 000; check_exit 0 perms-umask000-create crm-add -D "$T/p2" --email a@example.com)
check_perms perms-umask000 "$T/p2"
(umask 000; printf 'email\nb@example.com\n' | crm-add -D "$T/p3" -n)
check_perms perms-umask000-stream "$T/p3"
# A later write with umask 000 does not loosen them.
(umask 000; check_exit 0 perms-umask000-update crm-add -D "$T/p1" --email b@example.com)
check_perms perms-after-update "$T/p1"

# Missing parents are created, 0700 too.
check_exit 0 perms-parents crm-add -D "$T/deep/er/db" --email a@example.com
check_eq perms-parents-mode "700 700 700" "$(perm "$T/deep") $(perm "$T/deep/er") $(perm "$T/deep/er/db")"

# A store that cannot be created: 73.
check_exit 73 cannot-create crm-add -D /dev/null/db --email a@example.com
check_err cannot-create-msg '^crm-add: .*/dev/null/db'

## Where the store is: -D, then $CRM_DB, then $XDG_DATA_HOME/crm, then ~/.local/share/crm.
CRM_DB=$T/env check_exit 0 where-D-over-env crm-add -D "$T/flag" --email d@example.com
if [ -e "$T/env" ]; then fail where-D-over-env-no-env "\$CRM_DB store created"; else ok where-D-over-env-no-env; fi
check_out where-D-store "email
d@example.com" crm-export -D "$T/flag" --fields email
CRM_DB=$T/env check_exit 0 where-env crm-add --email e@example.com
check_out where-env-store "email
e@example.com" crm-export -D "$T/env" --fields email
CRM_DB=$T/env check_out where-env-export "email
e@example.com" crm-export --fields email
CRM_DB=$T/env check_out where-D-over-env-export "email
d@example.com" crm-export -D "$T/flag" --fields email
(
	unset CRM_DB
	check_exit 0 where-xdg crm-add --email x@example.com
	check_out where-xdg-store "email
x@example.com" crm-export -D "$XDG_DATA_HOME/crm" --fields email
	unset XDG_DATA_HOME
	check_exit 0 where-home crm-add --email h@example.com
	check_out where-home-store "email
x@example.com
h@example.com" crm-export -D "$HOME/.local/share/crm" --fields email
)
(
	unset CRM_DB
	export XDG_DATA_HOME=$T/xdg2
	check_exit 0 where-xdg2 crm-add --email y@example.com
	check_out where-xdg2-store "email
y@example.com" crm-export -D "$T/xdg2/crm" --fields email
	check_perms where-xdg2-perms "$T/xdg2/crm"
)

## Which config: -c, then $CRM_CONFIG, then $XDG_CONFIG_HOME/crm/config.yaml.
printf 'stages: [lead]\n' >strict.yaml
printf 'stages: [lead, foo]\n' >open.yaml
printf 'email,stage\ncfg@example.com,foo\n' >stage.csv
check_exit 0 config-none crm-add -D "$T/cfg" -n stage.csv
mkdir -p "$XDG_CONFIG_HOME/crm"
cp strict.yaml "$XDG_CONFIG_HOME/crm/config.yaml"
check_exit 65 config-xdg crm-add -D "$T/cfg" -n stage.csv
check_err config-xdg-msg '^crm-add: stage\.csv:2: column "stage": stage "foo" is not allowed$'
CRM_CONFIG=open.yaml check_exit 0 config-env-over-xdg crm-add -D "$T/cfg" -n stage.csv
CRM_CONFIG=open.yaml check_exit 65 config-c-over-env crm-add -D "$T/cfg" -c strict.yaml -n stage.csv
check_exit 0 config-c-over-xdg crm-add -D "$T/cfg" -c open.yaml -n stage.csv
(
	unset XDG_CONFIG_HOME
	mkdir -p "$HOME/.config/crm"
	cp strict.yaml "$HOME/.config/crm/config.yaml"
	check_exit 65 config-home crm-add -D "$T/cfg" -n stage.csv
)
rm -f "$XDG_CONFIG_HOME/crm/config.yaml"

## Concurrent writers: nothing lost.
S=$T/conc
i=0
{
	echo email,first_name
	while [ $i -lt 50 ]; do
		echo "seed$i@example.com,Seed$i"
		i=$((i + 1))
	done
} >seed.csv
check_exit 0 conc-seed crm-add -D "$S" -n --as-of $A1 seed.csv
for w in 1 2 3 4; do
	awk -v w=$w 'BEGIN { print "email,first_name,city"; for (i = 0; i < 200; i++) printf "w%d-%d@example.com,W%d,City%d\n", w, i, w, i }' >w$w.csv
done
awk 'BEGIN { print "email,city"; for (i = 0; i < 50; i++) printf "seed%d@example.com,UpCity\n", i }' >up1.csv
awk 'BEGIN { print "email,company"; for (i = 0; i < 50; i++) printf "SEED%d@example.com,UpCo\n", i }' >up2.csv
pids=
for f in w1 up1 w2 w3 up2 w4; do
	timeout 300 $CRM_TEST_WRAP "$BIN/crm-add" -D "$S" -n $f.csv 2>conc-$f.err &
	pids="$pids $!"
done
rcs=
for p in $pids; do
	wait "$p"
	rcs="$rcs$? "
done
check_eq conc-exits "0 0 0 0 0 0 " "$rcs"
run crm-export -D "$S"
check_eq conc-export-exit 0 "$RC"
check_eq conc-count 850 "$(csv_col email <"$OUT" | wc -l | tr -d ' ')"
check_eq conc-unique "" "$(csv_col email <"$OUT" | sort | uniq -d | head -n 3 | tr '\n' ' ')"
check_eq conc-all-writers "200 200 200 200" \
    "$(for w in 1 2 3 4; do csv_col email <"$OUT" | grep -c "^w$w-"; done | tr '\n' ' ' | sed 's/ $//')"
check_eq conc-updates-both "50" \
    "$(paste -d'|' <(csv_col email <"$OUT") <(csv_col city "$OUT") <(csv_col company "$OUT") | grep -c '^seed[0-9]*@example.com|UpCity|UpCo$')"
check_eq conc-ids-unique "" "$(csv_col id <"$OUT" | sort | uniq -d | head -n 3 | tr '\n' ' ')"

# Concurrent creation of a new store.
pids=
for w in 1 2 3; do
	timeout 300 $CRM_TEST_WRAP "$BIN/crm-add" -D "$T/conc-new" -n w$w.csv 2>concnew-$w.err &
	pids="$pids $!"
done
rcs=
for p in $pids; do
	wait "$p"
	rcs="$rcs$? "
done
check_eq conc-create-exits "0 0 0 " "$rcs"
run crm-export -D "$T/conc-new"
check_eq conc-create-count 600 "$(csv_col email <"$OUT" | sort -u | wc -l | tr -d ' ')"

## The write lock: --no-wait, waiting, readers not blocked.
# SETTLE: seconds for a background process to reach its steady state
# (longer under a wrapper such as valgrind).
if [ -n "$CRM_TEST_WRAP" ]; then SETTLE=${CRM_TEST_SETTLE:-10}; else SETTLE=${CRM_TEST_SETTLE:-2}; fi
L=$T/lock
check_exit 0 lock-setup crm-add -D "$L" -n --email first@example.com
snap lock.snap -D "$L"
mkfifo fifo
# The holder reads rows from a FIFO that stays open: crm-add takes the
# writers' lock before it reads any input (crm-add(1), Locking).  Every
# other process started meanwhile closes fd 3, or the holder never sees EOF.
timeout 120 $CRM_TEST_WRAP "$BIN/crm-add" -D "$L" -n fifo 2>holder.err &
holder=$!
exec 3<>fifo
printf 'email\nhold@example.com\n' >&3
sleep "$SETTLE"
run timeout 30 $CRM_TEST_WRAP "$BIN/crm-add" -D "$L" -n --no-wait --email nowait@example.com 3>&-
check_eq lock-no-wait 75 "$RC"
check_stderr lock-no-wait-msg "crm-add: store $L is busy"
check_empty lock-no-wait-stdout "$OUT"
run timeout 30 $CRM_TEST_WRAP "$BIN/crm-export" -D "$L" 3>&-
check_eq lock-reader-not-blocked 0 "$RC"
timeout 120 $CRM_TEST_WRAP "$BIN/crm-add" -D "$L" -n --email wait@example.com 2>waiter.err 3>&- &
waiter=$!
timeout 120 $CRM_TEST_WRAP "$BIN/crm-add" -D "$L" -n -q --email quiet@example.com 2>quiet.err 3>&- &
quiet=$!
sleep "$SETTLE"
check_eq lock-waiter-says-so 1 "$(grep -cx "crm-add: store $L is busy, waiting for the lock" waiter.err)"
if kill -0 "$waiter" 2>/dev/null; then ok lock-waiter-waits; else fail lock-waiter-waits "waiter did not wait"; fi
printf 'hold2@example.com\n' >&3
exec 3>&-
wait "$holder"
check_eq lock-holder-exit 0 "$?"
wait "$waiter"
check_eq lock-waiter-exit 0 "$?"
wait "$quiet"
check_eq lock-quiet-exit 0 "$?"
check_eq lock-waiter-message-once 1 "$(grep -c 'busy' waiter.err)"
check_empty lock-quiet-no-message quiet.err
run crm-export -D "$L" --fields email
check_eq lock-all-committed "email first@example.com hold2@example.com hold@example.com quiet@example.com wait@example.com" \
    "$(sort "$OUT" | tr '\n' ' ' | sed 's/ $//')"
check_exit 1 lock-nowait-not-committed crm-export -D "$L" --fields email --email nowait@example.com
check_exit 0 lock-no-wait-free crm-add -D "$L" -n --no-wait --email free@example.com

## A writer killed while it reads commits nothing and releases the lock.
snap kill.snap -D "$L"
rm -f fifo
mkfifo fifo
timeout 120 $CRM_TEST_WRAP "$BIN/crm-add" -D "$L" -n fifo 2>killed.err &
victim=$!
exec 3<>fifo
printf 'email\nkilled1@example.com\nkilled2@example.com\n' >&3
sleep "$SETTLE"
kill -TERM "$victim" 2>/dev/null
sleep 1
exec 3>&-
wait "$victim"
rc=$?
if [ $rc -ne 0 ]; then ok kill-nonzero-exit; else fail kill-nonzero-exit "exit 0 after SIGTERM"; fi
check_store_same kill-nothing-committed kill.snap -D "$L"
run timeout 30 $CRM_TEST_WRAP "$BIN/crm-add" -D "$L" -n --no-wait --email after@example.com
check_eq kill-lock-released 0 "$RC"

## The store's format version, and the audit log (read with lmdb-utils).
if command -v mdb_dump >/dev/null 2>&1 && command -v mdb_load >/dev/null 2>&1; then
	V="$T/version"
	check_exit 0 version-make crm-add -n -D "$V" --email v@example.com
	# This crm writes format 3 (and 2, a store with no string table); a
	# store that says 4 is refused by every tool, readers and writers
	# alike, and nothing is written to it.
	mdb_dump -p -s meta "$V" | sed 's/^ \\03\\00\\00\\00$/ \\04\\00\\00\\00/' |
	    mdb_load -s meta "$V" 2>/dev/null
	check_exit 65 version-refused-export crm-export -D "$V"
	check_err version-refused-msg "^crm-export: store .*version has format 4; this crm reads formats 2 and 3\$"
	check_exit 65 version-refused-add crm-add -n -D "$V" --email w@example.com
	check_exit 65 version-refused-log crm-log -D "$V" -c v@example.com -t call
	check_err version-refused-log-msg "^crm-log: store .*version has format 4; this crm reads formats 2 and 3\$"
	check_exit 65 version-refused-show crm-show -D "$V" v@example.com
	mdb_dump -p -s meta "$V" | sed 's/^ \\04\\00\\00\\00$/ \\03\\00\\00\\00/' |
	    mdb_load -s meta "$V" 2>/dev/null
	check_eq version-refused-nothing-written "v@example.com" \
	    "$(crm-export -D "$V" --fields email | sed 1d | tr '\n' ' ' | sed 's/ $//')"
	check_eq version-refused-no-event "id,contact,email,ts,type" "$(crm-export -D "$V" --events)"

	AU="$T/audit"
	printf 'email,first_name\na1@example.com,Secretname\na2@example.com,B\n' >au.csv
	check_exit 0 audit-import crm-add -n -D "$AU" au.csv
	check_exit 0 audit-same-again crm-add -n -D "$AU" au.csv
	check_exit 0 audit-flag crm-add -n -D "$AU" --email a1@example.com --city Rome
	mdb_dump -p -s audit "$AU" >audit.txt
	grep 'crm-add' audit.txt >entries.txt
	check_eq audit-entries 2 "$(wc -l <entries.txt | tr -d ' ')"
	check_match audit-first 'user.*op.*upsert.*2 created, 0 updated.*ids.*1-2' "$(sed -n 1p entries.txt)"
	check_match audit-second '0 created, 1 updated.*ids.*1.*fields.*email,city$' "$(sed -n 2p entries.txt)"
	check_eq audit-no-personal-data 0 "$(grep -c -e a1@example -e Secretname -e Rome audit.txt)"

	## A store made before records referred to the string table (format
	## 1 records, no table) is read as it was, and written to: its new
	## records refer to the table it then gets.
	O="$T/format1"
	mkdir "$O" && chmod 700 "$O"
	mdb_load -f "$TESTDATA/store-format1.dump" "$O"
	fmt() { mdb_dump -p -s meta "$O" | sed -n '/^ format$/{n;p;}'; }
	check_eq format1-store-format ' \02\00\00\00' "$(fmt)"
	check_eq format1-read "1,ada@example.com,pro,import:old.csv|2,bob@example.com,free," \
	    "$(crm-export -D "$O" --fields id,email,plan,consent_source | sed 1d | tr '\n' '|' | sed 's/|$//')"
	printf 'email,email_opt_in,plan,seats\ncy@example.com,true,pro,4\nada@example.com,,team,\n' >new1.csv
	check_exit 0 format1-write crm-add -n -q -D "$O" new1.csv
	check_eq format1-after "1,team,,import:old.csv|2,free,,|3,pro,4,import:new1.csv" \
	    "$(crm-export -D "$O" --fields id,plan,seats,consent_source | sed 1d | tr '\n' '|' | sed 's/|$//')"
	check_exit 0 format1-check crm-check -q -D "$O"
	# Its records may now refer to the table: a crm older than the table
	# (which reads store format 2 only) refuses the store whole.
	check_eq format1-store-format3 ' \03\00\00\00' "$(fmt)"
	mdb_dump -p -s strings "$O" >strings.txt
	check_match format1-table 'import:new1\.csv' "$(cat strings.txt)"
	check_match format1-table-names 'seats' "$(cat strings.txt)"
	check_eq format1-table-no-values 0 "$(grep -c -e cy@example -e team strings.txt)"
	# The new contact's record refers to the table (format 2); Ada's,
	# updated, too; Bob's is as it was (format 1).
	mdb_dump -p -s contacts "$O" | sed -n '/HEADER=END/,/DATA=END/p' | sed -n '3~2p' | cut -c2-4 >formats.txt
	check_eq format1-formats "\02 \01 \02" "$(tr '\n' ' ' <formats.txt | sed 's/ $//')"
else
	skip version-and-audit "no mdb_dump/mdb_load (apt-get install lmdb-utils)"
fi
