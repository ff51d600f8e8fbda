/*
 * ledger_file.h - the ledger file: an append-only sequence of dai-entry
 * documents (ledger_entry.h), each naming the one before in prev.
 *
 * Opening a ledger takes a lock on the file (exclusive for a writer, shared
 * for a reader; one writer at a time), reads it and replays every entry
 * (ledger_state.h). Replay stops at the first entry that cannot be framed,
 * parsed, verified or applied: everything from there on is the damaged tail
 * (a torn write, a corruption). A damaged ledger can still be read, but
 * appends are refused until ledger_repair truncates the file to its last
 * valid entry; nothing is ever dropped silently. An append is done only
 * once the file and its directory are fsync'd.
 */
#ifndef DAI_LEDGER_FILE_H
#define DAI_LEDGER_FILE_H

#include <stdint.h>

#include "ledger_snap.h"
#include "ledger_state.h"

enum ledger_mode {
	LEDGER_READ,   /* shared lock; no appends */
	LEDGER_WRITE,  /* exclusive lock; the file must exist */
	LEDGER_CREATE, /* exclusive lock; created (with its directory) if missing */
	LEDGER_VERIFY, /* shared lock; replays every entry, ignoring the snapshot */
};

/* Opening saves a snapshot (ledger_snap.h) once this many entries were
 * replayed past the last one. */
#define LEDGER_SNAP_EVERY 64

typedef struct ledger {
	int fd;
	char *path;
	enum ledger_mode mode;
	ledger_state st;
	uint64_t valid_end; /* bytes of the file that hold valid entries */
	ledger_pos pos;     /* the same, with the head's offset and line */
	int from_snapshot;  /* the replay started from a snapshot */
	uint64_t size;      /* bytes in the file */
	int damaged;        /* bytes past valid_end that are no valid entry */
	dai_err damage;     /* why (when damaged) */
	int broken;         /* an append failed: the state is ahead of the file */
} ledger;

/* Called by ledger_scan for each valid entry, after it is applied. */
typedef void (*ledger_visit)(void *arg, const ledger_entry *en, const ledger_state *st,
                             uint64_t offset);

/* Replays buf[0..len) (a ledger file's bytes, name for messages) into st,
 * which starts empty. Sets *valid_end to the end of the last valid entry.
 * Returns 0 when every byte is valid entries, else -1 with the reason the
 * rest is not. */
int ledger_scan(const char *buf, size_t len, const char *name, ledger_state *st,
                uint64_t *valid_end, ledger_visit visit, void *arg, dai_err *e);

/* ledger_scan from a position: st holds the state through pos, which is
 * advanced past every valid entry. */
int ledger_scan_from(const char *buf, size_t len, const char *name, ledger_state *st,
                     ledger_pos *pos, ledger_visit visit, void *arg, dai_err *e);

/* Opens, locks and replays path (from its snapshot when there is a usable
 * one, except for LEDGER_VERIFY or with a visitor). A damaged tail is not an error here (see
 * l->damaged); a file that cannot be read or locked is. */
int ledger_open(ledger *l, const char *path, enum ledger_mode mode, dai_err *e);

/* Like ledger_open, calling visit for every valid entry. */
int ledger_open_visit(ledger *l, const char *path, enum ledger_mode mode, ledger_visit visit,
                      void *arg, dai_err *e);

void ledger_close(ledger *l);

/* Appends the entry whose op and op fields are set in req: prev is the
 * head, time is now (time_now, so DAI_NOW sets it). Signed with sk,
 * checked against the rules, written and fsync'd. The new entry's id goes
 * to id (when not NULL). */
int ledger_append(ledger *l, const ledger_entry *req, const unsigned char *sk,
                  char id[DAI_ID_LEN + 1], dai_err *e);

/* Truncates a damaged ledger to its last valid entry (durably); *dropped
 * gets the number of bytes cut. An undamaged ledger is an error. */
int ledger_repair(ledger *l, uint64_t *dropped, dai_err *e);

/* The ledger used when none is named: $DAI_LEDGER, else
 * $HOME/.local/share/dai/ledger. */
int ledger_default_path(char *out, size_t cap, dai_err *e);

#endif
