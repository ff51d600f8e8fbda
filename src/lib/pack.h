/*
 * pack.h - model packs: a tar of a GGUF model (and any other files) whose
 * first member is a signed MANIFEST.
 *
 * The manifest is a dai-manifest document (doc_schema.c):
 *
 *   dai-manifest 1
 *   name tiny-llama                      free text
 *   publisher did:key:z6Mk...            the signer
 *   arch llama                           the GGUF's general.architecture
 *   params 1100048384                    elements of all tensors
 *   tensor-type q8_0                     the type holding most weight bytes
 *   context-length 2048                  0 when the GGUF does not say
 *   vocab-size 32000                     0 when the GGUF does not say
 *   file 1170781856 b2:<64 hex> tiny-llama.gguf
 *   file 1067 b2:<64 hex> LICENSE
 *   sig z6Mk... <base64 signature>
 *
 * Each "file" line gives a member's size, its BLAKE2b-256 and its path; the
 * first is the GGUF model. The tar holds MANIFEST, then exactly these
 * members in this order, nothing else (pack_tar.h gives the tar rules). A
 * member path is 1 to 99 bytes of [A-Za-z0-9._+-], not starting with '.' or
 * '-', not MANIFEST: a plain file name, so a pack can never name a place
 * outside the directory it is extracted into. The pack id is the manifest's
 * document id. Packs are reproducible: the same key and files give the same
 * bytes (tar headers carry mode 0644, owner 0, time 0), hence the same id.
 *
 * A GGUF member's data section stays aligned in an uncompressed pack:
 * member data starts on a 512-byte boundary and a GGUF's data offset is a
 * multiple of its alignment, so any alignment up to 512 holds (a larger one
 * is refused when packing). The model is then mapped in place.
 */
#ifndef DAI_PACK_H
#define DAI_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "doc.h"
#include "err.h"
#include "gguf.h"
#include "key.h"
#include "pack_tar.h"

#define PACK_MANIFEST_NAME "MANIFEST"
#define PACK_MANIFEST_MAX (1u << 20) /* bytes of a MANIFEST member */
#define PACK_FILES_MAX 200           /* file lines in a manifest */

typedef struct pack_file {
	char path[TAR_NAME_MAX + 1];
	uint64_t size;
	unsigned char hash[32]; /* BLAKE2b-256 */
} pack_file;

typedef struct pack_manifest {
	dai_doc doc;
	char id[DAI_ID_LEN + 1]; /* the pack id */
	char publisher[DAI_DID_MAX];
	const char *name, *arch, *tensor_type; /* point into doc */
	uint64_t params, context_length, vocab_size;
	size_t n_files;
	pack_file *files; /* owned; files[0] is the model */
} pack_manifest;

/* 0 when p[0..n) is an allowed member path. */
int pack_path_check(const char *p, size_t n);

/* Parses a MANIFEST and checks it: schema, file lines, signature, and that
 * the publisher is the signer. name places errors. */
int pack_manifest_parse(pack_manifest *m, const char *buf, size_t len, const char *name,
                        dai_err *e);
void pack_manifest_free(pack_manifest *m);

/* Builds and signs a manifest for a model with the given facts and files
 * (files[0] the model). */
int pack_manifest_build(pack_manifest *m, const dai_key *k, const char *name, const gguf_info *info,
                        const pack_file *files, size_t n_files, dai_err *e);

/* Checks that the model facts in the manifest are those of the GGUF. */
int pack_manifest_match(const pack_manifest *m, const gguf_file *g, dai_err *e);

/* Writes a pack to out atomically (gzip-compressed when gzip is set). The
 * model is a GGUF; files are more members. name NULL takes the model's file
 * name without ".gguf". The pack id goes to id when it is not NULL. */
int pack_create(const char *out, const dai_key *k, const char *name, int gzip, const char *model,
                const char *const *files, size_t n_files, char id[DAI_ID_LEN + 1], dai_err *e);

/* What a scan reports for each member after MANIFEST (i indexes
 * m->files). begin gets the member's data offset in the stream; end is
 * called once the member's size and hash are checked. Any callback may be
 * NULL; one that fails stops the scan. */
typedef struct pack_visit {
	int (*begin)(void *ctx, const pack_manifest *m, size_t i, uint64_t offset, dai_err *e);
	int (*data)(void *ctx, const void *buf, size_t n, dai_err *e);
	int (*end)(void *ctx, dai_err *e);
	void *ctx;
} pack_visit;

enum { PACK_MANIFEST_ONLY = 1 }; /* stop after the manifest */

/* Reads a pack from src and checks it all: the tar structure, the
 * manifest and its signature, then every member in order, size and
 * BLAKE2b-256. v may be NULL. On success m holds the manifest. */
int pack_scan(pack_src *src, int flags, const pack_visit *v, pack_manifest *m, dai_err *e);

/* What a file is, from its first bytes. */
enum pack_format { PACK_FMT_TAR, PACK_FMT_GZIP, PACK_FMT_GGUF };
int pack_detect(int fd, enum pack_format *fmt, const char *name, dai_err *e);

/* Opens path (a pack, gzip or not) and scans it. For an uncompressed pack
 * a full check also parses the model in place and matches its facts
 * against the manifest (pack_open_model); a gzip pack is checked as a
 * stream only (hashes, not the GGUF). A plain GGUF file is an error that
 * says so. */
int pack_verify(const char *path, int flags, pack_manifest *m, dai_err *e);

/*
 * A model ready to use. For an uncompressed pack the whole file is
 * verified, mapped read-only, and gguf points into the mapping: no copy.
 * A gzip pack is unpacked once into the cache, $XDG_CACHE_HOME/dai/ (or
 * ~/.cache/dai/), as <id hex>.dai.tar, an uncompressed pack verified
 * against the manifest, then opened the same way. A plain GGUF file is
 * mapped as it is, and has_manifest is 0.
 */
typedef struct pack_model {
	gguf_file gguf;
	int has_manifest;
	pack_manifest manifest; /* when has_manifest */
	char *source;           /* the file mapped: the pack, its cached copy or the GGUF */
	void *map;              /* the mapping of a pack (NULL for a plain GGUF) */
	size_t map_len;
} pack_model;

int pack_open_model(pack_model *pm, const char *path, dai_err *e);
void pack_close_model(pack_model *pm);

/* The cache directory (created, mode 0700), into buf. */
int pack_cache_dir(char *buf, size_t cap, dai_err *e);

/* Verifies the pack and writes its members, MANIFEST included, into dir.
 * Files appear only once the whole pack has verified; an existing file is
 * never overwritten. */
int pack_extract(const char *path, const char *dir, pack_manifest *m, dai_err *e);

#endif
