/*
 * outfile.h - an output file written as a stream and never seen half-done.
 *
 * outfile_open creates a temporary file next to the destination; the caller
 * writes to its descriptor; outfile_commit fsyncs it, renames (or, with
 * FSIO_NOCLOBBER, links) it into place and fsyncs the directory;
 * outfile_abort removes it. For writes too large to build in memory first
 * (file_write_atomic in fsio.h does the same for a buffer).
 */
#ifndef DAI_OUTFILE_H
#define DAI_OUTFILE_H

#include <limits.h>
#include <sys/types.h>

#include "err.h"

typedef struct dai_outfile {
	int fd;
	char path[PATH_MAX];
	char tmp[PATH_MAX];
} dai_outfile;

/* Creates the temporary file with the given mode. flags: FSIO_NOCLOBBER
 * (fsio.h) refuses an existing path, now and at commit. */
int outfile_open(dai_outfile *o, const char *path, mode_t mode, int flags, dai_err *e);

/* Makes the written file appear at its path; on failure it is removed. */
int outfile_commit(dai_outfile *o, int flags, dai_err *e);

/* Removes the temporary file. Safe after a commit or a failed commit. */
void outfile_abort(dai_outfile *o);

#endif
