/* ledger_file.c - see ledger_file.h. */
#include "ledger_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsio.h"
#include "pool.h"
#include "timefmt.h"

/* Replays longer than this (bytes) check signatures on every CPU. */
#define LEDGER_PARALLEL_BYTES (256u * 1024u)

/* Frames the entry at buf[off..len): through the end of its first line
 * that starts with "sig ". 0 and its length; -1 when the input ends
 * first, -2 when it runs past DAI_DOC_MAX. */
static int frame(const char *buf, size_t len, size_t off, size_t *n, unsigned long *lines)
{
	size_t p = off;
	unsigned long nl = 0;
	while (p < len) {
		const char *end = memchr(buf + p, '\n', len - p);
		if (!end)
			return -1;
		size_t linelen = (size_t)(end - (buf + p));
		nl++;
		int is_sig = linelen >= 4 && memcmp(buf + p, "sig ", 4) == 0;
		p += linelen + 1;
		if (p - off > DAI_DOC_MAX)
			return -2;
		if (is_sig) {
			*n = p - off;
			*lines = nl;
			return 0;
		}
	}
	return -1;
}

/* Entries are framed one batch at a time, parsed and their signatures
 * checked in parallel (the costly part), then applied in order. */
#define SCAN_BATCH 256

typedef struct scan_batch {
	const char *buf, *name;
	size_t off[SCAN_BATCH], len[SCAN_BATCH];
	unsigned long line[SCAN_BATCH], lines[SCAN_BATCH];
	ledger_entry en[SCAN_BATCH];
	int rc[SCAN_BATCH];
	dai_err err[SCAN_BATCH];
} scan_batch;

static void parse_task(void *ctx, int i, int worker)
{
	scan_batch *b = ctx;
	(void)worker;
	b->rc[i] =
	    entry_parse(&b->en[i], b->buf + b->off[i], b->len[i], b->name, b->line[i], &b->err[i]);
}

static int scan(const char *buf, size_t len, const char *name, ledger_state *st, ledger_pos *pos,
                ledger_visit visit, void *arg, pool *workers, dai_err *e)
{
	scan_batch *b = malloc(sizeof *b);
	int rc = 0;
	if (!b)
		return dai_errf(e, "%s: out of memory", name);
	b->buf = buf;
	b->name = name;
	while (rc == 0 && pos->end < len) {
		size_t off = (size_t)pos->end;
		unsigned long line = pos->line;
		int n = 0, torn = 0;
		while (n < SCAN_BATCH && off < len) {
			if ((torn = frame(buf, len, off, &b->len[n], &b->lines[n])) != 0)
				break;
			b->off[n] = off;
			b->line[n] = line;
			off += b->len[n];
			line += b->lines[n];
			n++;
		}
		pool_run(workers, n, parse_task, b);
		int i;
		for (i = 0; i < n; i++) {
			ledger_entry *en = &b->en[i];
			if (b->rc[i]) {
				*e = b->err[i];
				rc = -1;
				break;
			}
			if (state_apply(st, en, e)) {
				char why[sizeof e->msg];
				snprintf(why, sizeof why, "%s", e->msg);
				dai_errf(e, "%s: line %lu: %s", name, b->line[i], why);
				rc = -1;
				break;
			}
			if (visit)
				visit(arg, en, st, b->off[i]);
			entry_free(en);
			pos->head_off = b->off[i];
			pos->end = b->off[i] + b->len[i];
			pos->line = b->line[i] + b->lines[i];
		}
		for (; i < n; i++)
			if (b->rc[i] == 0)
				entry_free(&b->en[i]);
		if (rc == 0 && torn)
			rc = dai_errf(e, "%s: line %lu (byte %zu): incomplete entry (%zu bytes)",
			              name, pos->line, (size_t)pos->end, len - (size_t)pos->end);
	}
	free(b);
	return rc;
}

int ledger_scan_from(const char *buf, size_t len, const char *name, ledger_state *st,
                     ledger_pos *pos, ledger_visit visit, void *arg, dai_err *e)
{
	return scan(buf, len, name, st, pos, visit, arg, NULL, e);
}

