/*
 * timefmt.h - times in documents: "YYYY-MM-DDTHH:MM:SSZ", always UTC, and
 * durations such as "90s", "15m", "2h", "7d" for expiries and windows.
 */
#ifndef DAI_TIMEFMT_H
#define DAI_TIMEFMT_H

#include <stddef.h>

#include "err.h"

#define DAI_TIME_LEN 20 /* characters, without the NUL */

/* Formats Unix seconds; out holds DAI_TIME_LEN + 1 bytes. */
void time_format(char *out, long long ts);

/* Parses the exact form above (a real calendar date) into Unix seconds. */
int time_parse(const char *s, size_t n, long long *ts);

/* The current time in Unix seconds; DAI_NOW (Unix seconds or a time as
 * above) overrides it, so tests and replays can fix the clock. */
long long time_now(void);

/* Fails with a message when DAI_NOW is set but is neither form, so a typo
 * never silently falls back to the real clock (every main checks it). */
int time_now_check(dai_err *e);

/* Parses a duration: digits followed by s, m, h or d. */
int duration_parse(const char *s, long long *secs);

#endif
