/* Response decoding: the kinds of answer (REST envelope, OData, Dataflow
 * jobs, bytes, text, any JSON), each with its completeness check, integers
 * and throttled-empty test; HTTP status -> error kind (JSON, OData and XML
 * error bodies); JSON through lua-cjson, with exact integers (jsonnum.c).
 *
 * Where the reference is silent: a REST 200 with "resourceSets": [] is an
 * answer with nothing in it (not an error); a set without a resources list
 * is not. Delimited text may be empty (a job with no failed entity); image
 * bytes may not. A JSON array is never an envelope.
 *
 * lua-cjson has no C API, so luaopen keeps a decode function of a private
 * cjson.safe instance in the registry and every call goes through lua_pcall:
 * bad bytes give nil, never a raise or a crash. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "bing.h"

/* The kinds of answer core.decode knows; each has its completeness check,
 * its integers and its throttled-empty test. RAW is the old boolean
 * want_raw: the body as it came, no check. */
enum { K_REST, K_ODATA, K_DATAFLOW, K_BYTES, K_TEXT, K_JSON, K_RAW };
static const char *const kind_names[] = {"rest", "odata", "dataflow", "bytes",
                                         "text", "json",  NULL};

/* Deepest table whose values the walk converts: the marks of jsonnum.c stop
 * at the same depth. */
#define WALK_DEPTH (BING_MARK_DEPTH - 1)

static int load_cjson(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushstring(L, "cjson.safe");
  lua_call(L, 1, 1);
  /* A fresh instance: settings a program makes on its own cjson.safe (say
   * decode_max_depth) must not change how the core reads responses. */
  lua_getfield(L, -1, "new");
  if (lua_isfunction(L, -1)) {
    lua_call(L, 0, 1);
  } else {
    lua_pop(L, 1);
  }
  lua_getfield(L, -1, "decode");
  if (!lua_isfunction(L, -1))
    return luaL_error(L, "cjson.safe has no decode function");
  return 1;
}

static void add_names(lua_State *L, const char *const *names) {
  for (; *names; names++) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, *names);
  }
}

void bing_decode_open(lua_State *L) {
  /* Integer fields by name, per kind. The REST envelope's own counts; a
   * family adds its fields with core.integer_fields. OData and plain JSON
   * have none: they keep every integer literal as sent (see json_decode), so
   * an SDS property that happens to be called "index" or "cost" is never
   * touched by a name meant for Routes. */
  static const char *const rest[] = {"statusCode", "estimatedTotal", NULL};
  static const char *const dataflow[] = {"statusCode",        "estimatedTotal",
                                         "totalEntityCount",  "processedEntityCount",
                                         "failedEntityCount", NULL};
  lua_createtable(L, 0, 2);
  lua_createtable(L, 0, 8);
  add_names(L, rest);
  lua_setfield(L, -2, "rest");
  lua_createtable(L, 0, 8);
  add_names(L, dataflow);
  lua_setfield(L, -2, "dataflow");
  lua_setfield(L, LUA_REGISTRYINDEX, BING_REG_INTFIELDS);

  /* A missing lua-cjson must not stop URL building from loading: decode
   * reports it when it is called. */
  lua_pushcfunction(L, load_cjson);
  if (lua_pcall(L, 0, 1, 0) != LUA_OK && lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushstring(L, "cannot load cjson.safe");
  }
  lua_setfield(L, LUA_REGISTRYINDEX, BING_REG_DECODE);
}

/* core.integer_fields([kind,] {name, ...}): kind "rest" (the default) or
 * "dataflow". */
int bing_l_integer_fields(lua_State *L) {
  static const char *const named[] = {"rest", "dataflow", NULL};
  int i, k = 1;
  const char *kind = "rest";

  if (lua_type(L, 1) == LUA_TSTRING) {
    kind = named[luaL_checkoption(L, 1, NULL, named)];
    k = 2;
  }
  luaL_checktype(L, k, LUA_TTABLE);
  lua_getfield(L, LUA_REGISTRYINDEX, BING_REG_INTFIELDS);
  lua_getfield(L, -1, kind);
  for (i = 1;; i++) {
    lua_rawgeti(L, k, i);
    if (lua_isnil(L, -1))
      break;
    if (lua_type(L, -1) != LUA_TSTRING)
      return luaL_argerror(L, k, "field names must be strings");
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
  }
  return 0;
}

