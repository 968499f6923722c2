/*
 * crm-gen: deterministic generator of realistic CRM test data.
 *
 *	crm-gen contacts N [-s SEED] [--dups RATE]
 *	crm-gen events N [-c CONTACTS] [-s SEED]
 *
 * Writes CSV (RFC 4180) on stdout. The same arguments always give the same
 * bytes: all randomness comes from splitmix64 streams seeded from SEED, never
 * from rand() or the clock.
 *
 * Contact k (k = 0, 1, ...) is a pure function of (SEED, k), so the events
 * generator can name the emails of the first CONTACTS contacts without
 * reading the contacts file. A contacts file of N rows with --dups RATE holds
 * contacts 0 .. M-1 in order, M being about N * (1 - RATE), with the
 * duplicate rows interleaved; give events a CONTACTS no larger than M.
 *
 * Only libc is used (no libm), so the Makefile needs no extra flags.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* 2019-01-01 .. 2026-01-01 and 2023-01-01, in seconds since the epoch. */
#define T2019 1546300800LL
#define T2023 1672531200LL
#define T2026 1767225600LL
#define DAYS (int)((T2026 - T2019) / 86400)

/* ---- random numbers ---------------------------------------------------- */

struct rng {
	uint64_t s;
};

/* splitmix64: tiny, fast, and every seed gives a good stream. */
static uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Independent stream number `k` of seed `seed`. */
static void
rng_init(struct rng *r, uint64_t seed, uint64_t k)
{
	struct rng t = { seed ^ 0x5851f42d4c957f2dULL };

	t.s ^= k * 0xd1342543de82ef95ULL;
	r->s = rng_next(&t);
}

/* Uniform in [0, n); n < 2^32. The multiply avoids the bias of `%`. */
static uint32_t
rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* True with probability pct/100. */
static int
rng_pct(struct rng *r, uint32_t pct)
{
	return rng_below(r, 100) < pct;
}

/* Index into a table of cumulative weights ending at the total. */
static size_t
rng_pick(struct rng *r, const uint32_t *cum, size_t n)
{
	uint32_t x = rng_below(r, cum[n - 1]);
	size_t i = 0;

	while (cum[i] <= x)
		i++;
	return i;
}

#define PICK(r, tab) ((tab)[rng_below((r), NELEM(tab))])

/* ---- reference tables -------------------------------------------------- */

/* A name as written (UTF-8) and as it goes into an email address. */
struct name {
	const char *u, *a;
};

struct country {
	const char *code, *phone, *tld, *suffix;
	const struct name *first, *last;
	size_t nfirst, nlast;
	const char *const *city;
	size_t ncity;
	const char *const *mail;
	size_t nmail;
	uint32_t weight;
};

static const struct name us_first[] = {
	{ "James", "james" },
	{ "Mary", "mary" },
	{ "Michael", "michael" },
	{ "Jennifer", "jennifer" },
	{ "David", "david" },
	{ "Linda", "linda" },
	{ "Robert", "robert" },
	{ "Sarah", "sarah" },
	{ "Emily", "emily" },
	{ "Daniel", "daniel" },
	{ "Zoë", "zoe" },
	{ "Kevin", "kevin" },
};
static const struct name us_last[] = {
	{ "Smith", "smith" },
	{ "Johnson", "johnson" },
	{ "Williams", "williams" },
	{ "Brown", "brown" },
	{ "Jones", "jones" },
	{ "Miller", "miller" },
	{ "Davis", "davis" },
	{ "Wilson", "wilson" },
	{ "O'Brien", "obrien" },
	{ "Nguyen", "nguyen" },
	{ "Kim", "kim" },
	{ "Lee", "lee" },
};
static const char *const us_city[] = {
	"New York",
	"Los Angeles",
	"Chicago",
	"Houston",
	"Austin",
	"Seattle",
	"Boston",
	"Denver",
	"Washington, D.C.",
	"Miami",
};
static const char *const us_mail[] = { "gmail.com", "yahoo.com", "aol.com",
	"outlook.com", "icloud.com" };

static const struct name gb_first[] = {
	{ "Oliver", "oliver" },
	{ "Amelia", "amelia" },
	{ "Harry", "harry" },
	{ "Isla", "isla" },
	{ "George", "george" },
	{ "Zoë", "zoe" },
	{ "Jack", "jack" },
	{ "Sophie", "sophie" },
	{ "Noah", "noah" },
	{ "Ava", "ava" },
};
static const struct name gb_last[] = {
	{ "Smith", "smith" },
	{ "Jones", "jones" },
	{ "Taylor", "taylor" },
	{ "Evans", "evans" },
	{ "Wright", "wright" },
	{ "Walker", "walker" },
	{ "O'Neill", "oneill" },
	{ "Hughes", "hughes" },
	{ "Clarke", "clarke" },
	{ "Patel", "patel" },
};
static const char *const gb_city[] = { "London", "Manchester", "Leeds",
	"Bristol", "Edinburgh", "Glasgow", "Cardiff", "Stratford-upon-Avon" };
static const char *const gb_mail[] = { "gmail.com", "hotmail.co.uk",
	"btinternet.com", "yahoo.co.uk" };

