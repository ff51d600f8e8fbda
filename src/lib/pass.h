/*
 * pass.h - passphrases for secret key files.
 *
 * A passphrase comes from an environment variable (DAI_PASSPHRASE, for cron
 * and scripts) when it is set and not empty, else from the controlling
 * terminal with echo off. It is
 * never taken from argv. Buffers are guarded memory from sodium_malloc and
 * are wiped by pass_free.
 */
#ifndef DAI_PASS_H
#define DAI_PASS_H

#include <stddef.h>

#include "err.h"

#define DAI_PASS_MAX 1024

/* Returns a new passphrase buffer (NUL-terminated) or NULL with a message.
 * env names the variable to try first. With confirm, a terminal user types
 * it twice and the two must match. */
char *pass_get(const char *env, const char *prompt, int confirm, dai_err *e);

void pass_free(char *p);

#endif