int ledger_scan(const char *buf, size_t len, const char *name, ledger_state *st,
                uint64_t *valid_end, ledger_visit visit, void *arg, dai_err *e)
{
	ledger_pos pos = {0, 0, 1};
	int rc = ledger_scan_from(buf, len, name, st, &pos, visit, arg, e);
	*valid_end = pos.end;
	return rc;
}

int ledger_default_path(char *out, size_t cap, dai_err *e)
{
	const char *env = getenv("DAI_LEDGER"), *home = getenv("HOME");
	int n;
	if (env && *env)
		n = snprintf(out, cap, "%s", env);
	else if (home && *home)
		n = snprintf(out, cap, "%s/.local/share/dai/ledger", home);
	else
		return dai_errf(e, "no ledger: set DAI_LEDGER or HOME, or name one with --ledger");
	if (n < 0 || (size_t)n >= cap)
		return dai_errf(e, "ledger path too long");
	return 0;
}

/* mkdir -p of the directory holding path. */
static int make_parent(const char *path, dai_err *e)
{
	char *dir = strdup(path);
	if (!dir)
		return dai_errf(e, "%s: out of memory", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir) {
		free(dir);
		return 0;
	}
	*slash = 0;
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != 0)
			continue;
		char c = *p;
		*p = 0;
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			dai_errf(e, "%s: %s", dir, strerror(errno));
			free(dir);
			return -1;
		}
		*p = c;
		if (c == 0)
			break;
	}
	free(dir);
	return 0;
}

static int read_file(int fd, const char *path, char **buf, size_t *len, dai_err *e)
{
	struct stat sb;
	if (fstat(fd, &sb) != 0)
		return dai_errf(e, "%s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return dai_errf(e, "%s: not a regular file", path);
	size_t n = (size_t)sb.st_size;
	char *b = malloc(n + 1);
	if (!b)
		return dai_errf(e, "%s: out of memory (%zu bytes)", path, n);
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, b + got, n - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(b);
			return dai_errf(e, "%s: read error: %s", path,
			                r < 0 ? strerror(errno) : "file shrank");
		}
		got += (size_t)r;
	}
	b[n] = 0;
	*buf = b;
	*len = n;
	return 0;
}