static const struct name de_first[] = {
	{ "Lukas", "lukas" },
	{ "Anna", "anna" },
	{ "Jürgen", "juergen" },
	{ "Mia", "mia" },
	{ "Leon", "leon" },
	{ "Jörg", "joerg" },
	{ "Katharina", "katharina" },
	{ "Felix", "felix" },
	{ "Lena", "lena" },
	{ "Uwe", "uwe" },
};
static const struct name de_last[] = {
	{ "Müller", "mueller" },
	{ "Schmidt", "schmidt" },
	{ "Schneider", "schneider" },
	{ "Fischer", "fischer" },
	{ "Weber", "weber" },
	{ "Meyer", "meyer" },
	{ "Wagner", "wagner" },
	{ "Schäfer", "schaefer" },
	{ "Hoffmann", "hoffmann" },
	{ "Groß", "gross" },
};
static const char *const de_city[] = { "Berlin", "Hamburg", "München", "Köln",
	"Frankfurt am Main", "Stuttgart", "Düsseldorf", "Leipzig" };
static const char *const de_mail[] = { "web.de", "gmx.de", "gmail.com",
	"t-online.de" };

static const struct name fr_first[] = {
	{ "Léa", "lea" },
	{ "Hugo", "hugo" },
	{ "Chloé", "chloe" },
	{ "Louis", "louis" },
	{ "Camille", "camille" },
	{ "Inès", "ines" },
	{ "Jules", "jules" },
	{ "Manon", "manon" },
	{ "Théo", "theo" },
	{ "François", "francois" },
};
static const struct name fr_last[] = {
	{ "Martin", "martin" },
	{ "Bernard", "bernard" },
	{ "Dubois", "dubois" },
	{ "Thomas", "thomas" },
	{ "Petit", "petit" },
	{ "Durand", "durand" },
	{ "Lefèvre", "lefevre" },
	{ "Moreau", "moreau" },
	{ "Girard", "girard" },
	{ "Roux", "roux" },
};
static const char *const fr_city[] = { "Paris", "Lyon", "Marseille", "Toulouse",
	"Nice", "Nantes", "Bordeaux", "Lille" };
static const char *const fr_mail[] = { "orange.fr", "free.fr", "gmail.com",
	"laposte.net" };

static const struct name es_first[] = {
	{ "José", "jose" },
	{ "María", "maria" },
	{ "Javier", "javier" },
	{ "Lucía", "lucia" },
	{ "Carlos", "carlos" },
	{ "Carmen", "carmen" },
	{ "Sofía", "sofia" },
	{ "Álvaro", "alvaro" },
	{ "Pablo", "pablo" },
	{ "Marta", "marta" },
};
static const struct name es_last[] = {
	{ "García", "garcia" },
	{ "Fernández", "fernandez" },
	{ "González", "gonzalez" },
	{ "Rodríguez", "rodriguez" },
	{ "López", "lopez" },
	{ "Martínez", "martinez" },
	{ "Sánchez", "sanchez" },
	{ "Pérez", "perez" },
	{ "Gómez", "gomez" },
	{ "Muñoz", "munoz" },
};
static const char *const es_city[] = { "Madrid", "Barcelona", "Valencia",
	"Sevilla", "Zaragoza", "Málaga", "Bilbao" };
static const char *const es_mail[] = { "gmail.com", "hotmail.es",
	"telefonica.net" };
static const char *const mx_city[] = { "Ciudad de México", "Guadalajara",
	"Monterrey", "Puebla", "Tijuana", "Mérida" };
static const char *const mx_mail[] = { "gmail.com", "hotmail.com",
	"prodigy.net.mx" };

static const struct name br_first[] = {
	{ "João", "joao" },
	{ "Maria", "maria" },
	{ "Ana", "ana" },
	{ "Pedro", "pedro" },
	{ "Lucas", "lucas" },
	{ "Gabriela", "gabriela" },
	{ "Mateus", "mateus" },
	{ "Beatriz", "beatriz" },
	{ "Thiago", "thiago" },
	{ "Larissa", "larissa" },
};
static const struct name br_last[] = {
	{ "Silva", "silva" },
	{ "Santos", "santos" },
	{ "Oliveira", "oliveira" },
	{ "Souza", "souza" },
	{ "Pereira", "pereira" },
	{ "Costa", "costa" },
	{ "Almeida", "almeida" },
	{ "Conceição", "conceicao" },
	{ "Gonçalves", "goncalves" },
	{ "Lima", "lima" },
};
static const char *const br_city[] = { "São Paulo", "Rio de Janeiro",
	"Belo Horizonte", "Brasília", "Curitiba", "Porto Alegre", "Recife" };
static const char *const br_mail[] = { "gmail.com", "uol.com.br",
	"bol.com.br" };

