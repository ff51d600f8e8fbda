/* timefmt.c - see timefmt.h. Calendar arithmetic is done by hand (days from
 * civil, proleptic Gregorian) so no time zone or locale can change it. */
#include "timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

void time_format(char *out, long long ts)
{
	/* Times outside years 0000..9999 have no form here: clamp them. */
	const long long lo = -62167219200LL, hi = 253402300799LL;
	ts = ts < lo ? lo : ts > hi ? hi : ts;
	long long days = ts >= 0 ? ts / 86400 : -((-ts + 86399) / 86400);
	unsigned secs = (unsigned)(ts - days * 86400);
	long long y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	unsigned yy = (unsigned)y % 10000;
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%04u-%02u-%02uT%02u:%02u:%02uZ", yy, m % 100, d % 100,
	         secs / 3600 % 100, secs / 60 % 60, secs % 60);
	memcpy(out, tmp, DAI_TIME_LEN + 1);
}

static int digits(const char *s, int n, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int time_parse(const char *s, size_t n, long long *ts)
{
	unsigned y, mo, d, h, mi, se;
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (n != DAI_TIME_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		return -1;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
		return -1;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] + (mo == 2 && leap))
		return -1;
	*ts = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

/* DAI_NOW as Unix seconds; -1 when it is unset, empty or not a time. */
static int env_now(long long *out)
{
	const char *env = getenv("DAI_NOW");
	if (!env || !*env)
		return -1;
	if (time_parse(env, strlen(env), out) == 0)
		return 0;
	char *end;
	errno = 0;
	long long v = strtoll(env, &end, 10);
	if (errno || *end || v < 0 || *env < '0' || *env > '9')
		return -1;
	*out = v;
	return 0;
}

long long time_now(void)
{
	long long ts;
	return env_now(&ts) == 0 ? ts : (long long)time(NULL);
}

int time_now_check(dai_err *e)
{
	const char *env = getenv("DAI_NOW");
	long long ts;
	if (env && *env && env_now(&ts) != 0)
		return dai_errf(
		    e, "DAI_NOW: '%.64s' is neither YYYY-MM-DDTHH:MM:SSZ nor Unix seconds", env);
	return 0;
}

int duration_parse(const char *s, long long *secs)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -1;
	long long v = strtoll(s, &end, 10);
	long long mul;
	switch (*end) {
	case 's':
		mul = 1;
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		return -1;
	}
	if (end[1] != 0 || v < 0 || __builtin_mul_overflow(v, mul, secs))
		return -1;
	return 0;
}
