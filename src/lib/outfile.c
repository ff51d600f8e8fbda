/* outfile.c - see outfile.h. */
#include "outfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsio.h"

int outfile_open(dai_outfile *o, const char *path, mode_t mode, int flags, dai_err *e)
{
	o->fd = -1;
	o->tmp[0] = 0;
	if (snprintf(o->path, sizeof o->path, "%s", path) >= (int)sizeof o->path ||
	    snprintf(o->tmp, sizeof o->tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof o->tmp) {
		o->tmp[0] = 0;
		return dai_errf(e, "%s: path too long", path);
	}
	if ((flags & FSIO_NOCLOBBER) && access(path, F_OK) == 0) {
		o->tmp[0] = 0;
		return dai_errf(e, "%s: already exists, not overwriting", path);
	}
	o->fd = mkstemp(o->tmp);
	if (o->fd < 0) {
		int err = errno;
		o->tmp[0] = 0;
		return dai_errf(e, "%s: cannot create: %s", path, strerror(err));
	}
	if (fchmod(o->fd, mode) != 0) {
		int err = errno;
		outfile_abort(o);
		return dai_errf(e, "%s: chmod: %s", path, strerror(err));
	}
	return 0;
}

int outfile_commit(dai_outfile *o, int flags, dai_err *e)
{
	int err = 0;
	const char *what = NULL;
	if (fsync(o->fd) != 0)
		err = errno, what = "fsync";
	if (close(o->fd) != 0 && !what)
		err = errno, what = "close";
	o->fd = -1;
	if (!what && (flags & FSIO_NOCLOBBER)) {
		/* link(2) fails when the path exists, so a file that appeared
		 * since outfile_open is still not overwritten. */
		if (link(o->tmp, o->path) != 0)
			err = errno, what = "link";
	} else if (!what && rename(o->tmp, o->path) != 0) {
		err = errno, what = "rename";
	}
	if (what) {
		outfile_abort(o);
		if (err == EEXIST)
			return dai_errf(e, "%s: already exists, not overwriting", o->path);
		return dai_errf(e, "%s: %s: %s", o->path, what, strerror(err));
	}
	if (flags & FSIO_NOCLOBBER)
		unlink(o->tmp);
	o->tmp[0] = 0;
	return fsync_parent(o->path, e);
}

void outfile_abort(dai_outfile *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = 0;
}