static const struct name no_first[] = {
	{ "Ola", "ola" },
	{ "Ingrid", "ingrid" },
	{ "Lars", "lars" },
	{ "Sigrid", "sigrid" },
	{ "Bjørn", "bjorn" },
	{ "Astrid", "astrid" },
	{ "Håkon", "hakon" },
	{ "Solveig", "solveig" },
	{ "Nora", "nora" },
};
static const struct name no_last[] = {
	{ "Hansen", "hansen" },
	{ "Johansen", "johansen" },
	{ "Olsen", "olsen" },
	{ "Larsen", "larsen" },
	{ "Øster", "oster" },
	{ "Berg", "berg" },
	{ "Haugen", "haugen" },
	{ "Dahl", "dahl" },
	{ "Sørensen", "sorensen" },
};
static const char *const no_city[] = { "Oslo", "Bergen", "Trondheim",
	"Stavanger", "Tromsø", "Drammen" };
static const char *const no_mail[] = { "gmail.com", "online.no", "hotmail.no" };

static const struct name pl_first[] = {
	{ "Łukasz", "lukasz" },
	{ "Anna", "anna" },
	{ "Piotr", "piotr" },
	{ "Katarzyna", "katarzyna" },
	{ "Michał", "michal" },
	{ "Agnieszka", "agnieszka" },
	{ "Paweł", "pawel" },
	{ "Małgorzata", "malgorzata" },
	{ "Tomasz", "tomasz" },
	{ "Zofia", "zofia" },
};
static const struct name pl_last[] = {
	{ "Nowak", "nowak" },
	{ "Kowalski", "kowalski" },
	{ "Wiśniewski", "wisniewski" },
	{ "Wójcik", "wojcik" },
	{ "Kowalczyk", "kowalczyk" },
	{ "Kamiński", "kaminski" },
	{ "Lewandowski", "lewandowski" },
	{ "Zieliński", "zielinski" },
	{ "Woźniak", "wozniak" },
	{ "Mazur", "mazur" },
};
static const char *const pl_city[] = { "Warszawa", "Kraków", "Łódź", "Wrocław",
	"Poznań", "Gdańsk" };
static const char *const pl_mail[] = { "wp.pl", "onet.pl", "gmail.com",
	"interia.pl" };

static const struct name jp_first[] = {
	{ "太郎", "taro" },
	{ "花子", "hanako" },
	{ "翔太", "shota" },
	{ "さくら", "sakura" },
	{ "健一", "kenichi" },
	{ "陽菜", "hina" },
	{ "大輔", "daisuke" },
	{ "美咲", "misaki" },
};
static const struct name jp_last[] = {
	{ "田中", "tanaka" },
	{ "佐藤", "sato" },
	{ "鈴木", "suzuki" },
	{ "高橋", "takahashi" },
	{ "伊藤", "ito" },
	{ "渡辺", "watanabe" },
	{ "山本", "yamamoto" },
	{ "中村", "nakamura" },
};
static const char *const jp_city[] = { "東京", "大阪", "横浜", "名古屋", "札幌",
	"福岡", "京都" };
static const char *const jp_mail[] = { "yahoo.co.jp", "gmail.com",
	"docomo.ne.jp" };

static const struct name nl_first[] = {
	{ "Daan", "daan" },
	{ "Emma", "emma" },
	{ "Sem", "sem" },
	{ "Julia", "julia" },
	{ "Tess", "tess" },
	{ "Bram", "bram" },
	{ "Sanne", "sanne" },
	{ "Thijs", "thijs" },
	{ "Fleur", "fleur" },
};
static const struct name nl_last[] = {
	{ "de Jong", "dejong" },
	{ "Jansen", "jansen" },
	{ "de Vries", "devries" },
	{ "van den Berg", "vandenberg" },
	{ "Bakker", "bakker" },
	{ "Visser", "visser" },
	{ "Smit", "smit" },
	{ "van Dijk", "vandijk" },
	{ "Mulder", "mulder" },
};
static const char *const nl_city[] = { "Amsterdam", "Rotterdam", "Den Haag",
	"Utrecht", "Eindhoven", "Groningen" };
static const char *const nl_mail[] = { "gmail.com", "ziggo.nl", "hotmail.nl",
	"kpnmail.nl" };

static const struct name in_first[] = {
	{ "Aarav", "aarav" },
	{ "Priya", "priya" },
	{ "Rohan", "rohan" },
	{ "Ananya", "ananya" },
	{ "Vikram", "vikram" },
	{ "Diya", "diya" },
	{ "Arjun", "arjun" },
	{ "Kavya", "kavya" },
	{ "Rahul", "rahul" },
	{ "Sneha", "sneha" },
};
static const struct name in_last[] = {
	{ "Sharma", "sharma" },
	{ "Patel", "patel" },
	{ "Singh", "singh" },
	{ "Kumar", "kumar" },
	{ "Gupta", "gupta" },
	{ "Reddy", "reddy" },
	{ "Iyer", "iyer" },
	{ "Nair", "nair" },
	{ "Mehta", "mehta" },
	{ "Das", "das" },
};
static const char *const in_city[] = { "Mumbai", "Bengaluru", "Delhi",
	"Chennai", "Hyderabad", "Pune", "Kolkata" };
static const char *const in_mail[] = { "gmail.com", "rediffmail.com",
	"yahoo.co.in" };

#define NAMES(f, l) f, l, NELEM(f), NELEM(l)
#define LIST(x) x, NELEM(x)

