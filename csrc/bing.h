/* Private declarations shared by the files of the C core (bing.core). */
#ifndef BING_H
#define BING_H

#include <lauxlib.h>
#include <lua.h>

#include "buf.h"
#include "compat.h"

#define BING_VERSION "0.1.0"

/* Registry keys. */
#define BING_ERROR_MT "bing.error"
#define BING_HTTP_MT "bing.http"
#define BING_REG_DECODE "bing.core.json_decode"
#define BING_REG_INTFIELDS "bing.core.integer_fields"

/* How deep decode.c looks into a document (integer fields, marked numbers):
 * deeper than any Bing answer (a route's itinerary is about ten levels);
 * cjson itself stops at 1000. */
#define BING_MARK_DEPTH 65

/* url.c */
int bing_encode_into(bing_buf *b, const char *s, size_t n);
int bing_format_number(lua_State *L, int idx, char *out, size_t outsz);
int bing_l_encode(lua_State *L);
int bing_l_build_url(lua_State *L);

/* auth.c */
int bing_redact_into(bing_buf *out, const char *s, size_t n, const char *key, size_t keylen);
void bing_push_redacted(lua_State *L, const char *s, size_t n, const char *key, size_t keylen);
int bing_l_redact(lua_State *L);

/* error.c */
void bing_error_open(lua_State *L);
void bing_error_push(lua_State *L, const char *kind, long status, const char *code,
                     const char *message, int retryable);
int bing_l_error(lua_State *L);
int bing_l_is_error(lua_State *L);

/* decode.c */
void bing_decode_open(lua_State *L);
int bing_l_decode(lua_State *L);
int bing_l_integer_fields(lua_State *L);

/* jsonnum.c: makes no Lua API call. bing_json_mark writes s to out with
 * integer literals marked (all of them within 64 bits when all, else those
 * beyond 2^53) and returns how many it marked: 0 leaves out untouched, -1 is
 * out of memory. bing_json_integer reads an exact JSON integer literal. */
int bing_json_mark(const char *s, size_t n, int all, bing_buf *out);
int bing_json_integer(const char *s, size_t n, unsigned long long *mag, int *neg);

/* clock.c */
int bing_l_now(lua_State *L);
int bing_l_sleep(lua_State *L);

/* points.c: point compression; coordinates in units of 1e-5 degree. */
#define BING_POINTS_ECHAR 1
#define BING_POINTS_ETRUNCATED 2
#define BING_POINTS_ELONG 3
#define BING_POINTS_ERANGE 4
#define BING_POINTS_EEMPTY 5
int bing_points_round5(double deg, long long *out);
size_t bing_points_encode_delta(long long dlat, long long dlon, char *out);
int bing_points_decode_next(const char *s, size_t n, size_t *pos, long long *lat, long long *lon);
const char *bing_points_strerror(int code);
int bing_argument_error(lua_State *L, const char *fmt, ...);
void bing_points_open(lua_State *L);

/* tiles.c */
void bing_tiles_open(lua_State *L);

/* http.c */
void bing_http_open(lua_State *L);
int bing_l_http(lua_State *L);

#endif
