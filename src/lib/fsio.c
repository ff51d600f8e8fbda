/* fsio.c - see fsio.h. */
#include "fsio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fsync_parent(const char *path, dai_err *e)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else if ((size_t)(slash - path) < sizeof dir)
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	else
		return dai_errf(e, "%s: path too long", path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return dai_errf(e, "%s: %s", dir, strerror(errno));
	int rc = fsync(fd);
	close(fd);
	if (rc != 0)
		return dai_errf(e, "%s: fsync: %s", dir, strerror(errno));
	return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, int flags,
		      dai_err *e)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
		return dai_errf(e, "%s: path too long", path);
	if ((flags & FSIO_NOCLOBBER) && access(path, F_OK) == 0)
		return dai_errf(e, "%s: already exists, not overwriting", path);
	int fd = mkstemp(tmp);
	if (fd < 0)
		return dai_errf(e, "%s: cannot create: %s", path, strerror(errno));
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		dai_errf(e, "%s: write: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) != 0) {
		dai_errf(e, "%s: close: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (flags & FSIO_NOCLOBBER) {
		/* link(2) fails when path exists, so a file that appeared since
		 * the check above is still not overwritten. */
		if (link(tmp, path) != 0) {
			int err = errno;
			unlink(tmp);
			return dai_errf(e, "%s: %s", path,
					err == EEXIST ? "already exists, not overwriting"
						      : strerror(err));
		}
		unlink(tmp);
	} else if (rename(tmp, path) != 0) {
		dai_errf(e, "%s: rename: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return fsync_parent(path, e);
}

int file_read_all(const char *path, size_t max, char **data, size_t *len, dai_err *e)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return dai_errf(e, "%s: %s", path, strerror(errno));
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return dai_errf(e, "%s: out of memory", path);
	}
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				free(buf);
				close(fd);
				return dai_errf(e, "%s: larger than %zu bytes", path, max);
			}
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				close(fd);
				return dai_errf(e, "%s: out of memory", path);
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			dai_errf(e, "%s: read: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > max) {
		free(buf);
		return dai_errf(e, "%s: larger than %zu bytes", path, max);
	}
	buf[n] = 0;
	*data = buf;
	*len = n;
	return 0;
}
