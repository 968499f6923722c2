#include <string.h>

#include "errors.h"
#include "times.h"

/*
 * Days since 1970-01-01 of a proleptic Gregorian date, by counting 400-year
 * eras that start on March 1 (the algorithm H. Hinnant describes in
 * "chrono-Compatible Low-Level Date Algorithms").
 */
int64_t
crm_days_from_civil(int y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int
digits(const char *s, size_t n, size_t at, size_t k, int *v)
{
	size_t i;

	if (at + k > n)
		return -1;
	*v = 0;
	for (i = at; i < at + k; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int
mdays(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };

	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 29;
	return dm[m - 1];
}

/* Parses the offset at s[i..n) into seconds east of UTC. */
static int
offset(const char *s, size_t n, size_t i, int *off)
{
	int sign, hh, mm = 0;

	if (i == n)
		return 0;
	if (s[i] == 'Z' || s[i] == 'z')
		return i + 1 == n ? 0 : -1;
	if (s[i] != '+' && s[i] != '-')
		return -1;
	sign = s[i] == '-' ? -1 : 1;
	if (digits(s, n, i + 1, 2, &hh))
		return -1;
	i += 3;
	if (i < n && s[i] == ':')
		i++;
	if (i < n && digits(s, n, i, 2, &mm))
		return -1;
	if (i < n)
		i += 2;
	if (i != n || hh > 23 || mm > 59)
		return -1;
	*off = sign * (hh * 3600 + mm * 60);
	return 0;
}

/* Two decimal digits, or -1. */
static int
two(const char *s)
{
	unsigned a = (unsigned char)s[0] - '0', b = (unsigned char)s[1] - '0';

	return a < 10 && b < 10 ? (int)(a * 10 + b) : -1;
}

/*
 * The form crm_time_format() writes, "2024-05-20T14:17:53Z", which most
 * input has, read without the steps of the general case: 0, or 1 when s
 * is not a valid time of that form (then the general case decides).
 */
static int
parse_utc(const char *s, int64_t *t)
{
	int c = two(s), y = two(s + 2), mo = two(s + 5), d = two(s + 8);
	int hh = two(s + 11), mi = two(s + 14), ss = two(s + 17);

	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z' || (c | y | mo | d | hh | mi | ss) < 0)
		return 1;
	y += c * 100;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays(y, mo) || hh > 23 ||
	    mi > 59 || ss > 60)
		return 1;
	*t = crm_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    hh * 3600 + mi * 60 + ss;
	return 0;
}

int
crm_time_parse(const char *s, size_t n, int64_t *t, int *is_date)
{
	int y, mo, d, hh = 0, mi = 0, ss = 0, off = 0;
	size_t i = 10;

	if (n == 20 && parse_utc(s, t) == 0) {
		if (is_date)
			*is_date = 0;
		return 0;
	}

	if (n < 10 || digits(s, n, 0, 4, &y) || s[4] != '-' ||
	    digits(s, n, 5, 2, &mo) || s[7] != '-' || digits(s, n, 8, 2, &d))
		return CRM_EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays(y, mo))
		return CRM_EINVAL;
	if (is_date)
		*is_date = n == 10;
	if (n > 10) {
		if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
		    digits(s, n, 11, 2, &hh) || n < 16 || s[13] != ':' ||
		    digits(s, n, 14, 2, &mi))
			return CRM_EINVAL;
		i = 16;
		if (i < n && s[i] == ':') {
			if (digits(s, n, 17, 2, &ss))
				return CRM_EINVAL;
			i = 19;
			if (i < n && (s[i] == '.' || s[i] == ','))
				for (i++; i < n && s[i] >= '0' && s[i] <= '9';
				     i++)
					;
		}
		if (hh > 23 || mi > 59 || ss > 60 || offset(s, n, i, &off))
			return CRM_EINVAL;
	}
	*t = crm_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    hh * 3600 + mi * 60 + ss - off;
	return 0;
}

static char *
put2(char *p, unsigned v)
{
	*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

void
crm_time_format(int64_t t, char out[CRM_TIME_LEN])
{
	int64_t days = t / 86400, sec = t % 86400;
	unsigned m, d;
	int y;
	char *p = out;

	if (sec < 0) {
		sec += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999;
	p = put2(p, (unsigned)y / 100);
	p = put2(p, (unsigned)y % 100);
	*p++ = '-';
	p = put2(p, m);
	*p++ = '-';
	p = put2(p, d);
	*p++ = 'T';
	p = put2(p, (unsigned)(sec / 3600));
	*p++ = ':';
	p = put2(p, (unsigned)(sec / 60 % 60));
	*p++ = ':';
	p = put2(p, (unsigned)(sec % 60));
	*p++ = 'Z';
	*p = '\0';
}

void
crm_date_format(int64_t t, char out[CRM_DATE_LEN])
{
	char buf[CRM_TIME_LEN];

	crm_time_format(t, buf);
	memcpy(out, buf, 10);
	out[10] = '\0';
}
