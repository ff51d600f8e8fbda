/* anvil.c - start and stop a local anvil node for tests (see anvil.h). */
#include "anvil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *anvil_path(void)
{
	static char path[4096];
	const char *env = getenv("DAI_ANVIL");
	if (env && *env)
		return access(env, X_OK) == 0 ? env : NULL;
	/* the unit tests run from the repository root */
	snprintf(path, sizeof path, "build/npm/node_modules/.bin/anvil");
	if (access(path, X_OK) == 0)
		return path;
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* anvil logs every request on stdout: it goes to an unlinked temporary file
 * (a pipe nobody reads would fill up and stop the node), which is read for
 * the "Listening on" line. */
int anvil_start(anvil *a)
{
	const char *prog = anvil_path();
	memset(a, 0, sizeof *a);
	if (!prog)
		return -1;
	char tmpl[] = "/tmp/dai-anvil-XXXXXX";
	int fd = mkstemp(tmpl);
	if (fd < 0)
		return -1;
	unlink(tmpl);
	pid_t pid = fork();
	if (pid < 0) {
		close(fd);
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the test */
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		execl(prog, prog, "--host", "127.0.0.1", "--port", "0", (char *)NULL);
		_exit(127);
	}
	int port = 0;
	for (int tries = 0; tries < 500 && port <= 0; tries++) {
		char buf[8192];
		ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
		if (n > 0) {
			buf[n] = 0;
			const char *l = strstr(buf, "Listening on 127.0.0.1:");
			if (l)
				port = atoi(l + strlen("Listening on 127.0.0.1:"));
		}
		if (port <= 0) {
			if (waitpid(pid, NULL, WNOHANG) == pid)
				break;
			sleep_ms(10);
		}
	}
	close(fd);
	if (port <= 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	a->pid = pid;
	snprintf(a->url, sizeof a->url, "http://127.0.0.1:%d", port);
	return 0;
}

void anvil_stop(anvil *a)
{
	if (a->pid > 0) {
		kill(a->pid, SIGTERM);
		waitpid(a->pid, NULL, 0);
	}
	a->pid = 0;
}

const char *anvil_key(int i)
{
	static const char *keys[] = {
	    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
	    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
	    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
	};
	return keys[i];
}