/* Pushes the number a mark of jsonnum.c stands for: a Lua integer under 5.3+;
 * under 5.1 a number when a double holds it exactly, else the digits. */
static void push_marked(lua_State *L, const char *s, size_t n) {
  unsigned long long mag;
  int neg;

  if (!bing_json_integer(s, n, &mag, &neg)) {
    lua_pushlstring(L, s, n); /* cannot happen: jsonnum.c marked it */
    return;
  }
#if LUA_VERSION_NUM >= 503
  if (neg)
    lua_pushinteger(L,
                    mag > (unsigned long long)LUA_MAXINTEGER ? LUA_MININTEGER : -(lua_Integer)mag);
  else
    lua_pushinteger(L, (lua_Integer)mag);
#else
  if (mag <= 9007199254740992ULL)
    lua_pushnumber(L, neg ? -(lua_Number)mag : (lua_Number)mag);
  else
    lua_pushlstring(L, s, n);
#endif
}

/* One pass over the decoded document (table at t): marked strings back to
 * numbers (when marked), and, under 5.3+, the integral floats under the
 * names of the set at index set (0: none) to integers, so counts and codes
 * print and compare as the integers they are. */
static void walk(lua_State *L, int t, int set, int marked, int depth) {
  if (depth > WALK_DEPTH)
    return;
  luaL_checkstack(L, 6, "JSON document too deep");
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int type = lua_type(L, -1);
    if (type == LUA_TTABLE) {
      walk(L, lua_gettop(L), set, marked, depth + 1);
    } else if (type == LUA_TSTRING && marked) {
      size_t n;
      const char *s = lua_tolstring(L, -1, &n);
      if (n >= 2 && s[0] == '\0' && (s[1] == 'n' || s[1] == 's')) {
        /* Assigning to an existing field is allowed during lua_next. */
        lua_pushvalue(L, -2);
        if (s[1] == 'n')
          push_marked(L, s + 2, n - 2);
        else
          lua_pushlstring(L, s + 2, n - 2);
        lua_rawset(L, t);
      }
    }
#if LUA_VERSION_NUM >= 503
    else if (set && type == LUA_TNUMBER && lua_type(L, -2) == LUA_TSTRING &&
             !lua_isinteger(L, -1)) {
      lua_Integer n;
      if (lua_numbertointeger(lua_tonumber(L, -1), &n) && (lua_Number)n == lua_tonumber(L, -1)) {
        lua_pushvalue(L, -2);
        lua_rawget(L, set);
        if (lua_toboolean(L, -1)) {
          lua_pushvalue(L, -3);
          lua_pushinteger(L, n);
          lua_rawset(L, t);
        }
        lua_pop(L, 1);
      }
    }
#endif
    lua_pop(L, 1);
  }
}

/* Decodes body as an answer of the given kind: pushes the value and cjson's
 * message (nil when it decoded). Returns 1 when it decoded, else 0 (nil and
 * the message pushed).
 *
 * Integers beyond 2^53 always come back exact (jsonnum.c). For the REST and
 * Dataflow envelopes the other integers are the fields named in their set;
 * for OData and plain JSON, whose fields are the user's, every literal
 * written as an integer comes back as one (5.3+) and every other number as
 * a float: exactly as sent. */
static int json_decode(lua_State *L, const char *body, size_t len, int kind) {
  bing_buf marked;
  int marks, literal = kind == K_ODATA || kind == K_JSON;

  lua_getfield(L, LUA_REGISTRYINDEX, BING_REG_DECODE);
  if (!lua_isfunction(L, -1)) {
    const char *why = lua_tostring(L, -1);
    luaL_error(L, "bing.core.decode needs lua-cjson (%s)", why ? why : "not loaded");
  }
  /* .NET servers may prefix a UTF-8 byte order mark, which cjson rejects. */
  if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
    body += 3;
    len -= 3;
  }
  bing_buf_init(&marked, 0);
  /* Under 5.1 a number cannot say it is an integer: only the big ones. */
  marks = bing_json_mark(body, len, LUA_VERSION_NUM >= 503 && literal, &marked);
  if (marks < 0) {
    bing_buf_free(&marked);
    luaL_error(L, "not enough memory");
  }
  if (marks > 0)
    lua_pushlstring(L, marked.data, marked.len);
  else
    lua_pushlstring(L, body, len);
  bing_buf_free(&marked);
  if (lua_pcall(L, 1, 2, 0) != LUA_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 0;
  }
  if (lua_isnil(L, -2))
    return 0;
  if (lua_istable(L, -2)) {
    int doc = lua_gettop(L) - 1, set = 0;
    if (!literal) {
      lua_getfield(L, LUA_REGISTRYINDEX, BING_REG_INTFIELDS);
      lua_getfield(L, -1, kind == K_DATAFLOW ? "dataflow" : "rest");
      lua_remove(L, -2);
      set = lua_gettop(L);
    }
    walk(L, doc, set, marks > 0, 0);
    if (set)
      lua_pop(L, 1);
  }
  return 1;
}