int ledger_open_visit(ledger *l, const char *path, enum ledger_mode mode, ledger_visit visit,
                      void *arg, dai_err *e)
{
	memset(l, 0, sizeof *l);
	l->fd = -1;
	l->mode = mode;
	state_init(&l->st);
	if (!(l->path = strdup(path)))
		return dai_errf(e, "%s: out of memory", path);
	int created = 0;
	if (mode == LEDGER_CREATE) {
		if (make_parent(path, e))
			goto fail;
		l->fd = open(path, O_RDWR | O_CLOEXEC);
		if (l->fd < 0 && errno == ENOENT) {
			l->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			created = 1;
		}
	} else {
		int ro = mode == LEDGER_READ || mode == LEDGER_VERIFY;
		l->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	}
	if (l->fd < 0) {
		dai_errf(e, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (created && fsync_parent(path, e))
		goto fail;
	int op = mode == LEDGER_READ || mode == LEDGER_VERIFY ? LOCK_SH : LOCK_EX;
	while (flock(l->fd, op) != 0) {
		if (errno != EINTR) {
			dai_errf(e, "%s: cannot lock: %s", path, strerror(errno));
			goto fail;
		}
	}
	char *buf = NULL;
	size_t len = 0;
	if (read_file(l->fd, path, &buf, &len, e))
		goto fail;
	l->size = len;
	l->pos = (ledger_pos){0, 0, 1};
	if (mode != LEDGER_VERIFY && !visit)
		l->from_snapshot = snap_load(path, buf, len, &l->st, &l->pos) == 0;
	uint64_t start = l->st.entries;
	/* Threads pay off only for a long replay (a pool that cannot start
	 * just means one thread). */
	dai_err ignored;
	pool *workers = len - l->pos.end > LEDGER_PARALLEL_BYTES ? pool_create(0, &ignored) : NULL;
	if (scan(buf, len, path, &l->st, &l->pos, visit, arg, workers, &l->damage))
		l->damaged = 1;
	pool_destroy(workers);
	l->valid_end = l->pos.end;
	free(buf);
	/* Only a cache: a snapshot that cannot be written is no error. */
	if (!l->damaged && l->st.entries - start >= LEDGER_SNAP_EVERY)
		snap_save(path, &l->st, &l->pos, &ignored);
	return 0;
fail:
	ledger_close(l);
	return -1;
}

int ledger_open(ledger *l, const char *path, enum ledger_mode mode, dai_err *e)
{
	return ledger_open_visit(l, path, mode, NULL, NULL, e);
}

void ledger_close(ledger *l)
{
	if (l->fd >= 0)
		close(l->fd); /* releases the lock */
	free(l->path);
	state_free(&l->st);
	memset(l, 0, sizeof *l);
	l->fd = -1;
}

static int damaged_error(const ledger *l, dai_err *e)
{
	return dai_errf(e,
	                "%s is damaged after byte %llu (%s); nothing is appended until "
	                "'dai-settle repair' cuts it to its last valid entry",
	                l->path, (unsigned long long)l->valid_end, l->damage.msg);
}

int ledger_append(ledger *l, const ledger_entry *req, const unsigned char *sk,
                  char id[DAI_ID_LEN + 1], dai_err *e)
{
	if (l->mode == LEDGER_READ || l->mode == LEDGER_VERIFY)
		return dai_errf(e, "%s: opened for reading", l->path);
	if (l->broken)
		return dai_errf(e, "%s: an earlier append failed; reopen the ledger", l->path);
	if (l->damaged)
		return damaged_error(l, e);
	if (!l->st.started && req->op != OP_GENESIS)
		return dai_errf(e, "%s: the first entry must be the genesis ('dai-settle init')",
		                l->path);
	ledger_entry in = *req, en;
	snprintf(in.prev, sizeof in.prev, "%s", l->st.head);
	in.time = time_now();
	if (l->st.started && in.time < l->st.head_time) {
		char t[DAI_TIME_LEN + 1];
		time_format(t, l->st.head_time);
		return dai_errf(e, "%s: the clock is behind the ledger's last entry (%s)", l->path,
		                t);
	}
	if (entry_encode(&in, sk, &en, e))
		return -1;
	if (state_apply(&l->st, &en, e)) {
		entry_free(&en);
		return -1;
	}
	/* From here on the state holds the entry: until it is durable, any
	 * failure leaves this handle unusable. */
	l->broken = 1;
	size_t off = 0;
	while (off < en.raw.len) {
		ssize_t w =
		    pwrite(l->fd, en.raw.raw + off, en.raw.len - off, (off_t)(l->valid_end + off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			dai_errf(e, "%s: write error: %s", l->path,
			         w < 0 ? strerror(errno) : "no progress");
			goto undo;
		}
		off += (size_t)w;
	}
	if (fsync(l->fd) != 0) {
		dai_errf(e, "%s: fsync: %s", l->path, strerror(errno));
		goto undo;
	}
	if (fsync_parent(l->path, e))
		goto undo;
	l->pos.head_off = l->valid_end;
	l->pos.end = l->valid_end + en.raw.len;
	for (size_t i = 0; i < en.raw.len; i++)
		l->pos.line += en.raw.raw[i] == '\n';
	l->valid_end = l->pos.end;
	l->size = l->valid_end;
	l->broken = 0;
	if (id)
		strcpy(id, en.id);
	entry_free(&en);
	return 0;
undo:
	/* Best effort: drop what was written so the next open sees no torn
	 * tail; if this fails too, the next open reports it. */
	if (ftruncate(l->fd, (off_t)l->valid_end) == 0)
		fsync(l->fd);
	entry_free(&en);
	return -1;
}

int ledger_repair(ledger *l, uint64_t *dropped, dai_err *e)
{
	if (l->mode == LEDGER_READ || l->mode == LEDGER_VERIFY)
		return dai_errf(e, "%s: opened for reading", l->path);
	if (!l->damaged)
		return dai_errf(e, "%s: nothing to repair: every entry is valid", l->path);
	if (ftruncate(l->fd, (off_t)l->valid_end) != 0 || fsync(l->fd) != 0)
		return dai_errf(e, "%s: truncate: %s", l->path, strerror(errno));
	if (fsync_parent(l->path, e))
		return -1;
	*dropped = l->size - l->valid_end;
	l->size = l->valid_end;
	l->damaged = 0;
	return 0;
}
