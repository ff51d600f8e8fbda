/* pack_write.c - creating a pack (see pack.h). */
#include "pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blake2b.h"
#include "outfile.h"

#define CHUNK (1u << 20)

/* The member path of a file: its base name. */
static int member_path(const char *file, char out[TAR_NAME_MAX + 1], dai_err *e)
{
	const char *b = strrchr(file, '/');
	b = b ? b + 1 : file;
	if (pack_path_check(b, strlen(b)) != 0)
		return dai_errf(e,
		                "%s: '%s' cannot be a member name (1 to %d bytes of "
		                "[A-Za-z0-9._+-], not starting with '.' or '-', not MANIFEST)",
		                file, b, TAR_NAME_MAX);
	strcpy(out, b);
	return 0;
}

/* Streams a regular file through BLAKE2b-256 and, when a is not NULL, into
 * the archive's current entry. */
static int copy_hash(const char *path, struct archive *a, unsigned char *buf, uint64_t *size,
                     unsigned char hash[32], dai_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return dai_errf(e, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return dai_errf(e, "%s: not a regular file", path);
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	blake2b_state hs;
	blake2b_init(&hs, NULL, 0, 32);
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			dai_errf(e, "%s: read: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		blake2b_update(&hs, buf, (size_t)n);
		if (a && archive_write_data(a, buf, (size_t)n) != n) {
			dai_errf(e, "%s: tar: %s", path, archive_error_string(a));
			close(fd);
			return -1;
		}
		total += (uint64_t)n;
	}
	close(fd);
	blake2b_final(&hs, hash, 32);
	*size = total;
	return 0;
}

static int write_entry_header(struct archive *a, const char *path, uint64_t size, dai_err *e)
{
	struct archive_entry *ent = archive_entry_new();
	if (!ent)
		return dai_errf(e, "out of memory");
	archive_entry_set_pathname(ent, path);
	archive_entry_set_size(ent, (la_int64_t)size);
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0644);
	archive_entry_set_mtime(ent, 0, 0);
	archive_entry_set_uid(ent, 0);
	archive_entry_set_gid(ent, 0);
	int r = archive_write_header(a, ent);
	archive_entry_free(ent);
	if (r != ARCHIVE_OK)
		return dai_errf(e, "%s: tar: %s", path, archive_error_string(a));
	return 0;
}

/* The model facts, checked for packing. */
static int model_facts(const char *model, gguf_info *info, dai_err *e)
{
	gguf_file g;
	if (gguf_open(&g, model, e))
		return -1;
	int rc = gguf_summary(&g, info, e);
	if (rc == 0 && !info->arch[0])
		rc = dai_errf(e, "%s: no general.architecture: not a model", model);
	if (rc == 0 && g.alignment > TAR_BLOCK)
		rc = dai_errf(e,
		              "%s: alignment %" PRIu32 " is larger than %d: the model could not "
		              "be mapped in place from a pack",
		              model, g.alignment, TAR_BLOCK);
	gguf_close(&g);
	return rc;
}

int pack_create(const char *out, const dai_key *k, const char *name, int gzip, const char *model,
                const char *const *files, size_t n_files, char id[DAI_ID_LEN + 1], dai_err *e)
{
	size_t n = n_files + 1;
	const char *src[PACK_FILES_MAX];
	pack_file pf[PACK_FILES_MAX];
	char defname[TAR_NAME_MAX + 1];
	gguf_info info;
	pack_manifest m;
	dai_outfile of;
	struct archive *a = NULL;
	unsigned char *buf = NULL;
	int rc = -1;
	if (n > PACK_FILES_MAX)
		return dai_errf(e, "more than %d files", PACK_FILES_MAX);
	src[0] = model;
	for (size_t i = 0; i < n_files; i++)
		src[i + 1] = files[i];
	memset(pf, 0, sizeof pf);
	for (size_t i = 0; i < n; i++) {
		if (member_path(src[i], pf[i].path, e))
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(pf[i].path, pf[j].path) == 0)
				return dai_errf(e, "%s: two files named '%s'", src[i], pf[i].path);
	}
	if (model_facts(model, &info, e))
		return -1;
	if (!name) {
		size_t l = strlen(pf[0].path);
		if (l > 5 && strcmp(pf[0].path + l - 5, ".gguf") == 0)
			l -= 5;
		snprintf(defname, sizeof defname, "%.*s", (int)l, pf[0].path);
		name = defname;
	}
	if (!(buf = malloc(CHUNK)))
		return dai_errf(e, "out of memory");
	/* First pass: sizes and hashes for the manifest. */
	for (size_t i = 0; i < n; i++)
		if (copy_hash(src[i], NULL, buf, &pf[i].size, pf[i].hash, e))
			goto out_buf;
	if (pack_manifest_build(&m, k, name, &info, pf, n, e))
		goto out_buf;
	if (outfile_open(&of, out, 0644, 0, e))
		goto out_m;
	a = archive_write_new();
	if (!a) {
		dai_errf(e, "out of memory");
		goto out_file;
	}
	/* bytes_in_last_block 1: the archive ends right after its two zero
	 * blocks instead of being padded to a 10 KiB record. */
	if (archive_write_set_format_pax(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    (gzip && archive_write_add_filter_gzip(a) != ARCHIVE_OK)) {
		dai_errf(e, "%s: tar: %s", out, archive_error_string(a));
		goto out_file;
	}
	/* No time stamp in the gzip header: the same input, the same bytes. */
	if (gzip && archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK) {
		dai_errf(e, "%s: gzip: %s", out, archive_error_string(a));
		goto out_file;
	}
	if (archive_write_open_fd(a, of.fd) != ARCHIVE_OK) {
		dai_errf(e, "%s: tar: %s", out, archive_error_string(a));
		goto out_file;
	}
	if (write_entry_header(a, PACK_MANIFEST_NAME, m.doc.len, e))
		goto out_file;
	if (archive_write_data(a, m.doc.raw, m.doc.len) != (la_ssize_t)m.doc.len) {
		dai_errf(e, "%s: tar: %s", out, archive_error_string(a));
		goto out_file;
	}
	/* Second pass: the data, hashed again so a file that changed in
	 * between is caught rather than packed under a wrong hash. */
	for (size_t i = 0; i < n; i++) {
		uint64_t size;
		unsigned char h[32];
		if (write_entry_header(a, pf[i].path, pf[i].size, e) ||
		    copy_hash(src[i], a, buf, &size, h, e))
			goto out_file;
		if (size != pf[i].size || memcmp(h, pf[i].hash, 32) != 0) {
			dai_errf(e, "%s: changed while it was being packed", src[i]);
			goto out_file;
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		dai_errf(e, "%s: tar: %s", out, archive_error_string(a));
		goto out_file;
	}
	if (outfile_commit(&of, 0, e))
		goto out_file;
	if (id)
		memcpy(id, m.id, sizeof m.id);
	rc = 0;
out_file:
	if (a)
		archive_write_free(a);
	outfile_abort(&of);
out_m:
	pack_manifest_free(&m);
out_buf:
	free(buf);
	return rc;
}