/* Copies header name (lower case) from the headers table at index h into
 * out, trimmed; returns out, or NULL when absent. */
static const char *header(lua_State *L, int h, const char *name, char *out, size_t outsz) {
  const char *s;
  size_t n;

  if (!lua_istable(L, h))
    return NULL;
  lua_getfield(L, h, name);
  s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
  if (s) {
    while (n > 0 && isspace((unsigned char)*s))
      s++, n--;
    while (n > 0 && isspace((unsigned char)s[n - 1]))
      n--;
    if (n >= outsz)
      n = outsz - 1;
    memcpy(out, s, n);
    out[n] = '\0';
  }
  lua_pop(L, 1);
  return s ? out : NULL;
}

/* Retry-After is delta-seconds or an HTTP-date. Returns -1 when absent or
 * unreadable. */
static long retry_after(lua_State *L, int h) {
  char v[128];
  const char *p;
  long secs = 0;
  time_t when;

  if (!header(L, h, "retry-after", v, sizeof v) || !v[0])
    return -1;
  for (p = v; *p >= '0' && *p <= '9'; p++) {
    if (secs > 100000000L)
      return 100000000L;
    secs = secs * 10 + (*p - '0');
  }
  if (*p == '\0')
    return secs;
  when = curl_getdate(v, NULL);
  if (when == (time_t)-1)
    return -1;
  return when > time(NULL) ? (long)(when - time(NULL)) : 0;
}

static const char *reason(long status) {
  switch (status) {
  case 300:
    return "MultipleChoices";
  case 301:
    return "MovedPermanently";
  case 302:
    return "Found";
  case 303:
    return "SeeOther";
  case 304:
    return "NotModified";
  case 307:
    return "TemporaryRedirect";
  case 308:
    return "PermanentRedirect";
  case 400:
    return "BadRequest";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "NotFound";
  case 405:
    return "MethodNotAllowed";
  case 406:
    return "NotAcceptable";
  case 408:
    return "RequestTimeout";
  case 409:
    return "Conflict";
  case 410:
    return "Gone";
  case 411:
    return "LengthRequired";
  case 413:
    return "PayloadTooLarge";
  case 414:
    return "URITooLong";
  case 415:
    return "UnsupportedMediaType";
  case 422:
    return "UnprocessableEntity";
  case 429:
    return "TooManyRequests";
  case 500:
    return "InternalServerError";
  case 501:
    return "NotImplemented";
  case 502:
    return "BadGateway";
  case 503:
    return "ServiceUnavailable";
  case 504:
    return "GatewayTimeout";
  default:
    return NULL;
  }
}

/* Sets err.retry_after (err at the top) from the headers at h. */
static void set_retry_after(lua_State *L, int h) {
  long ra = retry_after(L, h);
  if (ra >= 0) {
    lua_pushinteger(L, (lua_Integer)ra);
    lua_setfield(L, -2, "retry_after");
  }
}

/* Copies doc.traceId (doc at index d) to err.trace_id (err at the top),
 * redacted like every text taken from a body. */
static void set_trace_id(lua_State *L, int d, const char *key, size_t keylen) {
  lua_getfield(L, d, "traceId");
  if (lua_type(L, -1) == LUA_TSTRING) {
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    bing_push_redacted(L, s, n, key, keylen);
    lua_setfield(L, -3, "trace_id");
  }
  lua_pop(L, 1);
}

