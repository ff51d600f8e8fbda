/* pack_manifest.c - the MANIFEST document of a pack: build, parse, check
 * (see pack.h). */
#include "pack.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "doc_schema.h"

static int path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '+' || c == '-';
}

int pack_path_check(const char *p, size_t n)
{
	if (n == 0 || n > TAR_NAME_MAX || p[0] == '.' || p[0] == '-')
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!path_char(p[i]))
			return -1;
	if (n == sizeof PACK_MANIFEST_NAME - 1 && memcmp(p, PACK_MANIFEST_NAME, n) == 0)
		return -1;
	return 0;
}

/* "<size> b2:<64 hex> <path>" */
static int parse_file_line(pack_file *f, const char *v, size_t n)
{
	const char *sp = memchr(v, ' ', n);
	unsigned long long size;
	if (!sp || value_uint(v, (size_t)(sp - v), &size) != 0)
		return -1;
	const char *h = sp + 1;
	size_t left = n - (size_t)(h - v);
	if (left < DAI_ID_LEN + 2 || memcmp(h, "b2:", 3) != 0 || h[DAI_ID_LEN] != ' ' ||
	    hex_decode(f->hash, 32, h + 3, 64) != 0)
		return -1;
	const char *p = h + DAI_ID_LEN + 1;
	size_t plen = n - (size_t)(p - v);
	if (pack_path_check(p, plen) != 0)
		return -1;
	memcpy(f->path, p, plen);
	f->path[plen] = 0;
	f->size = size;
	return 0;
}

static int get_uint(const dai_doc *d, const char *key, uint64_t *out)
{
	size_t n = 0;
	const char *v = NULL;
	unsigned long long x;
	for (size_t i = 0; i < d->nfields; i++)
		if (strcmp(d->fields[i].key, key) == 0)
			v = d->fields[i].val, n = d->fields[i].vallen;
	if (!v || value_uint(v, n, &x) != 0)
		return -1;
	*out = x;
	return 0;
}

int pack_manifest_parse(pack_manifest *m, const char *buf, size_t len, const char *name, dai_err *e)
{
	memset(m, 0, sizeof *m);
	if (doc_parse(&m->doc, buf, len, name, 1, e))
		return -1;
	dai_doc *d = &m->doc;
	if (strcmp(d->kind, "manifest") != 0) {
		dai_errf(e, "%s: a dai-%s document, not a dai-manifest", name, d->kind);
		goto fail;
	}
	/* The schema has checked the keys, their order and types; the file
	 * lines are checked here, then the signature. */
	m->name = doc_get(d, "name");
	m->arch = doc_get(d, "arch");
	m->tensor_type = doc_get(d, "tensor-type");
	if (get_uint(d, "params", &m->params) ||
	    get_uint(d, "context-length", &m->context_length) ||
	    get_uint(d, "vocab-size", &m->vocab_size)) {
		dai_errf(e, "%s: bad number", name); /* the schema makes this unreachable */
		goto fail;
	}
	size_t nf = 0;
	for (size_t i = 0; i < d->nfields; i++)
		nf += strcmp(d->fields[i].key, "file") == 0;
	if (nf > PACK_FILES_MAX) {
		dai_errf(e, "%s: %zu files, more than %d", name, nf, PACK_FILES_MAX);
		goto fail;
	}
	m->files = calloc(nf, sizeof *m->files);
	if (!m->files) {
		dai_errf(e, "%s: out of memory", name);
		goto fail;
	}
	for (size_t i = 0; i < d->nfields; i++) {
		const dai_field *f = &d->fields[i];
		if (strcmp(f->key, "file") != 0)
			continue;
		pack_file *pf = &m->files[m->n_files];
		if (parse_file_line(pf, f->val, f->vallen)) {
			dai_errf(e,
			         "%s: file line %zu: expected '<size> b2:<64 hex> <path>' with a "
			         "plain file name",
			         name, m->n_files + 1);
			goto fail;
		}
		for (size_t j = 0; j < m->n_files; j++)
			if (strcmp(m->files[j].path, pf->path) == 0) {
				dai_errf(e, "%s: file '%s' listed twice", name, pf->path);
				goto fail;
			}
		m->n_files++;
	}
	if (doc_verify(d, e)) {
		dai_err_prefix(e, name);
		goto fail;
	}
	const char *pub = doc_get(d, "publisher");
	ed25519_did(m->publisher, d->signer_pk);
	if (strcmp(pub, m->publisher) != 0) {
		dai_errf(e, "%s: publisher %s is not the signer %s", name, pub, m->publisher);
		goto fail;
	}
	doc_id(d, m->id);
	return 0;
fail:
	pack_manifest_free(m);
	return -1;
}

