/*
 * ledger_snap.h - a cache of a ledger's replayed state, so that opening a
 * long ledger replays only the entries appended since.
 *
 * The snapshot lives next to the ledger (FILE.snap) and is keyed by the head
 * it was taken at: it records the byte range of the head entry, and is used
 * only when those bytes of the ledger still hash to that head id. A
 * checksum over the whole snapshot guards against torn or edited caches;
 * anything wrong and the snapshot is ignored (the ledger is replayed from
 * its start). It is only a cache: `dai-settle verify` never reads it.
 */
#ifndef DAI_LEDGER_SNAP_H
#define DAI_LEDGER_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "ledger_state.h"

/* Where a replay stands in the ledger file. */
typedef struct ledger_pos {
	uint64_t end;       /* bytes of valid entries */
	uint64_t head_off;  /* where the last of them starts */
	unsigned long line; /* the line the next entry starts on */
} ledger_pos;

/* Saves st, valid through pos, as the snapshot of ledger_path (written to
 * a temporary name and renamed). */
int snap_save(const char *ledger_path, const ledger_state *st, const ledger_pos *pos, dai_err *e);

/* Loads the snapshot of ledger_path into st (which must be empty) when it is
 * intact and matches the ledger's bytes buf[0..len). -1 when there is none
 * that can be used; st is then empty again and pos the file's start. */
int snap_load(const char *ledger_path, const char *buf, size_t len, ledger_state *st,
              ledger_pos *pos);

#endif