/* True when the table at t has no entry. */
static int is_empty(lua_State *L, int t) {
  lua_pushnil(L);
  if (lua_next(L, t)) {
    lua_pop(L, 2);
    return 0;
  }
  return 1;
}

/* True when some resourceSets[i].resources of doc (at d) is non-empty. */
static int has_resources(lua_State *L, int d) {
  int found = 0;
  lua_getfield(L, d, "resourceSets");
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (!found && lua_next(L, -2)) {
      if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "resources");
        if (lua_istable(L, -1) && !is_empty(L, lua_gettop(L)))
          found = 1;
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
    if (found)
      lua_pop(L, 1); /* the key lua_next left */
  }
  lua_pop(L, 1);
  return found;
}

/* True when the OData answer (doc at d) holds something: an entity, or a
 * non-empty results list. */
static int has_odata(lua_State *L, int d) {
  int found = 0;
  lua_getfield(L, d, "d");
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "results");
    if (lua_istable(L, -1))
      found = !is_empty(L, lua_gettop(L));
    else
      found = !is_empty(L, lua_gettop(L) - 1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return found;
}

/* The first byte of body that is not JSON whitespace (after a BOM), or 0. */
static int first_byte(const char *body, size_t len) {
  size_t i = 0;
  if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
    i = 3;
  for (; i < len; i++)
    if (!isspace((unsigned char)body[i]))
      return (unsigned char)body[i];
  return 0;
}

/* A table that is a list: t[1..n] and nothing else (cjson makes [] and {}
 * the same empty table, which passes). */
static int is_list(lua_State *L, int t) {
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    n++;
  }
  return n == (size_t)lua_rawlen(L, t);
}

/* Completeness of a REST (or Dataflow) envelope at d: NULL, or what is
 * missing, written into why. */