void pack_manifest_free(pack_manifest *m)
{
	doc_free(&m->doc);
	free(m->files);
	memset(m, 0, sizeof *m);
}

static const char *type_word(int t)
{
	return t < 0 ? "none" : ggml_type_name((uint32_t)t);
}

int pack_manifest_build(pack_manifest *m, const dai_key *k, const char *name, const gguf_info *info,
                        const pack_file *files, size_t n_files, dai_err *e)
{
	dai_docb b;
	dai_doc d;
	char hex[65];
	if (n_files == 0 || n_files > PACK_FILES_MAX)
		return dai_errf(e, "a pack holds 1 to %d files", PACK_FILES_MAX);
	docb_init(&b, "manifest", 1);
	docb_add(&b, "name", name);
	docb_add(&b, "publisher", k->did);
	docb_add(&b, "arch", info->arch);
	docb_addf(&b, "params", "%" PRIu64, info->n_params);
	docb_add(&b, "tensor-type", type_word(info->weight_type));
	docb_addf(&b, "context-length", "%" PRIu64, info->context_length);
	docb_addf(&b, "vocab-size", "%" PRIu64, info->vocab_size);
	for (size_t i = 0; i < n_files; i++) {
		hex_encode(hex, files[i].hash, 32);
		docb_addf(&b, "file", "%" PRIu64 " b2:%s %s", files[i].size, hex, files[i].path);
	}
	if (docb_sign(&b, &d, k->sk, e))
		return -1;
	int rc = pack_manifest_parse(m, d.raw, d.len, PACK_MANIFEST_NAME, e);
	doc_free(&d);
	return rc;
}

int pack_manifest_match(const pack_manifest *m, const gguf_file *g, dai_err *e)
{
	gguf_info s;
	if (gguf_summary(g, &s, e))
		return -1;
	const char *what = NULL;
	char have[80], want[80];
	if (strcmp(s.arch, m->arch) != 0)
		what = "arch", snprintf(have, sizeof have, "%s", s.arch),
		snprintf(want, sizeof want, "%s", m->arch);
	else if (s.n_params != m->params)
		what = "params", snprintf(have, sizeof have, "%" PRIu64, s.n_params),
		snprintf(want, sizeof want, "%" PRIu64, m->params);
	else if (strcmp(type_word(s.weight_type), m->tensor_type) != 0)
		what = "tensor-type", snprintf(have, sizeof have, "%s", type_word(s.weight_type)),
		snprintf(want, sizeof want, "%s", m->tensor_type);
	else if (s.context_length != m->context_length)
		what = "context-length", snprintf(have, sizeof have, "%" PRIu64, s.context_length),
		snprintf(want, sizeof want, "%" PRIu64, m->context_length);
	else if (s.vocab_size != m->vocab_size)
		what = "vocab-size", snprintf(have, sizeof have, "%" PRIu64, s.vocab_size),
		snprintf(want, sizeof want, "%" PRIu64, m->vocab_size);
	if (what)
		return dai_errf(e, "%s: manifest says %s %s, the model has %s", g->name, what, want,
		                have);
	return 0;
}
