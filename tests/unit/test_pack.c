/* Unit tests: model packs. Round trips on the conformance models, every
 * flipped byte and every truncation of a small pack caught, hostile tars
 * (built with libarchive here) refused with a clear error, gzip packs
 * through the cache, plain GGUF files, extraction, and the model mapped in
 * place. Run from the repository root (tests/data/...). */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsio.h"
#include "gguf_write.h"
#include "pack.h"

static char dir[64];
static dai_key key;

static void setup(void)
{
	dai_err e;
	cr_assert(sodium_init() >= 0);
	strcpy(dir, "/tmp/dai-pack-test.XXXXXX");
	cr_assert(mkdtemp(dir));
	cr_assert_eq(key_generate(&key, &e), 0);
	char cache[128];
	snprintf(cache, sizeof cache, "%s/cache", dir);
	setenv("XDG_CACHE_HOME", cache, 1);
}

static void teardown(void)
{
	char cmd[128];
	key_free(&key);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(pack, .init = setup, .fini = teardown);

static char *tpath(const char *name)
{
	static char buf[4][256];
	static int k;
	char *p = buf[k++ % 4];
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	char *d;
	dai_err e;
	cr_assert_eq(file_read_all(path, 1u << 30, &d, len, &e), 0, "%s", e.msg);
	return (unsigned char *)d;
}

static void put(const char *path, const void *d, size_t n)
{
	dai_err e;
	cr_assert_eq(file_write_atomic(path, d, n, 0644, 0, &e), 0, "%s", e.msg);
}

/* A small llama GGUF (two tensors) at path, with the given alignment. */
static void tiny_gguf(const char *path, uint32_t align)
{
	static const char *toks[4] = {"<unk>", "<s>", "a", "b"};
	float emb[64 * 4], norm[64];
	for (int i = 0; i < 64 * 4; i++)
		emb[i] = (float)i * 0.25f;
	for (int i = 0; i < 64; i++)
		norm[i] = 1.0f + (float)i;
	gguf_writer w;
	dai_err e;
	gguf_w_init(&w);
	w.alignment = align;
	gguf_w_str(&w, "general.architecture", "llama");
	gguf_w_u32(&w, "general.alignment", align);
	gguf_w_u32(&w, "llama.context_length", 64);
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", toks, 4);
	int64_t ne1[1] = {64}, ne2[2] = {64, 4};
	gguf_w_tensor(&w, "output_norm.weight", GGML_TYPE_F32, 1, ne1, norm, sizeof norm);
	gguf_w_tensor(&w, "token_embd.weight", GGML_TYPE_F32, 2, ne2, emb, sizeof emb);
	cr_assert_eq(gguf_w_write(&w, path, &e), 0, "%s", e.msg);
	gguf_w_free(&w);
}

/* tiny.gguf and LICENSE in the test directory, packed into tiny.dai.tar. */
static void tiny_pack(int gzip, char id[DAI_ID_LEN + 1])
{
	dai_err e;
	tiny_gguf(tpath("tiny.gguf"), 32);
	put(tpath("LICENSE"), "Free to use.\n", 13);
	const char *files[1] = {tpath("LICENSE")};
	cr_assert_eq(pack_create(tpath(gzip ? "tiny.dai.tgz" : "tiny.dai.tar"), &key, NULL, gzip,
	                         tpath("tiny.gguf"), files, 1, id, &e),
	             0, "%s", e.msg);
}

static int scan_mem(const void *d, size_t n, pack_manifest *m, dai_err *e)
{
	pack_src s;
	pack_src_mem(&s, d, n, "p.tar");
	return pack_scan(&s, 0, NULL, m, e);
}

/* Expects a scan of d[0..n) to fail with a message holding want. */
static void scan_fails(const void *d, size_t n, const char *want)
{
	pack_manifest m;
	dai_err e;
	cr_assert_eq(scan_mem(d, n, &m, &e), -1, "expected '%s'", want);
	cr_assert(strstr(e.msg, want), "got '%s', expected '%s'", e.msg, want);
}

Test(pack, round_trip_conformance_models)
{
	static const char *models[] = {"a_f32", "a_f16", "a_q8_0", "b_q8_0"};
	for (size_t c = 0; c < sizeof models / sizeof *models; c++) {
		char src[64], out[64], id[DAI_ID_LEN + 1];
		dai_err e;
		pack_manifest m;
		pack_model pm;
		gguf_file g;
		snprintf(src, sizeof src, "tests/data/%s.gguf", models[c]);
		snprintf(out, sizeof out, "%s.dai.tar", models[c]);
		cr_assert_eq(pack_create(tpath(out), &key, "test model", 0, src, NULL, 0, id, &e),
		             0, "%s", e.msg);
		cr_assert_eq(pack_verify(tpath(out), 0, &m, &e), 0, "%s", e.msg);
		cr_assert_str_eq(m.id, id);
		cr_assert_str_eq(m.name, "test model");
		cr_assert_str_eq(m.publisher, key.did);
		cr_assert_str_eq(m.arch, "llama");
		cr_assert_eq(m.context_length, 256);
		cr_assert_eq(m.vocab_size, 512);
		cr_assert_eq(m.n_files, 1);
		snprintf(out, sizeof out, "%s.gguf", models[c]);
		cr_assert_str_eq(m.files[0].path, out);
		pack_manifest_free(&m);
		snprintf(out, sizeof out, "%s.dai.tar", models[c]);
		cr_assert_eq(pack_open_model(&pm, tpath(out), &e), 0, "%s", e.msg);
		cr_assert_eq(gguf_open(&g, src, &e), 0, "%s", e.msg);
		cr_assert(pm.has_manifest);
		cr_assert_str_eq(pm.manifest.id, id);
		cr_assert_eq(pm.gguf.n_tensors, g.n_tensors);
		/* The tensors are the file's bytes, inside the pack's mapping. */
		const unsigned char *lo = pm.map, *hi = lo + pm.map_len;
		for (size_t i = 0; i < g.n_tensors; i++) {
			const gguf_tensor *t = &pm.gguf.tensors[i];
			const unsigned char *p = t->data;
			cr_assert(p >= lo && p + t->size <= hi, "tensor %s outside the mapping",
			          t->name);
			cr_assert_eq((uintptr_t)p % pm.gguf.alignment, 0);
			cr_assert_eq(t->size, g.tensors[i].size);
			cr_assert_eq(memcmp(p, g.tensors[i].data, t->size), 0);
		}
		gguf_close(&g);
		pack_close_model(&pm);
	}
}

Test(pack, reproducible)
{
	char id1[DAI_ID_LEN + 1], id2[DAI_ID_LEN + 1];
	size_t n1, n2;
	tiny_pack(0, id1);
	unsigned char *a = slurp(tpath("tiny.dai.tar"), &n1);
	tiny_pack(0, id2);
	unsigned char *b = slurp(tpath("tiny.dai.tar"), &n2);
	cr_assert_str_eq(id1, id2);
	cr_assert(n1 == n2 && memcmp(a, b, n1) == 0);
	cr_assert_eq(n1 % TAR_BLOCK, 0);
	free(a);
	free(b);
}

/* Every byte of a small pack, changed three ways, is caught. */
Test(pack, every_flipped_byte_caught)
{
	char id[DAI_ID_LEN + 1];
	size_t n;
	pack_manifest m;
	dai_err e;
	tiny_pack(0, id);
	unsigned char *p = slurp(tpath("tiny.dai.tar"), &n);
	cr_assert_eq(scan_mem(p, n, &m, &e), 0, "%s", e.msg);
	pack_manifest_free(&m);
	static const unsigned char masks[] = {0x01, 0x80, 0x20};
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof masks; k++) {
			p[i] ^= masks[k];
			int rc = scan_mem(p, n, &m, &e);
			p[i] ^= masks[k];
			cr_assert_eq(rc, -1, "flip 0x%02x at offset %zu of %zu not caught",
			             masks[k], i, n);
		}
	}
	free(p);
}