/* Phone patterns: each '#' becomes a digit. */
static const struct country countries[] = {
	{ "US", "+1 ### ### ####", "com", "Inc.", NAMES(us_first, us_last),
	    LIST(us_city), LIST(us_mail), 26 },
	{ "GB", "+44 20 #### ####", "co.uk", "Ltd", NAMES(gb_first, gb_last),
	    LIST(gb_city), LIST(gb_mail), 10 },
	{ "DE", "+49 30 #######", "de", "GmbH", NAMES(de_first, de_last),
	    LIST(de_city), LIST(de_mail), 12 },
	{ "FR", "+33 # ## ## ## ##", "fr", "SAS", NAMES(fr_first, fr_last),
	    LIST(fr_city), LIST(fr_mail), 8 },
	{ "ES", "+34 ### ### ###", "es", "S.L.", NAMES(es_first, es_last),
	    LIST(es_city), LIST(es_mail), 7 },
	{ "MX", "+52 55 #### ####", "com.mx", "S.A. de C.V.",
	    NAMES(es_first, es_last), LIST(mx_city), LIST(mx_mail), 5 },
	{ "BR", "+55 11 #####-####", "com.br", "Ltda.",
	    NAMES(br_first, br_last), LIST(br_city), LIST(br_mail), 6 },
	{ "NO", "+47 ### ## ###", "no", "AS", NAMES(no_first, no_last),
	    LIST(no_city), LIST(no_mail), 3 },
	{ "PL", "+48 ### ### ###", "pl", "sp. z o.o.", NAMES(pl_first, pl_last),
	    LIST(pl_city), LIST(pl_mail), 5 },
	{ "JP", "+81 3-####-####", "co.jp", "K.K.", NAMES(jp_first, jp_last),
	    LIST(jp_city), LIST(jp_mail), 6 },
	{ "NL", "+31 20 ### ####", "nl", "B.V.", NAMES(nl_first, nl_last),
	    LIST(nl_city), LIST(nl_mail), 4 },
	{ "IN", "+91 ##### #####", "in", "Pvt. Ltd.", NAMES(in_first, in_last),
	    LIST(in_city), LIST(in_mail), 5 },
};

/* Company stems with the slug used in their web domain. */
static const struct name stems[] = {
	{ "Acme", "acme" },
	{ "Globex", "globex" },
	{ "Initech", "initech" },
	{ "Umbrella", "umbrella" },
	{ "Northwind", "northwind" },
	{ "Contoso", "contoso" },
	{ "Vandelay", "vandelay" },
	{ "Hooli", "hooli" },
	{ "Pied Piper", "piedpiper" },
	{ "Soylent", "soylent" },
	{ "Tyrell", "tyrell" },
	{ "Cyberdyne", "cyberdyne" },
	{ "Aperture", "aperture" },
	{ "Blue Sky", "bluesky" },
	{ "Bright Path", "brightpath" },
	{ "Sunrise", "sunrise" },
	{ "Evergreen", "evergreen" },
	{ "Redwood", "redwood" },
	{ "Nimbus", "nimbus" },
	{ "Quantum", "quantum" },
	{ "Horizon", "horizon" },
	{ "Atlas", "atlas" },
	{ "Keystone", "keystone" },
	{ "Nordlicht", "nordlicht" },
	{ "Zenith", "zenith" },
	{ "Orbit", "orbit" },
};
static const char *const nouns[] = { "Labs", "Systems", "Media", "Foods",
	"Software", "Health", "Logistics", "Consulting", "Analytics", "Games" };

static const char *const titles[] = { "CEO", "CTO", "Founder", "VP, Sales",
	"Head of Growth", "Marketing Manager", "Account Executive", "Engineer",
	"Office Manager", "Buyer", "Director, Operations", "Owner", "Designer",
	"Data Analyst", "Product Manager", "Consultant" };
static const char *const owners[] = { "anna", "ben", "chen", "dara", "eli",
	"fatima", "gus", "hana" };
static const char *const sources[] = { "web", "referral", "import", "event",
	"ads", "partner", "mailchimp", "webinar" };
static const char *const stages[] = { "lead", "prospect", "customer",
	"churned" };
static const uint32_t stage_cum[] = { 48, 68, 92, 100 };
static const char *const tagset[] = { "newsletter", "vip", "webinar", "trial",
	"beta", "partner", "early adopter", "q4-promo" };

/* ---- output ------------------------------------------------------------ */

/* Rows are assembled in a buffer of our own and handed to stdio in large
 * chunks, which costs far less than one stdio call per field. */
#define OUTSZ (1 << 20)
#define ROWMAX 4096

static char outbuf[OUTSZ];
static size_t outlen;

static void
out_flush(void)
{
	if (outlen > 0 && fwrite(outbuf, 1, outlen, stdout) != outlen) {
		fprintf(stderr, "crm-gen: write error: %s\n", strerror(errno));
		exit(74);
	}
	outlen = 0;
}

/* Called before each row, which never exceeds ROWMAX bytes. */
static char *
row_begin(void)
{
	if (outlen > OUTSZ - ROWMAX)
		out_flush();
	return outbuf + outlen;
}

static void
row_end(char *p)
{
	*p++ = '\n';
	outlen = (size_t)(p - outbuf);
}

