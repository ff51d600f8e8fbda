/* err.c - see err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int dai_errf(dai_err *e, const char *fmt, ...)
{
	if (!e)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int dai_err_prefix(dai_err *e, const char *prefix)
{
	if (!e)
		return -1;
	char tmp[sizeof e->msg];
	if (snprintf(tmp, sizeof tmp, "%s: %s", prefix, e->msg) >= (int)sizeof tmp)
		tmp[sizeof tmp - 2] = '~'; /* mark the cut; a message stays one line */
	memcpy(e->msg, tmp, sizeof tmp);
	return -1;
}