/* A sample of offsets in each region of a bigger pack: tar headers,
 * manifest text, signature, model data, padding, trailer. */
Test(pack, flipped_bytes_in_model_pack)
{
	char id[DAI_ID_LEN + 1];
	size_t n;
	dai_err e;
	pack_manifest m;
	cr_assert_eq(pack_create(tpath("q.dai.tar"), &key, NULL, 0, "tests/data/a_q8_0.gguf", NULL,
	                         0, id, &e),
	             0, "%s", e.msg);
	unsigned char *p = slurp(tpath("q.dai.tar"), &n);
	cr_assert_eq(scan_mem(p, n, &m, &e), 0, "%s", e.msg);
	size_t mlen = m.doc.len, sig = m.doc.body_len;
	pack_manifest_free(&m);
	size_t model = 512 + (mlen + 511) / 512 * 512 + 512; /* first model byte */
	size_t offs[64], k = 0;
	offs[k++] = 0;                 /* MANIFEST header: name */
	offs[k++] = 148;               /* its checksum */
	offs[k++] = 512 + 20;          /* manifest text */
	offs[k++] = 512 + sig + 10;    /* its signature */
	offs[k++] = 512 + mlen;        /* padding after the manifest */
	offs[k++] = model - 512 + 124; /* model header: size */
	offs[k++] = model - 512 + 257; /* magic */
	offs[k++] = model;             /* GGUF magic */
	offs[k++] = model + 100;       /* GGUF metadata */
	for (int i = 1; i <= 40; i++)  /* model data */
		offs[k++] = model + (n - 2048 - model) * (size_t)i / 41;
	offs[k++] = n - 1024 - 1; /* end of the model or its padding */
	offs[k++] = n - 1024;     /* first end-of-archive block */
	offs[k++] = n - 1;        /* last byte */
	for (size_t i = 0; i < k; i++) {
		cr_assert_lt(offs[i], n);
		p[offs[i]] ^= 0x04;
		int rc = scan_mem(p, n, &m, &e);
		p[offs[i]] ^= 0x04;
		cr_assert_eq(rc, -1, "flip at offset %zu not caught", offs[i]);
	}
	free(p);
}