static char *
put_raw(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* A field, quoted per RFC 4180 only when it holds a comma, quote or
 * line break, with inner quotes doubled. */
static char *
put_csv(char *p, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL)
		return put_raw(p, s);
	*p++ = '"';
	for (; *s != '\0'; s++) {
		if (*s == '"')
			*p++ = '"';
		*p++ = *s;
	}
	*p++ = '"';
	return p;
}

static char *
put_uint(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* Writes v as exactly `width` digits with leading zeros. */
static char *
put_zero(char *p, uint64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + width;
}

static char *
put_cents(char *p, uint32_t cents)
{
	p = put_uint(p, cents / 100);
	*p++ = '.';
	return put_zero(p, cents % 100, 2);
}

/* ---- time -------------------------------------------------------------- */

/* "YYYY-MM-DD" of every day from 2019 to 2025, built once by walking the
 * calendar; cheaper per row than converting with gmtime. */
static char dates[DAYS][10];

static int
month_days(int y, int m)
{
	static const int len[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return len[m - 1] + (m == 2 && leap);
}

static void
dates_init(void)
{
	int y = 2019, m = 1, d = 1;

	for (int i = 0; i < DAYS; i++) {
		put_zero(dates[i], (uint64_t)y, 4);
		dates[i][4] = '-';
		put_zero(dates[i] + 5, (uint64_t)m, 2);
		dates[i][7] = '-';
		put_zero(dates[i] + 8, (uint64_t)d, 2);
		if (++d > month_days(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
}

/* t must lie in [T2019, T2026). Writes 2024-05-20T14:17:53Z. */
static char *
put_time(char *p, int64_t t)
{
	int64_t s = t - T2019;
	int64_t sec = s % 86400;

	memcpy(p, dates[s / 86400], 10);
	p[10] = 'T';
	put_zero(p + 11, (uint64_t)(sec / 3600), 2);
	p[13] = ':';
	put_zero(p + 14, (uint64_t)(sec / 60 % 60), 2);
	p[16] = ':';
	put_zero(p + 17, (uint64_t)(sec % 60), 2);
	p[19] = 'Z';
	return p + 20;
}

/* ---- contacts ---------------------------------------------------------- */

struct contact {
	const struct country *co;
	const struct name *first, *last;
	char email[96];
	char company[96];
	char domain[48];
	char phone[24];
	char tags[64];
	const char *title, *city, *source, *stage, *owner, *plan;
	int stage_ix;
	int opt_in;                     /* -1: not given */
	int64_t consent_at, created_at; /* 0: not given */
	uint32_t seats;                 /* 0: not given */
};

static uint32_t country_cum[NELEM(countries)];

static void
countries_init(void)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < NELEM(countries); i++)
		country_cum[i] = sum += countries[i].weight;
}

/* Business contacts get a company; its web domain may host their email.
 * A few names carry a comma or double quotes so that importers must
 * handle RFC 4180 quoting. */
static void
make_company(struct rng *r, struct contact *c)
{
	const struct name *st = &PICK(r, stems);
	const char *noun = PICK(r, nouns);
	uint32_t form = rng_below(r, 100);

	c->company[0] = c->domain[0] = '\0';
	if (rng_pct(r, 30))
		return;
	if (form < 2)
		snprintf(c->company, sizeof(c->company), "The \"%s\" %s", st->u,
		    noun);
	else if (form < 12)
		snprintf(c->company, sizeof(c->company), "%s, %s", st->u,
		    c->co->suffix);
	else if (form < 22)
		snprintf(c->company, sizeof(c->company), "%s & Partners",
		    c->last->u);
	else if (form < 60)
		snprintf(c->company, sizeof(c->company), "%s %s", st->u, noun);
	else
		snprintf(c->company, sizeof(c->company), "%s", st->u);
	snprintf(c->domain, sizeof(c->domain), "%s.%s",
	    form >= 12 && form < 22 ? c->last->a : st->a, c->co->tld);
}

/* The contact number k ends the local part, so addresses never collide:
 * the letters before it hold no digits. */
static void
make_email(struct rng *r, struct contact *c, uint64_t k)
{
	const char *f = c->first->a, *l = c->last->a;
	const char *dom = c->domain;
	char *e = c->email;
	size_t n = sizeof(c->email);
	unsigned long long num = k;
	uint32_t form = rng_below(r, 10);

	if (dom[0] == '\0' || rng_pct(r, 40))
		dom = c->co->mail[rng_below(r, (uint32_t)c->co->nmail)];
	if (form < 4)
		snprintf(e, n, "%s.%s%llu@%s", f, l, num, dom);
	else if (form < 6)
		snprintf(e, n, "%s%llu@%s", f, num, dom);
	else if (form < 8)
		snprintf(e, n, "%c.%s%llu@%s", f[0], l, num, dom);
	else
		snprintf(e, n, "%s_%s%llu@%s", f, l, num, dom);
}

static void
make_phone(struct rng *r, struct contact *c)
{
	const char *pat = c->co->phone;
	char *p = c->phone;

	if (rng_pct(r, 55)) {
		*p = '\0';
		return;
	}
	for (; *pat != '\0'; pat++)
		*p++ = *pat == '#' ? (char)('0' + rng_below(r, 10)) : *pat;
	*p = '\0';
}

/* Zero to three distinct tags joined by ';', most contacts having none. */
static void
make_tags(struct rng *r, struct contact *c)
{
	uint32_t n = rng_pct(r, 70) ? 0 : 1 + rng_below(r, 3);
	unsigned used = 0;
	char *p = c->tags;

	while (n-- > 0) {
		uint32_t i = rng_below(r, NELEM(tagset));

		if (used & (1u << i))
			continue;
		used |= 1u << i;
		if (p != c->tags)
			*p++ = ';';
		p = put_raw(p, tagset[i]);
	}
	*p = '\0';
}

/* Plan and seats follow the stage: customers mostly pay for "pro". */
static void
make_plan(struct rng *r, struct contact *c)
{
	c->plan = "";
	c->seats = 0;
	if (c->stage_ix == 2 && rng_pct(r, 75)) {
		c->plan = "pro";
		c->seats = 2 + rng_below(r, 9) * rng_below(r, 30);
	} else if (c->stage_ix >= 1 || rng_pct(r, 30)) {
		c->plan = "free";
		c->seats = 1;
	}
}

/* Consent is recorded for most contacts, at or after their creation;
 * about 15% of them have opted out. */
static void
make_consent(struct rng *r, struct contact *c)
{
	int64_t left;

	c->created_at = T2019 + rng_below(r, (uint32_t)(T2026 - T2019));
	left = T2026 - c->created_at;
	c->opt_in = -1;
	c->consent_at = 0;
	if (rng_pct(r, 8))
		return;
	c->opt_in = !rng_pct(r, 15);
	if (rng_pct(r, 40))
		c->consent_at = c->created_at + rng_below(r, (uint32_t)left);
}

static void
contact_make(uint64_t seed, uint64_t k, struct contact *c)
{
	struct rng r;

	rng_init(&r, seed, k);
	c->co = &countries[rng_pick(&r, country_cum, NELEM(countries))];
	c->first = &c->co->first[rng_below(&r, (uint32_t)c->co->nfirst)];
	c->last = &c->co->last[rng_below(&r, (uint32_t)c->co->nlast)];
	make_company(&r, c);
	make_email(&r, c, k);
	make_phone(&r, c);
	c->title = "";
	if (c->company[0] != '\0' && rng_pct(&r, 45))
		c->title = PICK(&r, titles);
	c->city = "";
	if (rng_pct(&r, 85))
		c->city = c->co->city[rng_below(&r, (uint32_t)c->co->ncity)];
	c->source = PICK(&r, sources);
	c->stage_ix = (int)rng_pick(&r, stage_cum, NELEM(stage_cum));
	c->stage = stages[c->stage_ix];
	c->owner = rng_pct(&r, 75) ? PICK(&r, owners) : "";
	make_tags(&r, c);
	make_consent(&r, c);
	make_plan(&r, c);
}

/* The same address with some letters upper-cased: at least the first
 * letter of the local part and of the domain, as a person might type it. */
static void
case_variant(struct rng *r, char *e)
{
	uint32_t mode = rng_below(r, 3);
	int start = 1;

	for (; *e != '\0'; e++) {
		int up = mode == 0 || start || (mode == 2 && rng_pct(r, 30));

		if (up && *e >= 'a' && *e <= 'z')
			*e = (char)(*e - 'a' + 'A');
		start = *e == '.' || *e == '@' || *e == '_';
	}
}

static char *
put_opt_time(char *p, int64_t t)
{
	return t == 0 ? p : put_time(p, t);
}

static void
contact_write(const struct contact *c)
{
	char *p = row_begin();

#define F(s) (p = put_csv(p, (s)), *p++ = ',')
	F(c->email);
	F(c->first->u);
	F(c->last->u);
	F(c->phone);
	F(c->company);
	F(c->title);
	F(c->city);
	F(c->co->code);
	F(c->source);
	F(c->stage);
	F(c->owner);
	F(c->tags);
	F(c->opt_in < 0 ? "" : c->opt_in ? "true" : "false");
#undef F
	p = put_opt_time(p, c->consent_at);
	*p++ = ',';
	p = put_time(p, c->created_at);
	*p++ = ',';
	p = put_raw(p, c->plan);
	*p++ = ',';
	if (c->seats > 0)
		p = put_uint(p, c->seats);
	row_end(p);
}

/* Row stream: each row is either the next new contact or, with
 * probability `dups`, a repeat of an earlier one in another letter case. */
static void
gen_contacts(uint64_t n, uint64_t seed, double dups)
{
	struct rng r;
	struct contact c;
	uint64_t next = 0;
	uint64_t thresh = (uint64_t)(dups * 18446744073709551615.0);

	rng_init(&r, seed, UINT64_MAX);
	fputs("email,first_name,last_name,phone,company,title,city,country,"
	      "source,stage,owner,tags,email_opt_in,consent_at,created_at,"
	      "plan,seats\n",
	    stdout);
	for (uint64_t row = 0; row < n; row++) {
		if (next > 0 && dups > 0 && rng_next(&r) < thresh) {
			contact_make(seed, rng_below(&r, (uint32_t)next), &c);
			case_variant(&r, c.email);
		} else
			contact_make(seed, next++, &c);
		contact_write(&c);
	}
}

/* ---- events ------------------------------------------------------------ */

enum { EV_PURCHASE, EV_REFUND, EV_OPEN, EV_CLICK, EV_CALL, EV_VISIT };

static const char *const evnames[] = { "purchase", "refund", "email_open",
	"email_click", "call", "visit" };
static const uint32_t type_cum[] = { 46, 48, 70, 79, 84, 100 };

static const uint32_t prices[] = { 990, 1450, 1999, 2390, 2900, 3990, 4900,
	7990, 12900, 24900 };
static const uint32_t price_cum[] = { 14, 28, 42, 56, 68, 78, 86, 93, 97, 100 };

/* What events need of each contact, built once: looking contact k up here
 * is far cheaper than making it again for every event. */
struct who {
	uint64_t off;        /* of the email in roster.text */
	uint32_t created;    /* seconds since 2019-01-01 */
	unsigned char len;   /* of the email */
	unsigned char buyer; /* customer or churned */
};

/* Kept in one array, in order of activity rank rather than of contact
 * number, so that the busy contacts share a few cache lines and pages. */
struct roster {
	char *text;
	struct who *who;
};

/* Recent orders, so that a refund names an order of the same contact that
 * exists and was not refunded before. */
#define RING 4096

struct order {
	uint64_t slot, id; /* slot: index in roster.who */
	uint32_t cents;
};

struct evgen {
	struct roster ro;
	uint64_t ncontacts, orders;
	struct order ring[RING];
	struct rng r;
};

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL) {
		fprintf(stderr, "crm-gen: out of memory\n");
		exit(71);
	}
	return p;
}

/* Slot x holds contact (x * mult + add) mod n: an affine bijection that
 * scatters activity ranks over contact numbers. */
static void
roster_build(struct roster *ro, uint64_t seed, uint64_t n, uint64_t mult,
    uint64_t add)
{
	size_t cap = (size_t)n * 32, len = 0;
	struct contact c;

	ro->text = xrealloc(NULL, cap);
	ro->who = xrealloc(NULL, (size_t)n * sizeof(*ro->who));
	for (uint64_t x = 0; x < n; x++) {
		struct who *w = &ro->who[x];
		size_t l;

		contact_make(seed, (x * mult + add) % n, &c);
		l = strlen(c.email);
		if (len + l > cap)
			ro->text = xrealloc(ro->text, cap *= 2);
		memcpy(ro->text + len, c.email, l);
		w->off = len;
		w->len = (unsigned char)l;
		len += l;
		w->created = (uint32_t)(c.created_at - T2019);
		w->buyer = c.stage_ix >= 2;
	}
}

static void
roster_free(struct roster *ro)
{
	free(ro->text);
	free(ro->who);
}

static uint64_t
gcd(uint64_t a, uint64_t b)
{
	while (b != 0) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* Activity is skewed: the rank r in [0, 1) of the contact acting is the
 * product of two uniform numbers, whose density -ln(r) gives a few busy
 * contacts and a long tail that rarely acts. One contact in five never
 * does. Returns the roster slot of rank r. */
static uint64_t
pick_slot(struct evgen *g)
{
	uint64_t u = rng_next(&g->r);
	uint64_t r = (u >> 32) * (u & 0xffffffffu) >> 32;

	return r * (g->ncontacts * 4 / 5 + 1) >> 32;
}

/* A contact created by time ts and, for purchases, a buyer. After a few
 * misses any contact will do, which keeps the cost per event bounded. */
static uint64_t
pick_actor(struct evgen *g, int64_t ts, int buyer)
{
	uint32_t t = (uint32_t)(ts - T2019);
	uint64_t k = 0;

	for (int i = 0; i < 8; i++) {
		const struct who *w = &g->ro.who[k = pick_slot(g)];

		if (w->created <= t && (!buyer || w->buyer))
			break;
	}
	return k;
}

static char *
put_order(char *p, uint64_t id)
{
	*p++ = 'O';
	return put_zero(p, id, 8);
}

static uint32_t
price(struct rng *r)
{
	uint32_t q = rng_pct(r, 80) ? 1 : rng_pct(r, 75) ? 2 : 3;

	return q * prices[rng_pick(r, price_cum, NELEM(prices))];
}

/* Records a new order of the contact in slot k for later refunds. */
static struct order
new_order(struct evgen *g, uint64_t k)
{
	struct order *o = &g->ring[g->orders % RING];

	o->slot = k;
	o->id = ++g->orders;
	o->cents = price(&g->r);
	return *o;
}

/* A recent order not refunded yet, or 0 if the slot drawn holds none. */
static int
take_refund(struct evgen *g, struct order *out)
{
	struct order *o = &g->ring[rng_below(&g->r, RING)];

	if (o->id == 0)
		return 0;
	*out = *o;
	o->id = 0;
	return 1;
}

static const char *
channel(struct evgen *g, int type)
{
	switch (type) {
	case EV_PURCHASE:
		return rng_pct(&g->r, 70) ? "web" :
		    rng_pct(&g->r, 60)    ? "app" :
					    "store";
	case EV_REFUND:
		return rng_pct(&g->r, 80) ? "web" : "store";
	case EV_OPEN:
	case EV_CLICK:
		return "email";
	case EV_CALL:
		return "phone";
	default:
		return rng_pct(&g->r, 65) ? "web" : "app";
	}
}

static void
event_write(struct evgen *g, int64_t ts)
{
	int type = (int)rng_pick(&g->r, type_cum, NELEM(type_cum));
	struct order o = { 0, 0, 0 };
	const struct who *w;
	char *p;

	if (type == EV_REFUND && !take_refund(g, &o))
		type = EV_OPEN;
	if (type != EV_REFUND)
		o.slot = pick_actor(g, ts, type == EV_PURCHASE);
	if (type == EV_PURCHASE)
		o = new_order(g, o.slot);
	p = row_begin();
	w = &g->ro.who[o.slot];
	memcpy(p, g->ro.text + w->off, w->len);
	p += w->len;
	*p++ = ',';
	p = put_time(p, ts);
	*p++ = ',';
	p = put_raw(p, evnames[type]);
	*p++ = ',';
	if (o.id != 0)
		p = put_cents(p, o.cents);
	*p++ = ',';
	if (o.id != 0)
		p = put_order(p, o.id);
	*p++ = ',';
	p = put_raw(p, channel(g, type));
	row_end(p);
}

/* Events come in time order, spread evenly over 2023-2025 with jitter. */
static void
gen_events(uint64_t n, uint64_t ncontacts, uint64_t seed)
{
	static struct evgen g;
	const uint64_t span = (uint64_t)(T2026 - T2023);

	uint64_t mult = 2654435761u % ncontacts, add;

	g.ncontacts = ncontacts;
	rng_init(&g.r, seed, UINT64_MAX - 1);
	while (gcd(mult, ncontacts) != 1)
		mult++;
	add = rng_below(&g.r, (uint32_t)ncontacts);
	roster_build(&g.ro, seed, ncontacts, mult, add);
	fputs("email,ts,type,amount,order_id,channel\n", stdout);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t lo = i * span / n, hi = (i + 1) * span / n;
		uint64_t off =
		    lo + (hi > lo ? rng_below(&g.r, (uint32_t)(hi - lo)) : 0);

		event_write(&g, T2023 + (int64_t)off);
	}
	roster_free(&g.ro);
}

/* ---- command line ------------------------------------------------------ */

static void
usage(FILE *f, int status)
{
	fputs("usage: crm-gen contacts N [-s seed] [--dups rate]\n"
	      "       crm-gen events N [-c contacts] [-s seed]\n",
	    f);
	exit(status);
}

static uint64_t
parse_count(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    v > UINT32_MAX) {
		fprintf(stderr, "crm-gen: bad %s \"%s\"\n", what, s);
		usage(stderr, 64);
	}
	return v;
}

