/* job_stream.c - see job_stream.h. */
#include "job_stream.h"

#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "docio.h"

static void note(const job_stream_opts *o, const char *msg)
{
	if (o->note)
		o->note(o->ctx, msg);
}

/* Where the trace of job id goes: "" for none; -1 when it cannot go anywhere. */
static int trace_path(const job_stream_opts *o, const char *id, unsigned long n_run, char *out,
                      size_t cap, dai_err *e)
{
	struct stat sb;
	out[0] = 0;
	if (!o->trace)
		return 0;
	if (stat(o->trace, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		if ((size_t)snprintf(out, cap, "%s/%s.trace", o->trace, id + 3) >= cap)
			return dai_errf(e, "%s: path too long", o->trace);
		return 0;
	}
	if (n_run > 0)
		return dai_errf(e,
		                "dai-job %s: the trace file %s holds the job before; give a "
		                "directory to -T to run several",
		                id, o->trace);
	snprintf(out, cap, "%s", o->trace);
	return 0;
}

static void run_one(const engine *en, const dai_key *k, const dai_doc *d, FILE *out,
                    const job_stream_opts *o, job_stream_stats *st, int *io_failed, dai_err *ioe)
{
	job_terms j;
	dai_err e;
	char path[PATH_MAX];
	dai_doc receipt;
	dai_trace tr;
	if (job_terms_read(d, &j, &e) || job_addressed(&j, k->did, en->model_id, o->now, &e) ||
	    trace_path(o, j.id, st->run, path, sizeof path, &e)) {
		job_terms_free(&j);
		st->refused++;
		note(o, e.msg);
		return;
	}
	job_terms_free(&j);
	if (job_run(en, k, d, &o->run, &receipt, &tr, &e)) {
		st->refused++;
		note(o, e.msg);
		return;
	}
	if (path[0] && trace_write(&tr, path, &e)) {
		st->refused++;
		note(o, e.msg);
	} else if (doc_write(out, &receipt, ioe)) {
		*io_failed = 1;
	} else {
		st->run++;
	}
	trace_free(&tr);
	doc_free(&receipt);
}

int job_stream(const engine *en, const dai_key *k, int fd, const char *name, FILE *out,
               const job_stream_opts *o, job_stream_stats *st, dai_err *e)
{
	dai_reader r;
	int rc = 0, io_failed = 0;
	memset(st, 0, sizeof *st);
	if (!en->model_id[0])
		return dai_errf(e, "the model is a plain GGUF file: jobs name a pack id, so run "
		                   "them on a pack (dai-pack create)");
	if (reader_init(&r, fd, name, e))
		return -1;
	while (!io_failed) {
		dai_doc d;
		int s = reader_pass(&r, out, &d, e);
		if (s == DOC_EOF)
			break;
		if (s == DOC_FATAL) {
			rc = -1;
			break;
		}
		st->docs++;
		if (s == DOC_BAD) {
			st->bad++;
			note(o, e->msg);
			continue;
		}
		if (strcmp(d.kind, "job") == 0) {
			if (fflush(out)) /* the job is out before the long run */
				io_failed = 1;
			run_one(en, k, &d, out, o, st, &io_failed, e);
		}
		doc_free(&d);
	}
	if (io_failed || fflush(out)) {
		if (!io_failed)
			dai_errf(e, "writing the output failed");
		rc = -1;
	}
	reader_free(&r);
	return rc;
}
