/* bing.http: the libcurl transport. A session (the userdata) holds a share
 * handle (DNS cache, TLS sessions), a template easy handle with the options,
 * and a multi handle that drives every transfer: each transfer is an easy
 * handle duplicated from the template (kept for reuse once its answer is
 * taken), so the multi's connection cache keeps connections alive across
 * calls, and HTTP/2 streams share one connection when the server offers it.
 *
 *   h:start(req) -> id        adds a transfer to the multi handle
 *   h:poll(wait) -> {id...}   runs the multi handle, waiting at most `wait`
 *                             seconds for activity; the ids that finished
 *   h:result(id) -> resp | nil, err   the answer (the transfer is freed)
 *   h:cancel(id)              drops a transfer, finished or not
 *   h:perform(req)            start + poll until it finished + result: a
 *                             sequential call is a batch of one
 *
 * Nothing in a curl callback touches Lua: the callbacks append to buffers
 * owned by the transfer and set flags; results and errors are pushed only
 * after curl_multi_perform has returned, so no longjmp crosses libcurl. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "bing.h"

#define DEFAULT_MAX_SIZE ((size_t)64 * 1024 * 1024)
#define MAX_HEADER_BYTES ((size_t)1024 * 1024)
/* Buffers larger than this are released after a call rather than kept for
 * the next one, so one big response does not pin memory for the handle's
 * life. */
#define KEEP_BYTES ((size_t)1024 * 1024)
/* Idle transfers (easy handles) kept for reuse beyond this many are freed. */
#define KEEP_IDLE 64

enum { XF_IDLE = 0, XF_RUNNING, XF_DONE };

/* One transfer: its easy handle and everything curl writes into while it
 * runs. Allocated on its own so the callbacks' pointer stays valid while
 * the session's table of transfers grows. */
typedef struct xfer {
  CURL *curl;
  struct curl_slist *req_headers;
  bing_buf body;
  bing_buf head;
  size_t max_size;
  int state;
  CURLcode rc;
  char method[8];
  char *url; /* a copy, for the error text of a failure */
  char errbuf[CURL_ERROR_SIZE];
} xfer;

typedef struct bing_http {
  CURL *tmpl; /* the options every transfer starts from; NULL once closed */
  CURLSH *share;
  CURLM *multi;
  xfer **x; /* slot i holds transfer id i + 1 (NULL: a free slot) */
  int nx, cap;
  int *done; /* ids finished and not yet reported by poll */
  int ndone;
  int running; /* transfers in the multi handle */
  size_t max_size;
  long timeout_ms;
  int http2;
} bing_http;

static size_t write_cb(char *p, size_t size, size_t n, void *ud) {
  xfer *h = ud;
  size_t len = size * n;
  /* Returning less than len makes curl stop with CURLE_WRITE_ERROR; the
   * flags in the buffer say why. */
  return bing_buf_add(&h->body, p, len) ? 0 : len;
}

static size_t header_cb(char *p, size_t size, size_t n, void *ud) {
  xfer *h = ud;
  size_t len = size * n;
  /* A status line starts a new response (after 100 Continue or a proxy's
   * CONNECT): keep only the headers of the final one. */
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
    h->head.len = 0;
  return bing_buf_add(&h->head, p, len) ? 0 : len;
}

