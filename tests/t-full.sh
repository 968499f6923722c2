# A full disk: an import into a store on a small filesystem (a tmpfs with a
# size limit; we need root to mount it) fails with a clear error, status
# 74, and leaves the store as it was; once space is freed the same import
# goes through, the map having grown with it. And a store of another
# format version is refused with a clear message. A full map (CRM_MAP_BYTES)
# is the same, and the map grows with the room.

ASOF=2025-01-01T00:00:00Z

mounted=
if [ "$(id -u)" -ne 0 ]; then
	skip full-disk "not root: cannot mount a size-limited tmpfs"
elif ! mkdir -p mnt || ! mount -t tmpfs -o size=3m,mode=0700 tmpfs mnt 2>/dev/null; then
	skip full-disk "mounting a tmpfs is not permitted here"
else
	mounted=1
fi

if [ -n "$mounted" ]; then
	crm-gen contacts 200 --dups 0 -s 31 >small.csv
	crm-gen contacts 30000 --dups 0 -s 32 >big.csv
	check_exit 0 full-first crm-add -D mnt/db -q --as-of $ASOF small.csv
	snap before -D mnt/db
	check_exit 74 full-import crm-add -D mnt/db -q --as-of $ASOF big.csv
	check_err full-import-msg '^crm-add: .*(full|No space left)'
	check_no_err full-import-no-noise 'Assertion|panic|corrupt'
	check_store_same full-store-same before -D mnt/db
	check_exit 0 full-store-check crm-check -D mnt/db
	# crm-log too
	crm-gen events 60000 -c 200 -s 31 >events.csv
	snap before-ev -D mnt/db --events
	check_exit 74 full-log crm-log -D mnt/db -q --as-of $ASOF --create events.csv
	check_err full-log-msg '^crm-log: .*(full|No space left)'
	check_store_same full-log-same before-ev -D mnt/db --events
	check_exit 0 full-log-check crm-check -D mnt/db
	# With room again (the filesystem grown), the same import goes through.
	if mount -o remount,size=64m mnt 2>/dev/null; then
		check_exit 0 full-after-room crm-add -D mnt/db -q --as-of $ASOF big.csv
		check_eq full-after-room-count 30200 $(($(crm-export -D mnt/db --fields id | wc -l) - 1))
		check_exit 0 full-after-room-check crm-check -D mnt/db
	else
		skip full-after-room "tmpfs cannot be remounted larger"
	fi
	umount mnt
fi

## A full map (CRM_MAP_BYTES stands for the room on the disk): the import
## fails with status 74 and the store stays as it was; with more room the
## map grows at the next write and the same import goes through.
crm-gen contacts 200 --dups 0 -s 41 >msmall.csv
crm-gen contacts 20000 --dups 0 -s 42 >mbig.csv
check_exit 0 map-first crm-add -D m -q --as-of $ASOF msmall.csv
snap map-before -D m
run env CRM_MAP_BYTES=1048576 $CRM_TEST_WRAP "$BIN/crm-add" -D m -q --as-of $ASOF mbig.csv
check_eq map-full-status 74 "$RC"
check_err map-full-msg '^crm-add: .*map of store .* is full; nothing of this transaction was stored'
check_store_same map-full-same map-before -D m
check_exit 0 map-full-check crm-check -D m
run env CRM_MAP_BYTES=67108864 $CRM_TEST_WRAP "$BIN/crm-add" -D m -q --as-of $ASOF mbig.csv
check_eq map-grown-status 0 "$RC"
check_eq map-grown-count 20200 $(($(crm-export -D m --fields id | wc -l) - 1))
check_exit 0 map-grown-check crm-check -D m

## Version safety: the format number in the meta database, rewritten with
## LMDB's own dump and load tools, makes the store be refused.
if command -v mdb_dump >/dev/null 2>&1 && command -v mdb_load >/dev/null 2>&1; then
	check_exit 0 version-create crm-add -D v --email a@example.com
	mdb_dump -p -s meta v >meta.dump
	# format 3 -> 99 (a u32 in the machine's order)
	awk '/^ format$/ { print; getline; print " c\\00\\00\\00"; next } { print }' meta.dump >meta99.dump
	if cmp -s meta.dump meta99.dump; then
		fail version-dump "the format key was not found in the meta dump"
	else
		mdb_load -s meta -f meta99.dump v 2>/dev/null
		snap vsnap -D v
		for t in crm-export crm-check crm-show; do
			case $t in crm-show) set -- a@example.com ;; *) set -- ;; esac
			check_exit 65 "version-$t" $t -D v "$@"
			check_err "version-$t-msg" "^$t: store .*v has format 99; this crm reads formats 2 and 3\$"
		done
		check_exit 65 version-add crm-add -D v --email b@example.com
		check_err version-add-msg 'has format 99; this crm reads formats 2 and 3$'
		check_exit 65 version-log crm-log -D v -c a@example.com -t note
		check_err version-log-msg 'has format 99; this crm reads formats 2 and 3$'
		# and it was not touched: the dump is still format 99
		mdb_dump -p -s meta v >after.dump
		if cmp -s meta99.dump after.dump; then ok version-untouched; else fail version-untouched "meta changed"; fi
	fi
else
	skip version "mdb_dump and mdb_load (lmdb-utils) are not installed"
fi