static const char *check_rest(lua_State *L, int d, int dataflow, char *why, size_t whysz) {
  int sets, i, j;
  const char *missing = NULL;

  lua_getfield(L, d, "resourceSets");
  sets = lua_gettop(L);
  if (lua_isnil(L, sets)) {
    missing = "no resourceSets";
  } else if (!lua_istable(L, sets)) {
    missing = lua_type(L, sets) == LUA_TLIGHTUSERDATA ? "resourceSets is null"
                                                      : "resourceSets is not a list";
  } else if (!is_list(L, sets)) {
    missing = "resourceSets is not a list";
  }
  for (i = 1; !missing && i <= (int)lua_rawlen(L, sets); i++) {
    int res;
    lua_rawgeti(L, sets, i);
    if (lua_istable(L, -1))
      lua_getfield(L, -1, "resources");
    else
      lua_pushnil(L); /* a null set (getfield would raise on cjson.null) */
    res = lua_gettop(L);
    if (!lua_istable(L, res - 1) || !lua_istable(L, res) || !is_list(L, res)) {
      snprintf(why, whysz, "resourceSets[%d] has no resources list", i);
      missing = why;
    }
    for (j = 1; dataflow && !missing && j <= (int)lua_rawlen(L, res); j++) {
      lua_rawgeti(L, res, j);
      if (!lua_istable(L, -1)) {
        snprintf(why, whysz, "resource %d of set %d is not an object", j, i);
        missing = why;
      } else {
        lua_getfield(L, -1, "id");
        if (lua_type(L, -1) != LUA_TSTRING) {
          snprintf(why, whysz, "resource %d of set %d is no job (no id)", j, i);
          missing = why;
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return missing;
}

/* Completeness of an OData answer at d: {"d": {...}} with, when present, a
 * results list. */
static const char *check_odata(lua_State *L, int d) {
  const char *missing = NULL;
  lua_getfield(L, d, "d");
  if (lua_isnil(L, -1)) {
    missing = "no \"d\" object";
  } else if (!lua_istable(L, -1)) {
    missing = "\"d\" is not an object";
  } else {
    lua_getfield(L, -1, "results");
    if (!lua_isnil(L, -1) && (!lua_istable(L, -1) || !is_list(L, lua_gettop(L))))
      missing = "d.results is not a list";
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return missing;
}

/* Pushes nil and a decode error "HTTP <status> answer is not <what>: <why>". */
static int incomplete(lua_State *L, long status, const char *what, const char *why) {
  char msg[256];
  snprintf(msg, sizeof msg, "HTTP %ld answer is not %s: %s", status, what, why);
  lua_pushnil(L);
  bing_error_push(L, "decode", status, "IncompleteAnswer", msg, 0);
  return 2;
}

static int throttled_empty(lua_State *L, long status, int h, int doc, const char *key,
                           size_t keylen) {
  lua_pushnil(L);
  bing_error_push(L, "throttled", status, "ThrottledEmpty",
                  "empty response while the service is overloaded (X-MS-BM-WS-INFO: 1); "
                  "retry in a few seconds",
                  1);
  if (doc)
    set_trace_id(L, doc, key, keylen);
  set_retry_after(L, h);
  return 2;
}

/* A content type that is never image bytes: an error page or a document. */
static int not_bytes(const char *ct) {
  char low[64];
  size_t i;
  for (i = 0; ct[i] && i < sizeof low - 1; i++)
    low[i] = (char)tolower((unsigned char)ct[i]);
  low[i] = '\0';
  return strstr(low, "json") || strstr(low, "xml") || strstr(low, "text/") ||
         strstr(low, "javascript");
}

/* bytes and text: the body as it came, with their checks. */
static int decode_body(lua_State *L, int kind, long status, size_t len, int h) {
  char v[16], ct[128];
  int throttled = header(L, h, "x-ms-bm-ws-info", v, sizeof v) && strcmp(v, "1") == 0;
  const char *type = header(L, h, "content-type", ct, sizeof ct);

  if (throttled && len == 0)
    return throttled_empty(L, status, h, 0, NULL, 0);
  if (kind == K_BYTES) {
    if (len == 0)
      return incomplete(L, status, "image bytes", "the body is empty");
    if (type && not_bytes(type)) {
      char why[192];
      snprintf(why, sizeof why, "its content type is %s", type);
      return incomplete(L, status, "image bytes", why);
    }
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, "bytes");
    if (type) {
      lua_pushstring(L, type);
      lua_setfield(L, -2, "content_type");
    }
    return 1;
  }
  /* Delimited text (and the XML form of dataflow results) may be empty: a
   * job with no failed entity has nothing to download. A proxy's page is not
   * text the service sent. */
  if (type && strncmp(type, "text/html", 9) == 0)
    return incomplete(L, status, "delimited text", "its content type is text/html");
  lua_pushvalue(L, 3);
  return 1;
}

static int decode_success(lua_State *L, int kind, long status, const char *body, size_t len, int h,
                          const char *key, size_t keylen) {
  static const char *const what[] = {"a REST envelope", "an OData answer ({\"d\": ...})",
                                     "a Dataflow job answer"};
  char v[16], why[128];
  const char *missing = NULL;
  int doc, throttled;

  if (kind == K_BYTES || kind == K_TEXT)
    return decode_body(L, kind, status, len, h);
  if (status == 204 || (len == 0 && status == 202)) {
    lua_newtable(L);
    return 1;
  }
  throttled = header(L, h, "x-ms-bm-ws-info", v, sizeof v) && strcmp(v, "1") == 0;
  if (!json_decode(L, body, len, kind)) {
    const char *reason_text = lua_tostring(L, -1);
    char msg[256];
    if (throttled && first_byte(body, len) == 0)
      return throttled_empty(L, status, h, 0, NULL, 0);
    snprintf(msg, sizeof msg, "invalid JSON in HTTP %ld response: %s", status,
             reason_text ? reason_text : "decode failed");
    lua_pushnil(L);
    bing_error_push(L, "decode", status, "InvalidJSON", msg, 0);
    return 2;
  }
  lua_pop(L, 1);
  doc = lua_gettop(L);
  if (kind == K_JSON) {
    if (throttled && (!lua_istable(L, doc) || is_empty(L, doc)))
      return throttled_empty(L, status, h, 0, NULL, 0);
    return 1;
  }
  if (!lua_istable(L, doc)) {
    char msg[128];
    snprintf(msg, sizeof msg, "HTTP %ld response is JSON but not an object", status);
    lua_pushnil(L);
    bing_error_push(L, "decode", status, "InvalidJSON", msg, 0);
    return 2;
  }
  if (throttled && !(kind == K_ODATA ? has_odata(L, doc) : has_resources(L, doc)))
    return throttled_empty(L, status, h, doc, key, keylen);
  if (first_byte(body, len) == '[')
    missing = "it is a JSON array";
  else if (kind == K_ODATA)
    missing = check_odata(L, doc);
  else
    missing = check_rest(L, doc, kind == K_DATAFLOW, why, sizeof why);
  if (missing)
    return incomplete(L, status, what[kind], missing);
  return 1;
}

/* Joins doc.errorDetails (doc at d) with "; " onto the stack; returns 0 when
 * there is no string detail. */
static int join_details(lua_State *L, int d) {
  int i, t, n = 0;
  luaL_Buffer b;

  lua_getfield(L, d, "errorDetails");
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  t = lua_gettop(L);
  luaL_buffinit(L, &b);
  for (i = 1;; i++) {
    int type;
    lua_rawgeti(L, t, i);
    type = lua_type(L, -1);
    lua_pop(L, 1);
    if (type == LUA_TNIL)
      break;
    if (type != LUA_TSTRING)
      continue;
    if (n++)
      luaL_addstring(&b, "; ");
    /* luaL_addvalue is the one buffer call that may follow a push. */
    lua_rawgeti(L, t, i);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  lua_remove(L, t);
  if (n == 0) {
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

/* Replaces the string at the top with its redacted copy. */
static void redact_top(lua_State *L, const char *key, size_t keylen) {
  size_t n;
  const char *s = lua_tolstring(L, -1, &n);
  bing_push_redacted(L, s, n, key, keylen);
  lua_remove(L, -2);
}

/* Redacts the strings of the array at t in place: the service may echo a
 * request (and its key) in errorDetails. */
static void redact_array(lua_State *L, int t, const char *key, size_t keylen) {
  int i;
  for (i = 1;; i++) {
    lua_rawgeti(L, t, i);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      return;
    }
    if (lua_type(L, -1) == LUA_TSTRING) {
      redact_top(L, key, keylen);
      lua_rawseti(L, t, i);
    } else {
      lua_pop(L, 1);
    }
  }
}

/* Finds <tag ...>text</tag> in s[0, n) from *pos on: returns text and its
 * length in *tn, and moves *pos past it; NULL when absent. Enough for the
 * error documents of the XML forms of the REST and OData answers, which
 * carry no CDATA or comments where these tags are. */
static const char *xml_find(const char *s, size_t n, size_t *pos, const char *tag, size_t *tn) {
  size_t tl = strlen(tag), i, j;
  for (i = *pos; i + tl + 2 <= n; i++) {
    if (s[i] != '<' || memcmp(s + i + 1, tag, tl) != 0 ||
        (s[i + 1 + tl] != '>' && s[i + 1 + tl] != ' '))
      continue;
    for (j = i + 1 + tl; j < n && s[j] != '>'; j++)
      ;
    if (j >= n || s[j - 1] == '/')
      return NULL;
    i = ++j;
    for (; j + tl + 3 <= n; j++) {
      if (s[j] == '<' && s[j + 1] == '/' && memcmp(s + j + 2, tag, tl) == 0 &&
          s[j + 2 + tl] == '>') {
        *tn = j - i;
        *pos = j + tl + 3;
        return s + i;
      }
    }
    return NULL;
  }
  return NULL;
}

/* Sets field k of the error at err to the redacted text. */
static void set_text(lua_State *L, int err, const char *k, const char *s, size_t n, const char *key,
                     size_t keylen) {
  bing_push_redacted(L, s, n, key, keylen);
  lua_setfield(L, err, k);
}

/* An XML error body (the REST Response with StatusDescription, ErrorDetails
 * and TraceId, or OData's <error><code/><message/></error>): its texts go on
 * the error at err, which keeps its kind and status. */
static void xml_error(lua_State *L, int err, const char *body, size_t len, const char *key,
                      size_t keylen) {
  size_t pos = 0, tn, at, n = 0;
  const char *t;

  if ((t = xml_find(body, len, &pos, "TraceId", &tn)) != NULL)
    set_text(L, err, "trace_id", t, tn, key, keylen);
  pos = 0;
  if ((t = xml_find(body, len, &pos, "ErrorDetails", &tn)) != NULL) {
    const char *d = t;
    size_t dn = tn;
    luaL_Buffer b;
    lua_newtable(L);
    at = 0;
    while ((t = xml_find(d, dn, &at, "string", &tn)) != NULL) {
      bing_push_redacted(L, t, tn, key, keylen);
      lua_rawseti(L, -2, (int)++n);
    }
    if (n) {
      size_t i;
      int dt = lua_gettop(L);
      lua_pushvalue(L, dt);
      lua_setfield(L, err, "details");
      /* Under 5.1 the buffer lives on the stack: the table by its index. */
      luaL_buffinit(L, &b);
      for (i = 1; i <= n; i++) {
        if (i > 1)
          luaL_addstring(&b, "; ");
        lua_rawgeti(L, dt, (int)i);
        luaL_addvalue(&b);
      }
      luaL_pushresult(&b);
      lua_setfield(L, err, "message");
    }
    lua_pop(L, 1);
  }
  pos = 0;
  if ((t = xml_find(body, len, &pos, "StatusDescription", &tn)) != NULL && tn > 0) {
    char code[128];
    size_t i, j;
    if (!n)
      set_text(L, err, "message", t, tn, key, keylen);
    for (i = j = 0; i < tn && j < sizeof code - 1; i++)
      if (!isspace((unsigned char)t[i]))
        code[j++] = t[i];
    if (j)
      set_text(L, err, "code", code, j, key, keylen);
  }
  pos = 0;
  if ((t = xml_find(body, len, &pos, "AuthenticationResultCode", &tn)) != NULL && tn > 0 &&
      !(tn == 16 && memcmp(t, "ValidCredentials", 16) == 0))
    set_text(L, err, "code", t, tn, key, keylen);
  pos = 0;
  if (!n && (t = xml_find(body, len, &pos, "error", &tn)) != NULL) {
    const char *e = t, *c, *m;
    size_t en = tn, cn, mn;
    at = 0;
    if ((c = xml_find(e, en, &at, "code", &cn)) != NULL && cn > 0)
      set_text(L, err, "code", c, cn, key, keylen);
    at = 0;
    if ((m = xml_find(e, en, &at, "message", &mn)) != NULL && mn > 0)
      set_text(L, err, "message", m, mn, key, keylen);
  }
}

/* The Spatial Data Services' OData error, {"error": {"code": "...",
 * "message": {"lang": "en-US", "value": "..."}}} (message may also be a
 * plain string): pushes the error and returns 1, else pushes nothing. */
static int odata_error(lua_State *L, int doc, int err, const char *kind, long status, int retryable,
                       const char *key, size_t keylen) {
  char msg[64];
  lua_getfield(L, doc, "error");
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  snprintf(msg, sizeof msg, "HTTP %ld", status);
  bing_error_push(L, kind, status, reason(status), msg, retryable);
  lua_insert(L, -2);
  lua_getfield(L, -1, "code");
  if (lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) > 0) {
    redact_top(L, key, keylen);
    lua_setfield(L, err, "code");
  } else {
    lua_pop(L, 1);
  }
  lua_getfield(L, -1, "message");
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "value");
    lua_remove(L, -2);
  }
  if (lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) > 0) {
    redact_top(L, key, keylen);
    lua_setfield(L, err, "message");
  } else {
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 1;
}

static int decode_failure(lua_State *L, long status, const char *body, size_t len, int h,
                          const char *key, size_t keylen) {
  const char *kind = "http", *code = NULL;
  int retryable = 0, doc = 0, err;
  char codebuf[128], msg[128];
  const char *s;
  size_t n, i, j;

  if (status == 401 || status == 403) {
    kind = "auth";
  } else if (status == 429) {
    kind = "throttled";
    retryable = 1;
  } else if (status == 408) {
    kind = "timeout";
    retryable = 1;
  } else if (status == 500 || status == 502 || status == 503 || status == 504) {
    retryable = 1;
  }

  if (len > 0) {
    if (json_decode(L, body, len, K_REST) && lua_istable(L, -2)) {
      lua_pop(L, 1);
      doc = lua_gettop(L);
    } else {
      lua_pop(L, 2);
    }
  }

  lua_pushnil(L);
  if (!doc) {
    /* An empty body counts as non-JSON: one wording to match on. */
    snprintf(msg, sizeof msg, "HTTP %ld (non-JSON body)", status);
    bing_error_push(L, kind, status, reason(status), msg, retryable);
    if (first_byte(body, len) == '<')
      xml_error(L, lua_gettop(L), body, len, key, keylen);
  } else if (odata_error(L, doc, lua_gettop(L) + 1, kind, status, retryable, key, keylen)) {
    /* the OData error object of the Spatial Data Services, pushed */
  } else {
    snprintf(msg, sizeof msg, "HTTP %ld", status);
    bing_error_push(L, kind, status, NULL, msg, retryable);
    err = lua_gettop(L);

    /* code: authenticationResultCode unless it says all is well, then
     * statusDescription without spaces ("Bad Request" -> "BadRequest"). */
    lua_getfield(L, doc, "authenticationResultCode");
    s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (s && *s && strcmp(s, "ValidCredentials") != 0)
      code = s;
    lua_getfield(L, doc, "statusDescription");
    if (!code && lua_type(L, -1) == LUA_TSTRING) {
      s = lua_tolstring(L, -1, &n);
      for (i = j = 0; i < n && j < sizeof codebuf - 1; i++)
        if (!isspace((unsigned char)s[i]))
          codebuf[j++] = s[i];
      codebuf[j] = '\0';
      if (j)
        code = codebuf;
    }
    if (!code)
      code = reason(status);
    if (code) {
      lua_pushstring(L, code);
      redact_top(L, key, keylen);
      lua_setfield(L, err, "code");
    }

    /* The details are redacted before they are joined, so that the "; "
     * between them cannot be taken for part of a key value. */
    lua_getfield(L, doc, "errorDetails");
    if (lua_istable(L, -1))
      redact_array(L, lua_gettop(L), key, keylen);
    lua_pop(L, 1);

    /* message: errorDetails, else statusDescription, else "HTTP <status>". */
    if (join_details(L, doc)) {
      lua_setfield(L, err, "message");
    } else if (lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) > 0) {
      lua_pushvalue(L, -1);
      redact_top(L, key, keylen);
      lua_setfield(L, err, "message");
    }
    lua_pop(L, 2);

    lua_getfield(L, doc, "errorDetails");
    if (lua_istable(L, -1))
      lua_setfield(L, err, "details");
    else
      lua_pop(L, 1);
    set_trace_id(L, doc, key, keylen);
  }
  set_retry_after(L, h);
  return 2;
}

/* core.decode(status, headers, body[, kind[, key]]) -> answer | nil, err
 * kind: "rest" (the default), "odata", "dataflow", "bytes", "text" or
 * "json"; true is the old want_raw (the body, unchecked). With key, error
 * texts taken from the body are redacted of it too (key=... values always
 * are). */
int bing_l_decode(lua_State *L) {
  lua_Integer status = luaL_checkinteger(L, 1);
  size_t len = 0, keylen = 0;
  const char *body, *key = luaL_optlstring(L, 5, NULL, &keylen);
  int kind = K_REST;

  luaL_argcheck(L, status >= 100 && status <= 999, 1, "HTTP status out of range");
  if (!lua_isnoneornil(L, 2))
    luaL_checktype(L, 2, LUA_TTABLE);
  if (lua_type(L, 4) == LUA_TBOOLEAN)
    kind = lua_toboolean(L, 4) ? K_RAW : K_REST;
  else if (!lua_isnoneornil(L, 4))
    kind = luaL_checkoption(L, 4, NULL, kind_names);
  body = luaL_optlstring(L, 3, "", &len);
  lua_settop(L, 5); /* body and key stay referenced from the stack */
  lua_pushlstring(L, body, len);
  lua_replace(L, 3);
  body = lua_tolstring(L, 3, &len);
  luaL_checkstack(L, 16, NULL);

  if (status >= 200 && status < 300) {
    if (kind == K_RAW) {
      lua_pushvalue(L, 3);
      return 1;
    }
    return decode_success(L, kind, (long)status, body, len, 2, key, keylen);
  }
  if (status >= 400)
    return decode_failure(L, (long)status, body, len, 2, key, keylen);

  /* 1xx and 3xx: redirects are not followed (the key would go along). */
  {
    char msg[96];
    snprintf(msg, sizeof msg, "unexpected HTTP %ld (redirects are not followed)", (long)status);
    lua_pushnil(L);
    bing_error_push(L, "http", (long)status, reason((long)status), msg, 0);
    set_retry_after(L, 2);
    return 2;
  }
}