/* libcurl has no function naming its error codes. */
static const char *curle_name(CURLcode rc) {
#define NAME(c)                                                                                    \
  case c:                                                                                          \
    return #c
  switch (rc) {
    NAME(CURLE_UNSUPPORTED_PROTOCOL);
    NAME(CURLE_FAILED_INIT);
    NAME(CURLE_URL_MALFORMAT);
    NAME(CURLE_NOT_BUILT_IN);
    NAME(CURLE_COULDNT_RESOLVE_PROXY);
    NAME(CURLE_COULDNT_RESOLVE_HOST);
    NAME(CURLE_COULDNT_CONNECT);
#if LIBCURL_VERSION_NUM >= 0x073300
    NAME(CURLE_WEIRD_SERVER_REPLY);
#endif
    NAME(CURLE_REMOTE_ACCESS_DENIED);
    NAME(CURLE_HTTP2);
    NAME(CURLE_PARTIAL_FILE);
    NAME(CURLE_HTTP_RETURNED_ERROR);
    NAME(CURLE_WRITE_ERROR);
    NAME(CURLE_UPLOAD_FAILED);
    NAME(CURLE_READ_ERROR);
    NAME(CURLE_OUT_OF_MEMORY);
    NAME(CURLE_OPERATION_TIMEDOUT);
    NAME(CURLE_RANGE_ERROR);
    NAME(CURLE_HTTP_POST_ERROR);
    NAME(CURLE_SSL_CONNECT_ERROR);
    NAME(CURLE_BAD_DOWNLOAD_RESUME);
    NAME(CURLE_FUNCTION_NOT_FOUND);
    NAME(CURLE_ABORTED_BY_CALLBACK);
    NAME(CURLE_BAD_FUNCTION_ARGUMENT);
    NAME(CURLE_INTERFACE_FAILED);
    NAME(CURLE_TOO_MANY_REDIRECTS);
    NAME(CURLE_UNKNOWN_OPTION);
    NAME(CURLE_GOT_NOTHING);
    NAME(CURLE_SSL_ENGINE_NOTFOUND);
    NAME(CURLE_SSL_ENGINE_SETFAILED);
    NAME(CURLE_SEND_ERROR);
    NAME(CURLE_RECV_ERROR);
    NAME(CURLE_SSL_CERTPROBLEM);
    NAME(CURLE_SSL_CIPHER);
    NAME(CURLE_PEER_FAILED_VERIFICATION);
    NAME(CURLE_BAD_CONTENT_ENCODING);
    NAME(CURLE_FILESIZE_EXCEEDED);
    NAME(CURLE_USE_SSL_FAILED);
    NAME(CURLE_SEND_FAIL_REWIND);
    NAME(CURLE_SSL_ENGINE_INITFAILED);
    NAME(CURLE_LOGIN_DENIED);
    NAME(CURLE_SSL_CACERT_BADFILE);
    NAME(CURLE_SSL_SHUTDOWN_FAILED);
    NAME(CURLE_AGAIN);
    NAME(CURLE_SSL_CRL_BADFILE);
    NAME(CURLE_SSL_ISSUER_ERROR);
    NAME(CURLE_SSL_PINNEDPUBKEYNOTMATCH);
    NAME(CURLE_SSL_INVALIDCERTSTATUS);
    NAME(CURLE_HTTP2_STREAM);
#if LIBCURL_VERSION_NUM >= 0x073b00
    NAME(CURLE_RECURSIVE_API_CALL);
#endif
#if LIBCURL_VERSION_NUM >= 0x074200
    NAME(CURLE_AUTH_ERROR);
#endif
#if LIBCURL_VERSION_NUM >= 0x074900
    NAME(CURLE_PROXY);
#endif
  default:
    return NULL;
  }
#undef NAME
}

/* Worth another attempt: the server or the network may do better next
 * time. TLS verification, bad URLs and the size cap will not change. */
static int curle_retryable(CURLcode rc) {
  switch (rc) {
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return 1;
  default:
    return 0;
  }
}

static bing_http *check_open(lua_State *L) {
  bing_http *h = luaL_checkudata(L, 1, BING_HTTP_MT);
  if (!h->tmpl)
    luaL_error(L, "bing.http: handle is closed");
  return h;
}

/* Frees the buffers' memory when they grew large; reuses it otherwise. */
static void release_buffers(xfer *h) {
  if (h->body.cap > KEEP_BYTES)
    bing_buf_free(&h->body);
  if (h->head.cap > KEEP_BYTES)
    bing_buf_free(&h->head);
  bing_buf_reset(&h->body);
  bing_buf_reset(&h->head);
}

static void xfer_free(bing_http *h, xfer *x) {
  if (x->state == XF_RUNNING) {
    curl_multi_remove_handle(h->multi, x->curl);
    h->running--;
  }
  curl_easy_cleanup(x->curl);
  curl_slist_free_all(x->req_headers);
  bing_buf_free(&x->body);
  bing_buf_free(&x->head);
  free(x->url);
  free(x);
}

/* __gc, __close and close(): safe to call any number of times. The easy
 * handles leave the multi handle and go before the share they use, or
 * curl_share_cleanup refuses. */
static int http_close(lua_State *L) {
  bing_http *h = luaL_checkudata(L, 1, BING_HTTP_MT);
  int i;
  for (i = 0; i < h->nx; i++)
    if (h->x[i])
      xfer_free(h, h->x[i]);
  free(h->x);
  free(h->done);
  h->x = NULL;
  h->done = NULL;
  h->nx = h->cap = h->ndone = h->running = 0;
  if (h->multi) {
    curl_multi_cleanup(h->multi);
    h->multi = NULL;
  }
  if (h->tmpl) {
    curl_easy_cleanup(h->tmpl);
    h->tmpl = NULL;
  }
  if (h->share) {
    curl_share_cleanup(h->share);
    h->share = NULL;
  }
  return 0;
}

static int http_tostring(lua_State *L) {
  bing_http *h = luaL_checkudata(L, 1, BING_HTTP_MT);
  if (h->tmpl)
    lua_pushfstring(L, "bing.http (%p)", (void *)h);
  else
    lua_pushliteral(L, "bing.http (closed)");
  return 1;
}

