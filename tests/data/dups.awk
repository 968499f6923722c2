# Contacts with planted duplicates for crm-merge's finder (t-merge.sh):
# n base contacts first (ids 1..n), then one duplicate each of `dups`
# distinct bases in five kinds, then `traps` pairs of two people at one
# company who share a name; truth gets the base,dup pairs. Kinds: 0 the
# e-mail with a +tag (gmail: without dots), 1 the phone written another
# way, 2 a typo in the last name and "Inc." after the company, 3 a typo
# in the first name, upper case and ", Ltd", 4 the first name as an
# initial (which the finder is not meant to find).
function pick(a, n) { return a[int(rand() * n) + 1] }
function typo(s,    i, a, b) {
	i = int(rand() * (length(s) - 2)) + 2
	a = substr(s, i, 1); b = substr(s, i + 1, 1)
	return substr(s, 1, i - 1) b a substr(s, i + 2)
}
BEGIN {
	srand(seed)
	nf = split("james mary robert patricia john jennifer michael linda david elizabeth william barbara richard susan joseph jessica thomas sarah charles karen christopher lisa daniel nancy matthew betty anthony margaret mark sandra donald ashley steven kimberly paul emily andrew donna joshua michelle", F, " ")
	nl = split("smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell carter roberts phillips evans turner parker collins edwards stewart morris murphy", L, " ")
	nc = 60
	print "email,first_name,last_name,phone,company" > out
	print "base,dup" > truth
	for (i = 1; i <= n; i++) {
		f[i] = pick(F, nf); l[i] = pick(L, nl)
		c[i] = "Company " i % nc
		p[i] = sprintf("%03d%03d%04d", 200 + int(rand() * 700), int(rand() * 1000), int(rand() * 10000))
		d[i] = (rand() < 0.2) ? "gmail.com" : "example.com"
		e[i] = f[i] "." l[i] "." i "@" d[i]
		printf "%s,%s,%s,%s,%s\n", e[i], f[i], l[i], p[i], c[i] > out
	}
	for (k = 1; k <= dups; k++) {
		do b = int(rand() * n) + 1; while (b in used)
		used[b] = 1
		kind = k % 5
		if (kind == 0) {
			loc = e[b]; sub(/@.*/, "", loc)
			if (d[b] == "gmail.com") { gsub(/\./, "", loc); em = loc "@gmail.com" }
			else em = loc "+crm@" d[b]
			printf "%s,%s,%s,,\n", em, f[b], l[b] > out
		} else if (kind == 1) {
			ph = "+1 (" substr(p[b], 1, 3) ") " substr(p[b], 4, 3) "-" substr(p[b], 7)
			printf "%s.%s.%d@mail.example.org,%s,%s,%s,\n", f[b], l[b], k, f[b], l[b], ph > out
		} else if (kind == 2)
			printf "%s%d@other.example.net,%s,%s,,%s Inc.\n", substr(f[b], 1, 1), k, f[b], typo(l[b]), c[b] > out
		else if (kind == 4)
			printf "%s%d@init.example.net,%s.,%s,,%s\n", substr(f[b], 1, 1), k, substr(f[b], 1, 1), l[b], c[b] > out
		else
			printf "%s%d@other.example.net,%s,%s,,\"%s, Ltd\"\n", substr(f[b], 1, 1), k, toupper(typo(f[b])), toupper(l[b]), toupper(c[b]) > out
		printf "%d,%d\n", b, n + k > truth
	}
	# Traps: two people at one company, no phones, one name in common.
	for (k = 1; k <= traps; k++) {
		do { a = pick(F, nf); b2 = pick(F, nf) } while (a == b2)
		ln = pick(L, nl)
		printf "%s.%d@trap.example.com,%s,%s,,Trap %d\n", a, k, a, ln, k > out
		printf "%s.%d@trap.example.com,%s,%s,,Trap %d\n", b2, k, b2, ln, k > out
	}
}
