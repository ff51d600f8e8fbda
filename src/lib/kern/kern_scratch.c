/* kern_scratch.c - see kern_scratch.h. */
#include "kern_scratch.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;
static _Thread_local struct scratch {
	void *p;
	size_t n;
} scratch;

/* the key's destructor: a thread's buffer goes with it */
static void scratch_release(void *v)
{
	struct scratch *s = v;
	free(s->p);
	s->p = NULL;
	s->n = 0;
}

static void scratch_init(void)
{
	scratch_key_ok = pthread_key_create(&scratch_key, scratch_release) == 0;
}

void *kern_scratch(size_t n)
{
	pthread_once(&scratch_once, scratch_init);
	if (!scratch_key_ok)
		return NULL;
	if (scratch.n >= n)
		return scratch.p;
	size_t want = (n + 65535) & ~(size_t)65535;
	void *p = aligned_alloc(64, want);
	if (!p || pthread_setspecific(scratch_key, &scratch)) {
		free(p);
		return NULL;
	}
	free(scratch.p);
	scratch.p = p;
	scratch.n = want;
	return p;
}
