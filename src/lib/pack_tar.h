/*
 * pack_tar.h - the strict tar reader under model packs, and the byte
 * sources it reads from.
 *
 * A pack is read as a stream, never seeked, so the same code verifies a
 * file, a gzip stream and a buffer. It accepts one canonical subset of
 * POSIX tar, the one libarchive's pax writer produces for a pack:
 *
 *   for each member:  [pax 'x' header]  ustar header  data  zero padding
 *   then:             two zero blocks, and the end of the stream
 *
 * Every header must carry the ustar magic and version "00" and a checksum
 * that matches exactly; a member is a regular file (typeflag '0') whose name
 * fits the 100-byte name field with a NUL and an empty prefix field. A pax
 * header may only give the member's size (libarchive writes one for a
 * member of 8 GiB or more). Links, directories, devices, FIFOs, global pax
 * headers and GNU extensions are refused, and so are a non-zero byte in
 * padding and anything after the two zero blocks (libarchive writes a pack
 * with bytes_in_last_block 1, so it ends there). Because every header byte is under the checksum
 * and every other byte is member data or must be zero, a changed byte
 * anywhere is either refused here or changes a member's bytes, which the
 * manifest's hashes catch.
 *
 * Member data offsets are stream offsets, so in an uncompressed pack they
 * are file offsets: a member can be mapped in place.
 */
#ifndef DAI_PACK_TAR_H
#define DAI_PACK_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define TAR_BLOCK 512
#define TAR_NAME_MAX 99 /* bytes of a member name: the name field holds a NUL too */

/* Where the bytes come from. */
enum pack_src_kind { SRC_FD, SRC_MEM, SRC_GZIP };

typedef struct pack_src {
	enum pack_src_kind kind;
	const char *name;         /* for messages */
	int fd;                   /* SRC_FD, SRC_GZIP: the file */
	const unsigned char *mem; /* SRC_MEM */
	size_t mem_len;
	struct gz_state *gz; /* SRC_GZIP: the inflate state */
	int tee_fd;          /* >= 0: every byte read is also written here */
	uint64_t pos;        /* bytes consumed */
} pack_src;

/* Sources over an open descriptor (read from its current offset), a
 * buffer, or a gzip file on a descriptor. A gzip pack is one gzip member
 * with no optional header fields and time 0, as dai-pack -z writes it; its
 * CRC-32 and length are checked, and nothing may follow it. (Its XFL and
 * OS header bytes, which hold no data, are not checked.) pack_src_close
 * frees what the source holds; it does not close fd. */
void pack_src_fd(pack_src *s, int fd, const char *name);
void pack_src_mem(pack_src *s, const void *data, size_t len, const char *name);
int pack_src_gzip(pack_src *s, int fd, const char *name, dai_err *e);
void pack_src_close(pack_src *s);

/* Reads up to n bytes; fewer only at the end of the stream. -1 on error. */
ssize_t pack_src_read(pack_src *s, void *buf, size_t n, dai_err *e);

typedef struct tar_member {
	char name[TAR_NAME_MAX + 1];
	uint64_t size;
	uint64_t offset; /* stream offset of the first data byte */
} tar_member;

typedef struct tar_reader {
	pack_src *src;
	uint64_t left; /* data bytes of the current member not yet read */
	uint32_t pad;  /* zero bytes after them */
	int done;      /* the end of the archive was read and checked */
} tar_reader;

void tar_init(tar_reader *t, pack_src *src);

/* Reads the next member's header (skipping what is left of the current
 * member's data). 1: a member; 0: the end of the archive, with the trailer
 * and everything after it checked; -1: an error naming the offset. */
int tar_next(tar_reader *t, tar_member *m, dai_err *e);

/* Reads up to n bytes of the current member's data; 0 when all is read. */
ssize_t tar_read(tar_reader *t, void *buf, size_t n, dai_err *e);

#endif