Test(pack, every_truncation_caught)
{
	char id[DAI_ID_LEN + 1];
	size_t n;
	tiny_pack(0, id);
	unsigned char *p = slurp(tpath("tiny.dai.tar"), &n);
	for (size_t len = 0; len < n; len++) {
		pack_manifest m;
		dai_err e;
		cr_assert_eq(scan_mem(p, len, &m, &e), -1, "truncated to %zu not caught", len);
		cr_assert(len == 0 || strstr(e.msg, "truncated"), "at %zu: %s", len, e.msg);
	}
	/* Cut after the first end-of-archive block; after the manifest. */
	scan_fails(p, n - 512, "(in end-of-archive blocks)");
	scan_fails(p, 1024, "truncated at offset 1024 (in a header)");
	free(p);
}

/* Hostile and malformed tars, written with libarchive. */
typedef struct entry {
	const char *name;
	int type; /* AE_IFREG, AE_IFLNK, ... */
	const void *data;
	size_t size;
	const char *link;
} entry;

static unsigned char *build_tar(const entry *ents, size_t n, size_t *len)
{
	size_t cap = 1 << 20, used = 0;
	unsigned char *buf = malloc(cap);
	struct archive *a = archive_write_new();
	cr_assert(buf && a);
	cr_assert_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	cr_assert_eq(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	cr_assert_eq(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *en = archive_entry_new();
		archive_entry_set_pathname(en, ents[i].name);
		archive_entry_set_filetype(en, (unsigned)ents[i].type);
		archive_entry_set_perm(en, 0644);
		if (ents[i].type == AE_IFREG)
			archive_entry_set_size(en, (la_int64_t)ents[i].size);
		if (ents[i].link && ents[i].type == AE_IFLNK)
			archive_entry_set_symlink(en, ents[i].link);
		else if (ents[i].link)
			archive_entry_set_hardlink(en, ents[i].link);
		if (ents[i].type == AE_IFCHR)
			archive_entry_set_rdev(en, 0x0103);
		cr_assert_eq(archive_write_header(a, en), ARCHIVE_OK, "%s",
		             archive_error_string(a));
		if (ents[i].size)
			cr_assert_eq(archive_write_data(a, ents[i].data, ents[i].size),
			             (la_ssize_t)ents[i].size);
		archive_entry_free(en);
	}
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*len = used;
	return buf;
}

/* A signed manifest for tiny.gguf (model) and LICENSE, with their bytes. */
typedef struct parts {
	pack_manifest m;
	unsigned char *model, *lic;
	size_t model_len, lic_len;
} parts;

static void make_parts(parts *p)
{
	dai_err e;
	gguf_file g;
	gguf_info info;
	pack_file f[2];
	tiny_gguf(tpath("tiny.gguf"), 32);
	p->model = slurp(tpath("tiny.gguf"), &p->model_len);
	p->lic = (unsigned char *)strdup("Free to use.\n");
	p->lic_len = 13;
	cr_assert_eq(gguf_open_mem(&g, p->model, p->model_len, "tiny", &e), 0, "%s", e.msg);
	cr_assert_eq(gguf_summary(&g, &info, &e), 0);
	gguf_close(&g);
	memset(f, 0, sizeof f);
	strcpy(f[0].path, "tiny.gguf");
	f[0].size = p->model_len;
	crypto_generichash(f[0].hash, 32, p->model, p->model_len, NULL, 0);
	strcpy(f[1].path, "LICENSE");
	f[1].size = p->lic_len;
	crypto_generichash(f[1].hash, 32, p->lic, p->lic_len, NULL, 0);
	cr_assert_eq(pack_manifest_build(&p->m, &key, "tiny", &info, f, 2, &e), 0, "%s", e.msg);
}

static void free_parts(parts *p)
{
	pack_manifest_free(&p->m);
	free(p->model);
	free(p->lic);
}

#define MAN(p)                                                                                     \
	{                                                                                          \
		"MANIFEST", AE_IFREG, (p).m.doc.raw, (p).m.doc.len, NULL                           \
	}
#define MODEL(p)                                                                                   \
	{                                                                                          \
		"tiny.gguf", AE_IFREG, (p).model, (p).model_len, NULL                              \
	}
#define LIC(p)                                                                                     \
	{                                                                                          \
		"LICENSE", AE_IFREG, (p).lic, (p).lic_len, NULL                                    \
	}

static void tar_fails(const entry *ents, size_t n, const char *want)
{
	size_t len;
	unsigned char *t = build_tar(ents, n, &len);
	scan_fails(t, len, want);
	free(t);
}

Test(pack, libarchive_built_pack_verifies)
{
	parts p;
	make_parts(&p);
	entry ok[] = {MAN(p), MODEL(p), LIC(p)};
	size_t len;
	pack_manifest m;
	dai_err e;
	unsigned char *t = build_tar(ok, 3, &len);
	cr_assert_eq(scan_mem(t, len, &m, &e), 0, "%s", e.msg);
	cr_assert_str_eq(m.id, p.m.id);
	pack_manifest_free(&m);
	free(t);
	free_parts(&p);
}

Test(pack, member_order_and_set)
{
	parts p;
	make_parts(&p);
	entry order[] = {MAN(p), LIC(p), MODEL(p)};
	tar_fails(order, 3, "member 'LICENSE' out of order: the manifest lists 'tiny.gguf' next");
	entry extra[] = {MAN(p), MODEL(p), LIC(p), {"README", AE_IFREG, "x", 1, NULL}};
	tar_fails(extra, 4, "extra member 'README' not in the manifest");
	entry missing[] = {MAN(p), MODEL(p)};
	tar_fails(missing, 2, "member 'LICENSE' listed in the manifest is missing");
	entry twice[] = {MAN(p), MODEL(p), MODEL(p)};
	tar_fails(twice, 3, "member 'tiny.gguf' appears twice");
	entry man2[] = {MAN(p), MODEL(p), LIC(p), MAN(p)};
	tar_fails(man2, 4, "extra member 'MANIFEST'");
	entry notfirst[] = {MODEL(p), MAN(p), LIC(p)};
	tar_fails(notfirst, 3, "first member is 'tiny.gguf', not MANIFEST");
	entry stranger[] = {MAN(p), {"other.bin", AE_IFREG, "x", 1, NULL}, LIC(p)};
	tar_fails(stranger, 3, "member 'other.bin' is not in the manifest");
	entry nomanifest[] = {MODEL(p)};
	tar_fails(nomanifest, 1, "not MANIFEST");
	tar_fails(NULL, 0, "empty archive, no MANIFEST");
	entry badsize[] = {MAN(p), MODEL(p), {"LICENSE", AE_IFREG, "Free to use!\n!", 14, NULL}};
	tar_fails(badsize, 3, "member 'LICENSE': 14 bytes, the manifest says 13");
	entry badhash[] = {MAN(p), MODEL(p), {"LICENSE", AE_IFREG, "Free to use!\n", 13, NULL}};
	tar_fails(badhash, 3, "member 'LICENSE': BLAKE2b-256 does not match the manifest");
	free_parts(&p);
}

Test(pack, unsafe_members_refused)
{
	parts p;
	make_parts(&p);
	entry sym[] = {MAN(p), {"tiny.gguf", AE_IFLNK, NULL, 0, "/etc/passwd"}, LIC(p)};
	tar_fails(sym, 3, "member 'tiny.gguf': a symbolic link, not a regular file");
	entry hard[] = {MAN(p), {"tiny.gguf", AE_IFREG, NULL, 0, "MANIFEST"}, LIC(p)};
	tar_fails(hard, 3, "member 'tiny.gguf': a hard link, not a regular file");
	entry dirm[] = {MAN(p), {"tiny.gguf", AE_IFDIR, NULL, 0, NULL}, LIC(p)};
	tar_fails(dirm, 3, "a directory, not a regular file");
	entry dev[] = {MAN(p), {"tiny.gguf", AE_IFCHR, NULL, 0, NULL}, LIC(p)};
	tar_fails(dev, 3, "a character device, not a regular file");
	entry fifo[] = {MAN(p), {"tiny.gguf", AE_IFIFO, NULL, 0, NULL}, LIC(p)};
	tar_fails(fifo, 3, "a FIFO, not a regular file");
	entry trav[] = {MAN(p), MODEL(p), {"../LICENSE", AE_IFREG, p.lic, p.lic_len, NULL}};
	tar_fails(trav, 3, "member '../LICENSE' is not in the manifest");
	entry abs[] = {MAN(p), MODEL(p), {"/etc/LICENSE", AE_IFREG, p.lic, p.lic_len, NULL}};
	tar_fails(abs, 3, "member '/etc/LICENSE' is not in the manifest");
	entry esc[] = {MAN(p), MODEL(p), {"LICENSE\x1b[2J", AE_IFREG, p.lic, p.lic_len, NULL}};
	tar_fails(esc, 3, "member name with a byte that is not printable ASCII");
	char longname[160];
	memset(longname, 'a', 150);
	longname[150] = 0;
	entry lng[] = {MAN(p), MODEL(p), {longname, AE_IFREG, p.lic, p.lic_len, NULL}};
	tar_fails(lng, 3, "pax record"); /* libarchive puts a long name in a pax path record */
	free_parts(&p);
}

/* Manifests naming unsafe paths are refused even when validly signed. */
Test(pack, manifest_paths_checked)
{
	static const char *bad[] = {"../x", "/etc/passwd", "a/b",   ".hidden", "-rf", "MANIFEST",
	                            "",     "with space",  "tab\tx"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert_neq(pack_path_check(bad[i], strlen(bad[i])), 0, "%s", bad[i]);
	cr_assert_eq(pack_path_check("model-7b.Q4_K_M.gguf", 20), 0);
	static const char *lines[] = {
	    "12 b2:0000000000000000000000000000000000000000000000000000000000000000 ../x",
	    "12 b2:0000000000000000000000000000000000000000000000000000000000000000 /x",
	    "012 b2:0000000000000000000000000000000000000000000000000000000000000000 x",
	    "12 b2:00000000000000000000000000000000000000000000000000000000000000 x",
	    "12 b2:0000000000000000000000000000000000000000000000000000000000000000",
	};
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		dai_docb b;
		dai_doc d;
		dai_err e;
		pack_manifest m;
		docb_init(&b, "manifest", 1);
		docb_add(&b, "name", "x");
		docb_add(&b, "publisher", key.did);
		docb_add(&b, "arch", "llama");
		docb_add(&b, "params", "1");
		docb_add(&b, "tensor-type", "f32");
		docb_add(&b, "context-length", "0");
		docb_add(&b, "vocab-size", "0");
		docb_add(&b, "file", lines[i]);
		cr_assert_eq(docb_sign(&b, &d, key.sk, &e), 0, "%s", e.msg);
		cr_assert_eq(pack_manifest_parse(&m, d.raw, d.len, "M", &e), -1, "%s", lines[i]);
		cr_assert(strstr(e.msg, "file line 1"), "%s", e.msg);
		doc_free(&d);
	}
}

Test(pack, publisher_must_be_signer)
{
	dai_key other;
	dai_docb b;
	dai_doc d;
	dai_err e;
	pack_manifest m;
	cr_assert_eq(key_generate(&other, &e), 0);
	docb_init(&b, "manifest", 1);
	docb_add(&b, "name", "x");
	docb_add(&b, "publisher", other.did);
	docb_add(&b, "arch", "llama");
	docb_add(&b, "params", "1");
	docb_add(&b, "tensor-type", "f32");
	docb_add(&b, "context-length", "0");
	docb_add(&b, "vocab-size", "0");
	docb_add(&b, "file",
	         "1 b2:0000000000000000000000000000000000000000000000000000000000000000 x");
	cr_assert_eq(docb_sign(&b, &d, key.sk, &e), 0, "%s", e.msg);
	cr_assert_eq(pack_manifest_parse(&m, d.raw, d.len, "M", &e), -1);
	cr_assert(strstr(e.msg, "is not the signer"), "%s", e.msg);
	doc_free(&d);
	key_free(&other);
}

Test(pack, facts_checked_on_open)
{
	parts p;
	make_parts(&p);
	/* A manifest that claims another parameter count, validly signed. */
	gguf_info info = {0};
	strcpy(info.arch, "llama");
	info.n_params = 12345;
	info.weight_type = GGML_TYPE_F32;
	info.context_length = 64;
	info.vocab_size = 4;
	pack_file f[2];
	pack_manifest lie;
	dai_err e;
	memcpy(&f[0], &p.m.files[0], sizeof f[0]);
	memcpy(&f[1], &p.m.files[1], sizeof f[1]);
	cr_assert_eq(pack_manifest_build(&lie, &key, "tiny", &info, f, 2, &e), 0, "%s", e.msg);
	entry ents[] = {{"MANIFEST", AE_IFREG, lie.doc.raw, lie.doc.len, NULL}, MODEL(p), LIC(p)};
	size_t len;
	unsigned char *t = build_tar(ents, 3, &len);
	put(tpath("lie.dai.tar"), t, len);
	pack_model pm;
	cr_assert_eq(pack_open_model(&pm, tpath("lie.dai.tar"), &e), -1);
	cr_assert(strstr(e.msg, "manifest says params 12345, the model has 320"), "%s", e.msg);
	pack_manifest m;
	cr_assert_eq(pack_verify(tpath("lie.dai.tar"), 0, &m, &e), -1);
	cr_assert(strstr(e.msg, "manifest says params 12345"), "%s", e.msg);
	cr_assert_eq(pack_verify(tpath("lie.dai.tar"), PACK_MANIFEST_ONLY, &m, &e), 0, "%s", e.msg);
	pack_manifest_free(&m);
	free(t);
	pack_manifest_free(&lie);
	free_parts(&p);
}

Test(pack, pax_size_header)
{
	/* A pack whose model member has a pax size record (as libarchive
	 * writes for 8 GiB and more): verified, opened in place. */
	pack_manifest m;
	pack_model pm;
	dai_err e;
	cr_assert_eq(pack_verify("tests/data/pax.dai.tar", 0, &m, &e), 0, "%s", e.msg);
	pack_manifest_free(&m);
	cr_assert_eq(pack_open_model(&pm, "tests/data/pax.dai.tar", &e), 0, "%s", e.msg);
	cr_assert_eq(pm.gguf.n_tensors, 2);
	pack_close_model(&pm);
}

Test(pack, big_alignment_refused)
{
	dai_err e;
	char id[DAI_ID_LEN + 1];
	tiny_gguf(tpath("a1k.gguf"), 1024);
	cr_assert_eq(
	    pack_create(tpath("a1k.dai.tar"), &key, NULL, 0, tpath("a1k.gguf"), NULL, 0, id, &e),
	    -1);
	cr_assert(strstr(e.msg, "alignment 1024 is larger than 512"), "%s", e.msg);
	cr_assert_eq(access(tpath("a1k.dai.tar"), F_OK), -1);
	tiny_gguf(tpath("a512.gguf"), 512);
	cr_assert_eq(
	    pack_create(tpath("a512.dai.tar"), &key, NULL, 0, tpath("a512.gguf"), NULL, 0, id, &e),
	    0, "%s", e.msg);
	pack_model pm;
	cr_assert_eq(pack_open_model(&pm, tpath("a512.dai.tar"), &e), 0, "%s", e.msg);
	cr_assert_eq((uintptr_t)pm.gguf.tensors[0].data % 512, 0);
	pack_close_model(&pm);
}

Test(pack, create_refuses_bad_input)
{
	dai_err e;
	char id[DAI_ID_LEN + 1];
	put(tpath("notgguf.gguf"), "hello", 5);
	cr_assert_eq(
	    pack_create(tpath("x.dai.tar"), &key, NULL, 0, tpath("notgguf.gguf"), NULL, 0, id, &e),
	    -1);
	tiny_gguf(tpath("tiny.gguf"), 32);
	put(tpath(".hidden"), "x", 1);
	const char *f1[] = {tpath(".hidden")};
	cr_assert_eq(
	    pack_create(tpath("x.dai.tar"), &key, NULL, 0, tpath("tiny.gguf"), f1, 1, id, &e), -1);
	cr_assert(strstr(e.msg, "cannot be a member name"), "%s", e.msg);
	const char *f2[] = {tpath("tiny.gguf")};
	cr_assert_eq(
	    pack_create(tpath("x.dai.tar"), &key, NULL, 0, tpath("tiny.gguf"), f2, 1, id, &e), -1);
	cr_assert(strstr(e.msg, "two files named"), "%s", e.msg);
	const char *f3[] = {tpath("absent")};
	cr_assert_eq(
	    pack_create(tpath("x.dai.tar"), &key, NULL, 0, tpath("tiny.gguf"), f3, 1, id, &e), -1);
	cr_assert_eq(access(tpath("x.dai.tar"), F_OK), -1);
}

Test(pack, gzip_round_trip_and_cache)
{
	char id[DAI_ID_LEN + 1], idz[DAI_ID_LEN + 1];
	dai_err e;
	pack_manifest m;
	pack_model pm;
	tiny_pack(0, id);
	tiny_pack(1, idz);
	cr_assert_str_eq(id, idz); /* compression does not change the pack id */
	cr_assert_eq(pack_verify(tpath("tiny.dai.tgz"), 0, &m, &e), 0, "%s", e.msg);
	cr_assert_str_eq(m.id, id);
	pack_manifest_free(&m);
	cr_assert_eq(pack_open_model(&pm, tpath("tiny.dai.tgz"), &e), 0, "%s", e.msg);
	char want[256];
	snprintf(want, sizeof want, "%s/cache/dai/%s.dai.tar", dir, id + 3);
	cr_assert_str_eq(pm.source, want);
	cr_assert_str_eq(pm.manifest.id, id);
	const unsigned char *d = pm.gguf.tensors[0].data;
	cr_assert(d >= (unsigned char *)pm.map && d < (unsigned char *)pm.map + pm.map_len);
	pack_close_model(&pm);
	/* The cached copy is the uncompressed pack. */
	size_t n1, n2;
	unsigned char *a = slurp(want, &n1), *b = slurp(tpath("tiny.dai.tar"), &n2);
	cr_assert(n1 == n2 && memcmp(a, b, n1) == 0);
	free(a);
	free(b);
	/* A second open uses the cache as it is. */
	struct stat st1, st2;
	cr_assert_eq(stat(want, &st1), 0);
	cr_assert_eq(pack_open_model(&pm, tpath("tiny.dai.tgz"), &e), 0, "%s", e.msg);
	pack_close_model(&pm);
	cr_assert_eq(stat(want, &st2), 0);
	cr_assert_eq(st1.st_ino, st2.st_ino);
	/* A damaged cache entry is replaced by a fresh copy. */
	int fd = open(want, O_WRONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(pwrite(fd, "X", 1, 2000), 1);
	close(fd);
	cr_assert_eq(pack_open_model(&pm, tpath("tiny.dai.tgz"), &e), 0, "%s", e.msg);
	pack_close_model(&pm);
	cr_assert_eq(pack_verify(want, 0, &m, &e), 0, "%s", e.msg);
	pack_manifest_free(&m);
}

/* The uncompressed bytes of a gzip pack, or NULL when it does not inflate. */
static unsigned char *gunzip(const char *path, size_t *len)
{
	dai_err e;
	pack_src s;
	size_t cap = 1 << 20;
	unsigned char *buf = malloc(cap);
	int fd = open(path, O_RDONLY);
	cr_assert(fd >= 0 && buf);
	ssize_t n = -1;
	if (pack_src_gzip(&s, fd, path, &e) == 0) {
		n = pack_src_read(&s, buf, cap, &e);
		pack_src_close(&s);
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

/* A changed byte in a gzip pack either fails, or leaves the pack inside
 * exactly as it was (deflate has spare bits, so not every compressed byte
 * carries data): the pack is never changed unseen. */
Test(pack, gzip_damage_caught)
{
	char id[DAI_ID_LEN + 1];
	size_t n, tn, un;
	dai_err e;
	pack_manifest m;
	tiny_pack(0, id);
	tiny_pack(1, id);
	unsigned char *plain = slurp(tpath("tiny.dai.tar"), &tn);
	unsigned char *p = slurp(tpath("tiny.dai.tgz"), &n);
	int caught = 0, same = 0;
	for (size_t i = 0; i < n; i += (i < 32 || i + 32 > n) ? 1 : 7) {
		p[i] ^= 0x10;
		put(tpath("bad.dai.tgz"), p, n);
		p[i] ^= 0x10;
		if (pack_verify(tpath("bad.dai.tgz"), 0, &m, &e) != 0) {
			caught++;
			continue;
		}
		pack_manifest_free(&m);
		unsigned char *u = gunzip(tpath("bad.dai.tgz"), &un);
		cr_assert(u);
		cr_assert(un == tn && memcmp(u, plain, tn) == 0,
		          "flip at %zu of %zu changed the pack unseen", i, n);
		free(u);
		same += i != 8 && i != 9;
	}
	cr_assert_gt(caught, 100);
	cr_assert_lt(same, 8, "%d changed bytes not seen", same);
	put(tpath("bad.dai.tgz"), p, n / 2);
	cr_assert_eq(pack_verify(tpath("bad.dai.tgz"), 0, &m, &e), -1);
	cr_assert(strstr(e.msg, "truncated"), "%s", e.msg);
	/* Anything after the gzip stream. */
	unsigned char *q = malloc(n + 1);
	memcpy(q, p, n);
	q[n] = 0;
	put(tpath("bad.dai.tgz"), q, n + 1);
	cr_assert_eq(pack_verify(tpath("bad.dai.tgz"), 0, &m, &e), -1);
	cr_assert(strstr(e.msg, "data after the gzip stream"), "%s", e.msg);
	free(q);
	free(p);
	free(plain);
}

Test(pack, plain_gguf_accepted)
{
	pack_model pm;
	pack_manifest m;
	dai_err e;
	cr_assert_eq(pack_open_model(&pm, "tests/data/a_f16.gguf", &e), 0, "%s", e.msg);
	cr_assert_eq(pm.has_manifest, 0);
	cr_assert_eq(pm.map, NULL);
	cr_assert_gt(pm.gguf.n_tensors, 0);
	pack_close_model(&pm);
	cr_assert_eq(pack_verify("tests/data/a_f16.gguf", 0, &m, &e), -1);
	cr_assert(strstr(e.msg, "a plain GGUF file, not a pack"), "%s", e.msg);
}

static int count_entries(const char *path)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 0", path);
	return system(cmd) == 0 ? 0 : 1;
}

Test(pack, extract)
{
	char id[DAI_ID_LEN + 1];
	dai_err e;
	pack_manifest m;
	size_t n1, n2;
	tiny_pack(0, id);
	cr_assert_eq(mkdir(tpath("out"), 0755), 0);
	cr_assert_eq(pack_extract(tpath("tiny.dai.tar"), tpath("out"), &m, &e), 0, "%s", e.msg);
	cr_assert_str_eq(m.id, id);
	pack_manifest_free(&m);
	unsigned char *a = slurp(tpath("out/tiny.gguf"), &n1), *b = slurp(tpath("tiny.gguf"), &n2);
	cr_assert(n1 == n2 && memcmp(a, b, n1) == 0);
	free(a);
	free(b);
	a = slurp(tpath("out/MANIFEST"), &n1);
	char mid[DAI_ID_LEN + 1];
	doc_id_bytes((char *)a, n1, mid);
	cr_assert_str_eq(mid, id);
	free(a);
	/* Existing files are never overwritten. */
	cr_assert_eq(pack_extract(tpath("tiny.dai.tar"), tpath("out"), &m, &e), -1);
	cr_assert(strstr(e.msg, "already exists"), "%s", e.msg);
	/* A symbolic link planted under a member's name is not followed. */
	cr_assert_eq(mkdir(tpath("out2"), 0755), 0);
	cr_assert_eq(symlink(tpath("victim"), tpath("out2/LICENSE")), 0);
	cr_assert_eq(pack_extract(tpath("tiny.dai.tar"), tpath("out2"), &m, &e), -1);
	cr_assert_eq(access(tpath("victim"), F_OK), -1);
	cr_assert_eq(access(tpath("out2/tiny.gguf"), F_OK), -1); /* nothing half done */
	/* gzip packs extract too. */
	tiny_pack(1, id);
	cr_assert_eq(mkdir(tpath("out3"), 0755), 0);
	cr_assert_eq(pack_extract(tpath("tiny.dai.tgz"), tpath("out3"), &m, &e), 0, "%s", e.msg);
	pack_manifest_free(&m);
	cr_assert_eq(access(tpath("out3/LICENSE"), F_OK), 0);
}

Test(pack, extract_hostile_writes_nothing)
{
	parts p;
	make_parts(&p);
	entry trav[] = {MAN(p), MODEL(p), {"../LICENSE", AE_IFREG, p.lic, p.lic_len, NULL}};
	entry sym[] = {MAN(p), MODEL(p), {"LICENSE", AE_IFLNK, NULL, 0, "/etc/passwd"}};
	entry abs[] = {MAN(p), {"/tmp/tiny.gguf", AE_IFREG, p.model, p.model_len, NULL}, LIC(p)};
	const entry *cases[] = {trav, sym, abs};
	for (int c = 0; c < 3; c++) {
		size_t len;
		dai_err e;
		pack_manifest m;
		unsigned char *t = build_tar(cases[c], 3, &len);
		put(tpath("evil.tar"), t, len);
		free(t);
		char cmd[200];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tpath("x"));
		cr_assert_eq(system(cmd), 0);
		cr_assert_eq(mkdir(tpath("x"), 0755), 0);
		cr_assert_eq(mkdir(tpath("x/in"), 0755), 0);
		cr_assert_eq(pack_extract(tpath("evil.tar"), tpath("x/in"), &m, &e), -1);
		cr_assert_eq(count_entries(tpath("x/in")), 0, "case %d wrote files", c);
		cr_assert_eq(access(tpath("x/LICENSE"), F_OK), -1);
	}
	free_parts(&p);
}