/* Seconds (fractions allowed) to the milliseconds curl wants; 0 would mean
 * "no timeout" to curl, so any positive value gives at least 1 ms. */
static long seconds_to_ms(lua_State *L, int idx, const char *what) {
  lua_Number s;
  if (lua_type(L, idx) != LUA_TNUMBER)
    luaL_error(L, "bing.http: %s must be a number of seconds", what);
  s = lua_tonumber(L, idx);
  if (!(s > 0))
    luaL_error(L, "bing.http: %s must be > 0", what);
  if (s >= 2000000.0) /* about 23 days; keeps the product in a 32-bit long */
    return 2000000000L;
  return s * 1000 < 1 ? 1 : (long)ceil(s * 1000);
}

static const char *const options[] = {"cafile",  "capath", "verify",   "connect_timeout",
                                      "timeout", "proxy",  "max_size", "user_agent",
                                      "http2",   NULL};

static void check_option_names(lua_State *L, int opts) {
  int i;
  lua_pushnil(L);
  while (lua_next(L, opts)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "bing.http: option names must be strings");
    for (i = 0; options[i]; i++)
      if (strcmp(options[i], lua_tostring(L, -1)) == 0)
        break;
    if (!options[i])
      luaL_error(L, "bing.http: unknown option '%s'", lua_tostring(L, -1));
  }
}

/* Pushes opts[name] and returns its type; wrong types raise. */
static int opt(lua_State *L, int opts, const char *name, int type) {
  int t;
  if (!opts) {
    lua_pushnil(L);
    return LUA_TNIL;
  }
  lua_getfield(L, opts, name);
  t = lua_type(L, -1);
  if (t != LUA_TNIL && t != type)
    luaL_error(L, "bing.http: option '%s' must be a %s", name, lua_typename(L, type));
  return t;
}

/* Raises an `argument` error object (bing.errors' shape) with a formatted message: bad input
 * is refused before anything is sent, as the same error the Lua face gives. */
static int argument_error(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  bing_error_push(L, "argument", 0, NULL, lua_tostring(L, -1), 0);
  return lua_error(L);
}

/* CR, LF or NUL would end the header line early and start another one: a header the caller
 * never meant (request splitting). */
static int valid_header_value(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
      return 0;
  return 1;
}

static void set_user_agent(lua_State *L, CURL *curl, int opts) {
  if (opt(L, opts, "user_agent", LUA_TSTRING) == LUA_TSTRING) {
    size_t n;
    const char *ua = lua_tolstring(L, -1, &n);
    if (!valid_header_value(ua, n))
      argument_error(L, "bing.http: user_agent has CR, LF or NUL in it");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, ua);
  } else {
    const char *lv;
    lua_getglobal(L, "_VERSION");
    lv = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : LUA_VERSION;
    lua_pushfstring(L, "lua-bing/%s libcurl/%s %s", BING_VERSION,
                    curl_version_info(CURLVERSION_NOW)->version, lv);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, lua_tostring(L, -1));
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
}

