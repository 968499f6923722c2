# crm-check: usage, exit statuses, the summary line, and damage found in a
# store changed behind the library's back (with lmdb-utils).

check_exit 0 help crm-check --help
check_match help-usage '^usage: crm-check \[-q\] \[-D dir\]$' "$(cat "$OUT")"
check_exit 0 version crm-check --version
check_match version-format '^crm-check \(crm\) [0-9]+\.[0-9]+\.[0-9]+$' "$(cat "$OUT")"
check_exit 64 usage-operand crm-check extra
check_exit 64 usage-option crm-check --bogus
check_exit 66 no-store crm-check -D "$T/none"
check_err no-store-msg "^crm-check: no store at $T/none\$"

## A good store.
printf 'email,ext_id,plan\na@x.com,A1,pro\nb@x.com,,free\n' >c.csv
printf 'email,ts,type,amount,ext_id\na@x.com,2024-01-01,purchase,10.50,o1\na@x.com,2024-01-02,refund,2.00,o1\nb@x.com,2024-01-03,call,,\n' >e.csv
crm-add -q c.csv >/dev/null
crm-log -q e.csv >/dev/null
check_out good "2 contacts, 2 emails, 1 ext_ids, 1 fields, 3 events, 2 evkeys, 2 stats, 2 audit entries: ok" crm-check
check_empty good-stderr "$ERR"
check_out good-quiet "" crm-check -q
check_exit 0 front crm check -q
# A reader: it neither waits for nor blocks a writer holding the lock.
check_out good-D "2 contacts, 2 emails, 1 ext_ids, 1 fields, 3 events, 2 evkeys, 2 stats, 2 audit entries: ok" crm-check -D "$CRM_DB"

## Damage: entries added with mdb_load, as a bad disk or a bug might.
if command -v mdb_load >/dev/null 2>&1; then
	cp -r "$CRM_DB" d1
	# an ext_id entry naming a contact that does not exist (id 9)
	printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n ZZ\n \\09\\00\\00\\00\\00\\00\\00\\00\nDATA=END\n' |
	    mdb_load -s ext_id d1 2>/dev/null
	check_exit 65 damaged-index crm-check -D d1
	check_err damaged-index-msg '^crm-check: d1: ext_id index: "ZZ" names contact 9, which does not exist$'
	check_match damaged-summary 'FAILED$' "$(cat "$OUT")"
	cp -r "$CRM_DB" d2
	# statistics of contact 2 replaced by those of nobody (all zero)
	{
		printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n \\02\\00\\00\\00\\00\\00\\00\\00\n '
		i=0
		while [ $i -lt 65 ]; do printf '\\00'; i=$((i + 1)); done
		printf '\nDATA=END\n'
	} | mdb_load -s stats d2 2>/dev/null
	check_exit 65 damaged-stats crm-check -D d2
	check_err damaged-stats-msg '^crm-check: d2: contact 2: stored events is "0", the events give "1"$'
	# a string table with a gap: string 7 where string 2 should be
	cp -r "$CRM_DB" d3
	printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n \\07\\00\\00\\00\\00\\00\\00\\00\n zz\nDATA=END\n' |
	    mdb_load -s strings d3 2>/dev/null
	check_exit 65 damaged-strings crm-check -D d3
	check_err damaged-strings-msg '^crm-check: d3: string table of d3: string 2 is missing or damaged$'
	check_exit 0 original-untouched crm-check -q
else
	skip damage "mdb_load (lmdb-utils) is not installed"
fi

## After a merge and an erasure the store is still consistent: a merged
## contact's keys name the kept one, an erased person leaves nothing.
printf 'email,first_name,last_name,ext_id\nh1@x.com,Ann,Lee,H1\nh2@y.com,Ann,Lee,H2\nh3@x.com,Cy,Ho,H3\n' >h.csv
printf 'email,ts,type,amount,ext_id\nh1@x.com,2024-01-01,purchase,10,p1\nh2@y.com,2024-01-05,purchase,5,p2\nh3@x.com,2024-01-03,purchase,7,p3\n' >he.csv
crm-add -q -D hy h.csv >/dev/null
crm-log -q -D hy he.csv >/dev/null
check_exit 0 hygiene-merge crm-merge -D hy 1 2
check_out hygiene-merge-check "2 contacts, 3 emails, 3 ext_ids, 0 fields, 3 events, 3 evkeys, 2 stats, 3 audit entries: ok" crm-check -D hy
check_exit 0 hygiene-forget crm-forget -D hy 3
check_out hygiene-forget-check "1 contacts, 2 emails, 2 ext_ids, 0 fields, 2 events, 2 evkeys, 1 stats, 4 audit entries: ok" crm-check -D hy
