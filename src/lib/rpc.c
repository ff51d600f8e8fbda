/* rpc.c - JSON-RPC over libcurl (see rpc.h). */
#include "rpc.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int rpc_open(rpc *r, const char *url, dai_err *e)
{
	memset(r, 0, sizeof *r);
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return dai_errf(e, "%s: the chain URL must be http:// or https://", url);
	if (strlen(url) >= sizeof r->url)
		return dai_errf(e, "chain URL too long");
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return dai_errf(e, "libcurl: %s", curl_easy_strerror(curl_init_rc));
	r->curl = curl_easy_init();
	if (!r->curl)
		return dai_errf(e, "libcurl: cannot start a session");
	strcpy(r->url, url);
	r->next_id = 1;
	r->timeout_ms = 30000;
	return 0;
}

void rpc_close(rpc *r)
{
	if (r->curl)
		curl_easy_cleanup(r->curl);
	r->curl = NULL;
}

void rpc_reply_free(rpc_reply *rep)
{
	json_free(&rep->doc);
	bytebuf_free(&rep->body);
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
	bytebuf *b = ud;
	size_t n = size * nmemb;
	if (b->len + n > RPC_REPLY_MAX)
		return 0; /* aborts the transfer */
	bytebuf_put(b, p, n);
	return b->oom ? 0 : n;
}

/* Checks that the reply answers request id and finds result or error. */
static int read_reply(rpc_reply *rep, const char *method, unsigned long id, dai_err *e)
{
	json_doc *d = &rep->doc;
	if (json_parse(d, (const char *)rep->body.p, rep->body.len, e) < 0)
		return dai_err_prefix(e, method);
	int idn = json_member(d, 0, "id");
	char want[32];
	snprintf(want, sizeof want, "%lu", id);
	if (!json_str_eq(d, json_member(d, 0, "jsonrpc"), "2.0") || idn < 0 ||
	    d->nodes[idn].type != JSON_NUMBER || d->nodes[idn].len != strlen(want) ||
	    memcmp(d->text + d->nodes[idn].start, want, strlen(want)) != 0)
		return dai_errf(e, "%s: not a JSON-RPC 2.0 reply to this request", method);
	rep->result = json_member(d, 0, "result");
	rep->error = json_member(d, 0, "error");
	if ((rep->result >= 0) == (rep->error >= 0))
		return dai_errf(e, "%s: reply holds %s result and error", method,
		                rep->result >= 0 ? "both" : "neither");
	if (rep->error >= 0) {
		int c = json_member(d, rep->error, "code");
		int m = json_member(d, rep->error, "message");
		if (c < 0 || d->nodes[c].type != JSON_NUMBER || m < 0)
			return dai_errf(e, "%s: malformed error object", method);
		rep->error_code = strtol(d->text + d->nodes[c].start, NULL, 10);
		if (json_str(d, m, rep->error_msg, sizeof rep->error_msg, method, NULL) < 0)
			snprintf(rep->error_msg, sizeof rep->error_msg, "(unreadable message)");
	}
	return 0;
}

int rpc_call(rpc *r, const char *method, const char *params, rpc_reply *out, dai_err *e)
{
	memset(out, 0, sizeof *out);
	out->result = out->error = -1;
	unsigned long id = r->next_id++;
	bytebuf req = {0};
	char head[128];
	snprintf(head, sizeof head, "{\"jsonrpc\":\"2.0\",\"id\":%lu,\"method\":\"", id);
	bytebuf_puts(&req, head);
	bytebuf_puts(&req, method);
	bytebuf_puts(&req, "\",\"params\":");
	bytebuf_puts(&req, params);
	bytebuf_puts(&req, "}");
	if (req.oom) {
		bytebuf_free(&req);
		return dai_errf(e, "%s: out of memory", method);
	}
	CURL *c = r->curl;
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)req.p);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req.len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdr);
	bytebuf_free(&req);
	int ret = 0;
	if (rc != CURLE_OK)
		ret =
		    dai_errf(e, "%s: %s: %s", method, r->url,
		             rc == CURLE_WRITE_ERROR ? "reply too large" : curl_easy_strerror(rc));
	else if (status != 200 && out->body.len == 0)
		ret = dai_errf(e, "%s: %s: HTTP status %ld", method, r->url, status);
	else
		ret = read_reply(out, method, id, e);
	if (ret < 0)
		rpc_reply_free(out);
	return ret;
}

int rpc_call_ok(rpc *r, const char *method, const char *params, rpc_reply *out, dai_err *e)
{
	if (rpc_call(r, method, params, out, e) < 0)
		return -1;
	if (out->error >= 0) {
		dai_errf(e, "%s: node error %ld: %s", method, out->error_code, out->error_msg);
		rpc_reply_free(out);
		return -1;
	}
	return 0;
}

int rpc_result_str(const rpc_reply *rep, char *out, size_t cap, const char *what, dai_err *e)
{
	return json_str(&rep->doc, rep->result, out, cap, what, e);
}