static double
parse_rate(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (*end != '\0' || end == s || !(v >= 0 && v < 1)) {
		fprintf(stderr,
		    "crm-gen: bad rate \"%s\": want 0 <= rate < 1\n", s);
		usage(stderr, 64);
	}
	return v;
}

struct args {
	int events;
	uint64_t n, contacts, seed;
	double dups;
};

/* Options may come before or after N; each takes a value. */
static void
parse_args(int argc, char **argv, struct args *a)
{
	const char *n = NULL;

	a->contacts = 0;
	a->seed = 1;
	a->dups = 0.01;
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		usage(stdout, 0);
	if (argc < 3)
		usage(stderr, 64);
	a->events = !strcmp(argv[1], "events");
	if (!a->events && strcmp(argv[1], "contacts"))
		usage(stderr, 64);
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];

		if (o[0] != '-' || o[1] == '\0') {
			if (n != NULL)
				usage(stderr, 64);
			n = o;
		} else if (i + 1 >= argc)
			usage(stderr, 64);
		else if (!strcmp(o, "-s") || !strcmp(o, "--seed"))
			a->seed = parse_count(argv[++i], "seed");
		else if (!a->events && !strcmp(o, "--dups"))
			a->dups = parse_rate(argv[++i]);
		else if (a->events &&
		    (!strcmp(o, "-c") || !strcmp(o, "--contacts"))) {
			a->contacts = parse_count(argv[++i], "contact count");
			if (a->contacts == 0)
				usage(stderr, 64);
		} else
			usage(stderr, 64);
	}
	if (n == NULL)
		usage(stderr, 64);
	a->n = parse_count(n, "row count");
}

int
main(int argc, char **argv)
{
	static char stdio_buf[1 << 16];
	struct args a;

	parse_args(argc, argv, &a);
	setvbuf(stdout, stdio_buf, _IOFBF, sizeof(stdio_buf));
	dates_init();
	countries_init();
	if (!a.events)
		gen_contacts(a.n, a.seed, a.dups);
	else {
		if (a.contacts == 0)
			a.contacts = a.n / 10 > 0 ? a.n / 10 : 1;
		gen_events(a.n, a.contacts, a.seed);
	}
	out_flush();
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "crm-gen: write error: %s\n", strerror(errno));
		return 74;
	}
	return 0;
}
