/* prove_stream.c - see prove_stream.h. */
#include "prove_stream.h"

#include <stdlib.h>
#include <string.h>

#include "docio.h"

#define JOBS_MAX 65536 /* jobs remembered from one stream */

typedef struct jobs {
	dai_doc *d;
	size_t n, cap;
} jobs;

static const dai_doc *find_job(const jobs *js, const char *id)
{
	char jid[DAI_ID_LEN + 1];
	for (size_t i = js->n; i-- > 0;) {
		doc_id(&js->d[i], jid);
		if (strcmp(jid, id) == 0)
			return &js->d[i];
	}
	return NULL;
}

static void note(const prove_stream_opts *o, const char *msg)
{
	if (o->note)
		o->note(o->ctx, msg);
}

/* Handles one receipt or fraud; the document made goes to *made. 0 done,
 * -1 error (the message in e). */
static int handle(const engine *en, const prove_stream_opts *o, const jobs *js, const dai_doc *d,
                  dai_doc *made, prove_stream_stats *st, dai_err *e)
{
	prove_report r;
	char id[DAI_ID_LEN + 1];
	doc_id(d, id);
	if (o->mode == PROVE_CHECK) {
		if (prove_check(en, d, &o->run, &r, e))
			return dai_err_prefix(e, id);
		if (!r.ok)
			st->failed++;
		return prove_verdict(d, &r, o->key, made, e);
	}
	const dai_doc *job = find_job(js, doc_get(d, "job"));
	if (!job)
		return dai_errf(e, "%s: its dai-job %s is not in the stream before it", id,
		                doc_get(d, "job"));
	if (o->mode == PROVE_VERIFY) {
		if (prove_verify(en, d, job, o->trace, &o->run, &r, e))
			return dai_err_prefix(e, id);
		if (!r.ok)
			st->failed++;
		return prove_verdict(d, &r, o->key, made, e);
	}
	if (prove_challenge(en, d, job, o->trace, o->key, &o->run, made, &r, e))
		return dai_err_prefix(e, id);
	st->failed++;
	return 0;
}

int prove_stream(const engine *en, const prove_stream_opts *o, int fd, const char *name, FILE *out,
                 prove_stream_stats *st, dai_err *e)
{
	dai_reader r;
	jobs js = {0};
	int rc = 0;
	const char *subject = o->mode == PROVE_CHECK ? "fraud" : "receipt";
	memset(st, 0, sizeof *st);
	if (reader_init(&r, fd, name, e))
		return -1;
	for (;;) {
		dai_doc d, made;
		int s = reader_pass(&r, out, &d, e);
		if (s == DOC_EOF)
			break;
		if (s == DOC_FATAL) {
			rc = -1;
			break;
		}
		if (s == DOC_BAD) {
			note(o, e->msg);
			continue;
		}
		int keep = 0;
		if (strcmp(d.kind, "job") == 0 && js.n < JOBS_MAX) {
			if (js.n == js.cap) {
				size_t cap = js.cap ? 2 * js.cap : 16;
				dai_doc *p = realloc(js.d, cap * sizeof *p);
				if (p) {
					js.d = p;
					js.cap = cap;
				}
			}
			if (js.n < js.cap) {
				js.d[js.n++] = d;
				keep = 1;
			}
		} else if (strcmp(d.kind, subject) == 0) {
			dai_err he;
			st->subjects++;
			if (handle(en, o, &js, &d, &made, st, &he)) {
				st->errors++;
				note(o, he.msg);
			} else {
				int w = doc_write(out, &made, e);
				doc_free(&made);
				if (w) {
					doc_free(&d);
					rc = -1;
					break;
				}
			}
		}
		if (!keep)
			doc_free(&d);
	}
	if (rc == 0 && fflush(out))
		rc = dai_errf(e, "writing the output failed");
	for (size_t i = 0; i < js.n; i++)
		doc_free(&js.d[i]);
	free(js.d);
	reader_free(&r);
	return rc;
}
