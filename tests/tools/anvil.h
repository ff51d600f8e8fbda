/*
 * anvil.h - a local EVM development node for tests: anvil (from the npm
 * package @foundry-rs/anvil-linux-amd64, installed by make npm-deps into
 * build/npm, or named by DAI_ANVIL) started on 127.0.0.1 on a port the
 * system picks, and stopped again. Its first accounts are the well-known
 * development keys of the "test test ... junk" mnemonic.
 */
#ifndef DAI_TESTS_ANVIL_H
#define DAI_TESTS_ANVIL_H

#include <sys/types.h>

typedef struct anvil {
	pid_t pid;
	char url[64];
} anvil;

/* The anvil program to run, or NULL when none is installed. */
const char *anvil_path(void);

/* Starts a node and waits until it listens; -1 when it cannot. */
int anvil_start(anvil *a);
void anvil_stop(anvil *a);

/* The secret key (hex) of development account i (0..2). */
const char *anvil_key(int i);

#endif
