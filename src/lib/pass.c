/* pass.c - see pass.h. */
#include "pass.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "fsio.h"

void pass_free(char *p)
{
	if (p)
		sodium_free(p); /* wipes before freeing */
}

/* Reads one line from the terminal fd into buf with echo off. */
static int tty_read(int fd, const char *prompt, char *buf, dai_err *e)
{
	struct termios old, quiet;
	if (tcgetattr(fd, &old) != 0)
		return dai_errf(e, "cannot read a passphrase: /dev/tty: %s", strerror(errno));
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	/* Keep ^C from leaving the terminal without echo: block it while
	 * echo is off, then let a pending one through after restoring. */
	sigset_t block, prev;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGTSTP);
	sigprocmask(SIG_BLOCK, &block, &prev);
	write_all(fd, prompt, strlen(prompt));
	tcsetattr(fd, TCSAFLUSH, &quiet);
	size_t n = 0;
	int rc = 0;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n + 1 >= DAI_PASS_MAX) {
			rc = dai_errf(e, "passphrase longer than %d bytes", DAI_PASS_MAX - 1);
			break;
		}
		buf[n++] = c;
	}
	buf[n] = 0;
	tcsetattr(fd, TCSAFLUSH, &old);
	write_all(fd, "\n", 1);
	sigprocmask(SIG_SETMASK, &prev, NULL);
	return rc;
}

char *pass_get(const char *envname, const char *prompt, int confirm, dai_err *e)
{
	char *p = sodium_malloc(DAI_PASS_MAX);
	if (!p) {
		dai_errf(e, "out of memory for the passphrase");
		return NULL;
	}
	const char *env = getenv(envname);
	if (env && *env) {
		if (strlen(env) >= DAI_PASS_MAX) {
			dai_errf(e, "%s longer than %d bytes", envname, DAI_PASS_MAX - 1);
			pass_free(p);
			return NULL;
		}
		strcpy(p, env);
		return p;
	}
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		dai_errf(e, "no passphrase: set %s or run from a terminal", envname);
		pass_free(p);
		return NULL;
	}
	if (tty_read(fd, prompt, p, e) != 0)
		goto fail;
	if (*p == 0) {
		dai_errf(e, "empty passphrase");
		goto fail;
	}
	if (confirm) {
		char *again = sodium_malloc(DAI_PASS_MAX);
		if (!again) {
			dai_errf(e, "out of memory for the passphrase");
			goto fail;
		}
		int bad = tty_read(fd, "Passphrase (again): ", again, e) != 0;
		if (!bad && strcmp(p, again) != 0) {
			dai_errf(e, "the passphrases do not match");
			bad = 1;
		}
		pass_free(again);
		if (bad)
			goto fail;
	}
	close(fd);
	return p;
fail:
	close(fd);
	pass_free(p);
	return NULL;
}
