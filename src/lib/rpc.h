/*
 * rpc.h - a JSON-RPC 2.0 client over HTTP (libcurl) for an Ethereum node.
 *
 * One call, one POST; the reply is parsed strictly (json.h) and checked to
 * be a reply to this request (jsonrpc "2.0", the same id). A reply holds
 * either a result or an error object, whose code, message and data (revert
 * bytes, when the node sends them) are kept for the caller.
 */
#ifndef DAI_RPC_H
#define DAI_RPC_H

#include <stddef.h>

#include "bytebuf.h"
#include "err.h"
#include "json.h"

#define RPC_REPLY_MAX (16u << 20) /* bytes of one reply */

typedef struct rpc {
	void *curl; /* CURL * */
	char url[512];
	unsigned long next_id;
	long timeout_ms;
} rpc;

typedef struct rpc_reply {
	bytebuf body;
	json_doc doc;
	int result;      /* node of the result, or -1 */
	int error;       /* node of the error object, or -1 */
	long error_code; /* its code */
	char error_msg[256];
} rpc_reply;

/* url is http:// or https://. */
int rpc_open(rpc *r, const char *url, dai_err *e);
void rpc_close(rpc *r);

/* Calls method with params (a JSON array text). Returns 0 with a result or
 * an error object in *out (free it with rpc_reply_free), or -1 when the
 * node could not be reached or the reply is not a JSON-RPC reply. */
int rpc_call(rpc *r, const char *method, const char *params, rpc_reply *out, dai_err *e);
void rpc_reply_free(rpc_reply *rep);

/* rpc_call that also turns an error object into -1 with the message
 * "METHOD: node error CODE: MESSAGE". */
int rpc_call_ok(rpc *r, const char *method, const char *params, rpc_reply *out, dai_err *e);

/* The result as a string (hex data, quantities, hashes). */
int rpc_result_str(const rpc_reply *rep, char *out, size_t cap, const char *what, dai_err *e);

#endif