/* core.http(opts) -> bing.http */
int bing_l_http(lua_State *L) {
  int opts = lua_isnoneornil(L, 1) ? 0 : 1;
  int verify = 1, http2 = 1;
  long connect_ms = 10000;
  bing_http *h;

  if (opts) {
    luaL_checktype(L, 1, LUA_TTABLE);
    check_option_names(L, 1);
  }
  lua_settop(L, 1);

  /* The userdata exists (with its __gc) before anything is allocated, so a
   * raise while reading options frees what was made. */
  h = lua_newuserdata(L, sizeof *h);
  memset(h, 0, sizeof *h);
  luaL_getmetatable(L, BING_HTTP_MT);
  lua_setmetatable(L, -2);
  h->max_size = DEFAULT_MAX_SIZE;
  h->timeout_ms = 30000;
  h->tmpl = curl_easy_init();
  h->share = curl_share_init();
  h->multi = curl_multi_init();
  if (!h->tmpl || !h->share || !h->multi)
    return luaL_error(L, "bing.http: cannot create a curl handle");

  curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  /* Connections are not in the share: the multi handle's connection cache
   * holds them for every transfer of the session. */
#if LIBCURL_VERSION_NUM >= 0x074300
  curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
#endif
  curl_easy_setopt(h->tmpl, CURLOPT_SHARE, h->share);

  /* Signals would interrupt the host program (nginx, a GUI) on timeouts. */
  curl_easy_setopt(h->tmpl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h->tmpl, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(h->tmpl, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(h->tmpl, CURLOPT_ACCEPT_ENCODING, "");
  /* A redirect would carry the key to wherever it points. */
  curl_easy_setopt(h->tmpl, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(h->tmpl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(h->tmpl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(h->tmpl, CURLOPT_TCP_KEEPALIVE, 1L);
#if LIBCURL_VERSION_NUM >= 0x073600
  curl_easy_setopt(h->tmpl, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
#endif

  if (opt(L, opts, "verify", LUA_TBOOLEAN) == LUA_TBOOLEAN)
    verify = lua_toboolean(L, -1);
  curl_easy_setopt(h->tmpl, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
  curl_easy_setopt(h->tmpl, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
  if (opt(L, opts, "cafile", LUA_TSTRING) == LUA_TSTRING)
    curl_easy_setopt(h->tmpl, CURLOPT_CAINFO, lua_tostring(L, -1));
  if (opt(L, opts, "capath", LUA_TSTRING) == LUA_TSTRING)
    curl_easy_setopt(h->tmpl, CURLOPT_CAPATH, lua_tostring(L, -1));
  if (opt(L, opts, "proxy", LUA_TSTRING) == LUA_TSTRING)
    curl_easy_setopt(h->tmpl, CURLOPT_PROXY, lua_tostring(L, -1));
  if (opt(L, opts, "connect_timeout", LUA_TNUMBER) == LUA_TNUMBER)
    connect_ms = seconds_to_ms(L, -1, "connect_timeout");
  curl_easy_setopt(h->tmpl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  if (opt(L, opts, "timeout", LUA_TNUMBER) == LUA_TNUMBER)
    h->timeout_ms = seconds_to_ms(L, -1, "timeout");
  if (opt(L, opts, "max_size", LUA_TNUMBER) == LUA_TNUMBER) {
    lua_Number m = lua_tonumber(L, -1);
    if (!(m >= 1) || m != floor(m))
      return luaL_error(L, "bing.http: max_size must be a positive integer");
    h->max_size = m >= 9.0e15 ? (size_t)9.0e15 : (size_t)m;
  }
  /* A Content-Length above the cap fails before the body is read. */
  curl_easy_setopt(h->tmpl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_size);
  if (opt(L, opts, "http2", LUA_TBOOLEAN) == LUA_TBOOLEAN)
    http2 = lua_toboolean(L, -1);
  lua_settop(L, 2);
  /* HTTP/2 is negotiated by ALPN over TLS only; plain http stays 1.1. A
   * libcurl without nghttp2 refuses the option and keeps 1.1. */
  if (!http2 ||
      curl_easy_setopt(h->tmpl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) != CURLE_OK) {
    curl_easy_setopt(h->tmpl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    http2 = 0;
  }
  /* Transfers started together wait for the first connection to say
   * whether it multiplexes, rather than each opening its own. */
  if (http2)
    curl_easy_setopt(h->tmpl, CURLOPT_PIPEWAIT, 1L);
  h->http2 = http2;
  set_user_agent(L, h->tmpl, opts);
  return 1;
}

/* RFC 9110 token characters. */
static int valid_header_name(const char *s, size_t n) {
  size_t i;
  if (n == 0)
    return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          (c != 0 && strchr("!#$%&'*+-.^_`|~", c))))
      return 0;
  }
  return 1;
}

static int same_name(const char *a, size_t n, const char *lower) {
  size_t i;
  if (strlen(lower) != n)
    return 0;
  for (i = 0; i < n; i++) {
    int c = (unsigned char)a[i];
    if (c >= 'A' && c <= 'Z')
      c += 'a' - 'A';
    if (c != lower[i])
      return 0;
  }
  return 1;
}

/* Builds h->req_headers from the table at idx. Header injection (CR/LF in a
 * value) and framing headers curl computes itself are refused. */
static void build_headers(lua_State *L, xfer *h, int idx) {
  int expect = 0;
  char *line;
  const char *name, *value;
  size_t nlen, vlen;
  struct curl_slist *l;

  curl_slist_free_all(h->req_headers);
  h->req_headers = NULL;
  if (lua_istable(L, idx)) {
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      if (lua_type(L, -2) != LUA_TSTRING ||
          (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER))
        argument_error(L, "bing.http: headers must map names to strings");
      name = lua_tolstring(L, -2, &nlen);
      value = lua_tolstring(L, -1, &vlen); /* a number converts in place: a value, not the key */
      /* The name is not printed as is: it may hold the very CR/LF/NUL refused. */
      if (!valid_header_name(name, nlen))
        argument_error(L, "bing.http: invalid header name (not an RFC 9110 token)");
      if (!valid_header_value(value, vlen))
        argument_error(L, "bing.http: header '%s' has CR, LF or NUL in its value", name);
      if (same_name(name, nlen, "content-length") || same_name(name, nlen, "transfer-encoding"))
        argument_error(L, "bing.http: header '%s' is set by the transport", name);
      if (same_name(name, nlen, "expect"))
        expect = 1;
      /* "Name;" is curl's spelling of a header with an empty value. */
      lua_pushfstring(L, vlen ? "%s: %s" : "%s;", name, value);
      line = (char *)lua_tostring(L, -1);
      l = curl_slist_append(h->req_headers, line);
      if (!l)
        luaL_error(L, "not enough memory");
      h->req_headers = l;
      lua_pop(L, 2);
    }
  }
  /* curl waits for "100 Continue" before large bodies; Bing does not need
   * the round trip. */
  if (!expect) {
    l = curl_slist_append(h->req_headers, "Expect:");
    if (!l)
      luaL_error(L, "not enough memory");
    h->req_headers = l;
  }
}

/* The key value as it appears in url ("key=..." of the query), for
 * redacting curl's messages. */
static void url_key(const char *url, const char **key, size_t *keylen) {
  const char *q = strchr(url, '?'), *p, *e;
  *key = NULL;
  *keylen = 0;
  for (p = q; p && *p; p++) {
    if ((*p == '?' || *p == '&') && (p[1] == 'k' || p[1] == 'K') && (p[2] == 'e' || p[2] == 'E') &&
        (p[3] == 'y' || p[3] == 'Y') && p[4] == '=') {
      for (e = p + 5; *e && *e != '&' && *e != '#'; e++)
        ;
      *key = p + 5;
      *keylen = (size_t)(e - (p + 5));
    }
  }
}

/* libcurl (before 8.6) refuses one header line longer than CURL_MAX_HTTP_HEADER (100 kB)
 * with CURLE_OUT_OF_MEMORY, and 7.88 without a message. Once the status line has come (it is
 * in h->head), that is the answer being too large, as our own header cap would say; a
 * malloc failing inside curl right then is far less likely, and not retryable either. */
static int header_line_too_long(xfer *h, CURLcode rc) {
  return rc == CURLE_OUT_OF_MEMORY && (h->head.len > 0 || strstr(h->errbuf, "bytes header"));
}

static void push_failure(lua_State *L, xfer *h, CURLcode rc, const char *method, const char *url) {
  const char *key, *code, *kind = "transport";
  size_t keylen;
  int retryable = curle_retryable(rc);
  char codebuf[32], text[96];
  /* Whether the request left: a transfer that never got past the name lookup, the connect or
   * the TLS handshake has neither a pre-transfer time nor request bytes (both reset per
   * transfer). bing.billing does not count such a timeout: the service never saw it. */
  double pretransfer = 0;
  long request_size = 0;
  curl_easy_getinfo(h->curl, CURLINFO_PRETRANSFER_TIME, &pretransfer);
  curl_easy_getinfo(h->curl, CURLINFO_REQUEST_SIZE, &request_size);

  if (h->body.oom || h->head.oom) {
    release_buffers(h);
    luaL_error(L, "not enough memory");
  }
  if (h->body.overflow || h->head.overflow || rc == CURLE_FILESIZE_EXCEEDED ||
      header_line_too_long(h, rc)) {
    code = "BING_TOO_LARGE";
    retryable = 0;
    if (h->head.overflow)
      snprintf(text, sizeof text, "response headers larger than %lu bytes",
               (unsigned long)MAX_HEADER_BYTES);
    else if (header_line_too_long(h, rc))
      snprintf(text, sizeof text, "a response header line longer than libcurl takes (100 kB)");
    else
      snprintf(text, sizeof text, "response larger than max_size (%lu bytes)",
               (unsigned long)h->max_size);
    lua_pushstring(L, text);
  } else {
    code = curle_name(rc);
    if (!code) {
      snprintf(codebuf, sizeof codebuf, "CURLE_%d", (int)rc);
      code = codebuf;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT)
      kind = "timeout";
    lua_pushstring(L, h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
  }
  release_buffers(h);
  lua_pushfstring(L, "%s (%s %s)", lua_tostring(L, -1), method, url);
  url_key(url, &key, &keylen);
  bing_push_redacted(L, lua_tostring(L, -1), lua_rawlen(L, -1), key, keylen);
  lua_pushnil(L);
  bing_error_push(L, kind, 0, code, lua_tostring(L, -2), retryable);
  bing_push_redacted(L, url, strlen(url), key, keylen);
  lua_setfield(L, -2, "url");
  lua_pushboolean(L, pretransfer > 0 || request_size > 0);
  lua_setfield(L, -2, "sent");
}

static const char *version_text(long v) {
  switch (v) {
  case CURL_HTTP_VERSION_1_0:
    return "1.0";
  case CURL_HTTP_VERSION_2_0:
    return "2";
#if LIBCURL_VERSION_NUM >= 0x074200
  case CURL_HTTP_VERSION_3:
    return "3";
#endif
  default:
    return "1.1";
  }
}

/* Parses the buffered header block into a table at the top: lower-case
 * names, trimmed values, the last of repeated names wins. */
static void push_headers(lua_State *L, xfer *h) {
  char *p = h->head.data, *end = p + h->head.len, *eol, *colon, *v, *ve;
  lua_newtable(L);
  while (p && p < end) {
    eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
      eol = end;
    colon = memchr(p, ':', (size_t)(eol - p));
    if (colon && colon > p && *p != ' ' && *p != '\t') {
      char *c;
      for (c = p; c < colon; c++)
        if (*c >= 'A' && *c <= 'Z')
          *c += 'a' - 'A';
      for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
        ;
      for (ve = eol; ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'); ve--)
        ;
      lua_pushlstring(L, p, (size_t)(colon - p));
      lua_pushlstring(L, v, (size_t)(ve - v));
      lua_rawset(L, -3);
    }
    p = eol + 1;
  }
}

/* A free transfer: an idle one kept from an earlier call (its easy handle
 * keeps the options), else a new one duplicated from the template. It is
 * in the session's table before anything can raise, so close() frees it. */
static xfer *idle_xfer(lua_State *L, bing_http *h) {
  int i, slot = -1;
  xfer *x;
  for (i = 0; i < h->nx; i++) {
    if (h->x[i] && h->x[i]->state == XF_IDLE)
      return h->x[i];
    if (!h->x[i] && slot < 0)
      slot = i;
  }
  if (slot < 0) {
    if (h->nx == h->cap) {
      int cap = h->cap ? h->cap * 2 : 8;
      xfer **nxs;
      int *nd;
      if (cap > INT32_MAX / 2)
        luaL_error(L, "bing.http: too many transfers");
      nxs = realloc(h->x, (size_t)cap * sizeof *nxs);
      if (!nxs)
        luaL_error(L, "not enough memory");
      h->x = nxs;
      nd = realloc(h->done, (size_t)cap * sizeof *nd);
      if (!nd)
        luaL_error(L, "not enough memory");
      h->done = nd;
      h->cap = cap;
    }
    slot = h->nx++;
    h->x[slot] = NULL;
  }
  x = calloc(1, sizeof *x);
  if (!x)
    luaL_error(L, "not enough memory");
  x->curl = curl_easy_duphandle(h->tmpl);
  if (!x->curl) {
    free(x);
    luaL_error(L, "bing.http: cannot create a curl handle");
  }
  bing_buf_init(&x->body, 0);
  bing_buf_init(&x->head, MAX_HEADER_BYTES);
  x->state = XF_IDLE;
  h->x[slot] = x;
  curl_easy_setopt(x->curl, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(x->curl, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(x->curl, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(x->curl, CURLOPT_PRIVATE, (void *)x);
  return x;
}

static int xfer_id(bing_http *h, xfer *x) {
  int i;
  for (i = 0; i < h->nx; i++)
    if (h->x[i] == x)
      return i + 1;
  return 0;
}

/* The request table at index 2 becomes a running transfer; returns its id.
 * Everything that can be refused is checked before it joins the multi. */
static int start_xfer(lua_State *L, bing_http *h) {
  const char *method, *url, *body = NULL;
  size_t urllen, bodylen = 0;
  long timeout_ms = h->timeout_ms;
  char *url_copy;
  xfer *x;

  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lua_getfield(L, 2, "method");  /* 3 */
  lua_getfield(L, 2, "url");     /* 4 */
  lua_getfield(L, 2, "body");    /* 5 */
  lua_getfield(L, 2, "headers"); /* 6 */
  lua_getfield(L, 2, "timeout"); /* 7 */

  method = lua_isnil(L, 3) ? "GET" : lua_tostring(L, 3);
  if (!method || !(strcmp(method, "GET") == 0 || strcmp(method, "POST") == 0 ||
                   strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0))
    luaL_error(L, "bing.http: method must be GET, POST, PUT or DELETE");
  if (lua_type(L, 4) != LUA_TSTRING)
    luaL_error(L, "bing.http: req.url must be a string");
  url = lua_tolstring(L, 4, &urllen);
  if (strlen(url) != urllen)
    luaL_error(L, "bing.http: req.url holds a NUL byte");
  if (!lua_isnil(L, 5)) {
    if (lua_type(L, 5) != LUA_TSTRING)
      luaL_error(L, "bing.http: req.body must be a string");
    body = lua_tolstring(L, 5, &bodylen);
    if (strcmp(method, "GET") == 0)
      luaL_error(L, "bing.http: a GET request has no body");
  }
  if (!lua_isnil(L, 6) && !lua_istable(L, 6))
    luaL_error(L, "bing.http: req.headers must be a table");
  if (!lua_isnil(L, 7))
    timeout_ms = seconds_to_ms(L, 7, "req.timeout");

  x = idle_xfer(L, h);
  build_headers(L, x, 6);
  url_copy = malloc(urllen + 1);
  if (!url_copy)
    luaL_error(L, "not enough memory");
  memcpy(url_copy, url, urllen + 1);
  free(x->url);
  x->url = url_copy;
  strcpy(x->method, method);

  curl_easy_setopt(x->curl, CURLOPT_URL, url);
  curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, x->req_headers);
  curl_easy_setopt(x->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  /* The handle is reused: every call sets the method from scratch. */
  if (strcmp(method, "GET") == 0 || (strcmp(method, "DELETE") == 0 && !body)) {
    curl_easy_setopt(x->curl, CURLOPT_HTTPGET, 1L);
  } else {
    /* Copied: the transfer outlives this call (the Lua string may go). */
    curl_easy_setopt(x->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodylen);
    if (curl_easy_setopt(x->curl, CURLOPT_COPYPOSTFIELDS, body ? body : "") != CURLE_OK)
      luaL_error(L, "not enough memory");
  }
  curl_easy_setopt(x->curl, CURLOPT_CUSTOMREQUEST,
                   (strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0) ? method : NULL);

  bing_buf_reset(&x->body);
  bing_buf_reset(&x->head);
  x->body.max = h->max_size;
  x->max_size = h->max_size;
  x->errbuf[0] = '\0';
  x->rc = CURLE_OK;
  if (curl_multi_add_handle(h->multi, x->curl) != CURLM_OK)
    luaL_error(L, "bing.http: cannot add a transfer to the multi handle");
  x->state = XF_RUNNING;
  h->running++;
  return xfer_id(h, x);
}

/* Takes the finished transfers out of the multi handle (their connections
 * stay in its cache) and queues their ids for poll. No Lua here. */
static void collect(bing_http *h) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(h->multi, &left))) {
    void *p = NULL;
    xfer *x;
    CURLcode rc;
    if (msg->msg != CURLMSG_DONE)
      continue;
    rc = msg->data.result;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
    x = p;
    curl_multi_remove_handle(h->multi, x->curl);
    h->running--;
    x->state = XF_DONE;
    x->rc = rc;
    h->done[h->ndone++] = xfer_id(h, x);
  }
}

/* Runs the transfers; waits up to wait_ms for activity unless something
 * finished already (want: that transfer, or any when NULL). */
static CURLMcode drive(bing_http *h, long wait_ms, xfer *want) {
  int still;
  CURLMcode mc = curl_multi_perform(h->multi, &still);
  if (mc != CURLM_OK)
    return mc;
  collect(h);
  if (wait_ms > 0 && h->running > 0 && (want ? want->state != XF_DONE : h->ndone == 0)) {
#if LIBCURL_VERSION_NUM >= 0x074200
    mc = curl_multi_poll(h->multi, NULL, 0, (int)wait_ms, NULL);
#else
    mc = curl_multi_wait(h->multi, NULL, 0, (int)wait_ms, NULL);
#endif
    if (mc != CURLM_OK)
      return mc;
    mc = curl_multi_perform(h->multi, &still);
    if (mc != CURLM_OK)
      return mc;
    collect(h);
  }
  return CURLM_OK;
}

static void forget_done(bing_http *h, int id) {
  int i;
  for (i = 0; i < h->ndone; i++)
    if (h->done[i] == id) {
      memmove(h->done + i, h->done + i + 1, (size_t)(h->ndone - i - 1) * sizeof *h->done);
      h->ndone--;
      return;
    }
}

static xfer *check_id(lua_State *L, bing_http *h, int idx) {
  lua_Integer id = luaL_checkinteger(L, idx);
  if (id < 1 || id > h->nx || !h->x[id - 1] || h->x[id - 1]->state == XF_IDLE)
    luaL_error(L, "bing.http: no transfer %d", (int)id);
  return h->x[id - 1];
}

/* The transfer is idle again (kept for the next call, or freed past
 * KEEP_IDLE slots). */
static void retire(bing_http *h, xfer *x) {
  int id = xfer_id(h, x);
  if (x->state == XF_RUNNING) {
    curl_multi_remove_handle(h->multi, x->curl);
    h->running--;
  }
  if (x->state == XF_DONE)
    forget_done(h, id);
  x->state = XF_IDLE;
  release_buffers(x);
  if (id > KEEP_IDLE) {
    xfer_free(h, x);
    h->x[id - 1] = NULL;
  }
}

/* Pushes the answer of a finished transfer (1 value) or nil, err (2). */
static int push_result(lua_State *L, bing_http *h, xfer *x) {
  long status = 0, version = 0, connects = 0;
  double total = 0;
  if (x->rc != CURLE_OK) {
    push_failure(L, x, x->rc, x->method, x->url);
    retire(h, x);
    return 2;
  }
  curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(x->curl, CURLINFO_NUM_CONNECTS, &connects);
  curl_easy_getinfo(x->curl, CURLINFO_TOTAL_TIME, &total);
#if LIBCURL_VERSION_NUM >= 0x073200
  curl_easy_getinfo(x->curl, CURLINFO_HTTP_VERSION, &version);
#endif

  lua_createtable(L, 0, 6);
  lua_pushinteger(L, (lua_Integer)status);
  lua_setfield(L, -2, "status");
  push_headers(L, x);
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, x->body.data ? x->body.data : "", x->body.len);
  lua_setfield(L, -2, "body");
  lua_pushstring(L, version_text(version));
  lua_setfield(L, -2, "http_version");
  lua_pushboolean(L, connects == 0);
  lua_setfield(L, -2, "reused");
  lua_pushnumber(L, (lua_Number)total);
  lua_setfield(L, -2, "time");
  retire(h, x);
  return 1;
}

static void multi_failed(lua_State *L, CURLMcode mc) {
  luaL_error(L, "bing.http: %s", curl_multi_strerror(mc));
}

/* h:start(req) -> id */
static int http_start(lua_State *L) {
  bing_http *h = check_open(L);
  lua_pushinteger(L, start_xfer(L, h));
  return 1;
}

/* h:poll([wait]) -> {id...}, running: the transfers that finished (each to
 * be taken with h:result), waiting at most `wait` seconds (default 0) for
 * one when none has yet; `running` counts those still in flight. */
static int http_poll(lua_State *L) {
  bing_http *h = check_open(L);
  long wait_ms = 0;
  int i;
  CURLMcode mc;
  if (!lua_isnoneornil(L, 2)) {
    lua_Number w = luaL_checknumber(L, 2);
    if (!(w >= 0))
      luaL_error(L, "bing.http: poll wait must be >= 0");
    wait_ms = w > 86400 ? 86400000L : (long)ceil(w * 1000);
  }
  mc = drive(h, wait_ms, NULL);
  if (mc != CURLM_OK)
    multi_failed(L, mc);
  lua_createtable(L, h->ndone, 0);
  for (i = 0; i < h->ndone; i++) {
    lua_pushinteger(L, h->done[i]);
    lua_rawseti(L, -2, i + 1);
  }
  h->ndone = 0;
  lua_pushinteger(L, h->running);
  return 2;
}

/* h:result(id) -> resp | nil, err (the transfer must have finished) */
static int http_result(lua_State *L) {
  bing_http *h = check_open(L);
  xfer *x = check_id(L, h, 2);
  if (x->state != XF_DONE)
    luaL_error(L, "bing.http: transfer %d has not finished", (int)lua_tointeger(L, 2));
  return push_result(L, h, x);
}

/* h:cancel(id): drops a transfer, running or finished; an unknown or idle
 * id is ignored (cancelling twice is safe). */
static int http_cancel(lua_State *L) {
  bing_http *h = check_open(L);
  lua_Integer id = luaL_checkinteger(L, 2);
  if (id >= 1 && id <= h->nx && h->x[id - 1] && h->x[id - 1]->state != XF_IDLE)
    retire(h, h->x[id - 1]);
  return 0;
}

/* h:perform(req) -> resp | nil, err: a batch of one. Other transfers of the
 * session advance meanwhile; their ids wait for the next poll. */
static int http_perform(lua_State *L) {
  bing_http *h = check_open(L);
  int id = start_xfer(L, h); /* before h->x is read: starting may move it */
  xfer *x = h->x[id - 1];
  while (x->state != XF_DONE) {
    CURLMcode mc = drive(h, 1000, x);
    if (mc != CURLM_OK) {
      retire(h, x);
      multi_failed(L, mc);
    }
  }
  return push_result(L, h, x);
}

void bing_http_open(lua_State *L) {
  static const luaL_Reg meta[] = {
      {"__gc", http_close}, {"__close", http_close}, {"__tostring", http_tostring}, {NULL, NULL}};
  static const luaL_Reg methods[] = {{"perform", http_perform},
                                     {"start", http_start},
                                     {"poll", http_poll},
                                     {"result", http_result},
                                     {"cancel", http_cancel},
                                     {"close", http_close},
                                     {NULL, NULL}};

  luaL_newmetatable(L, BING_HTTP_MT);
  luaL_setfuncs(L, meta, 0);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, BING_HTTP_MT);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}
