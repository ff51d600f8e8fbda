/*
 * fsio.h - files that are never left half-written.
 *
 * A file is written to a temporary name in the same directory, fsync'd,
 * then renamed (or linked, to refuse overwriting) into place, and the
 * directory is fsync'd, so a crash leaves the old file or the new one.
 */
#ifndef DAI_FSIO_H
#define DAI_FSIO_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

enum { FSIO_NOCLOBBER = 1 };

/* Writes data to path atomically with the given mode. With FSIO_NOCLOBBER
 * an existing path is an error and is left untouched. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, int flags,
		      dai_err *e);

/* Reads a whole file (at most max bytes) into a malloc'd buffer with a NUL
 * after the data. */
int file_read_all(const char *path, size_t max, char **data, size_t *len, dai_err *e);

/* Writes all of buf to fd, retrying short writes. */
int write_all(int fd, const void *buf, size_t len);

/* fsyncs the directory holding path. */
int fsync_parent(const char *path, dai_err *e);

#endif
