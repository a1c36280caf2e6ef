/* The one error shape of lua-bing: a plain table {kind, status, code,
 * message, details, trace_id, retryable, ...} with a shared metatable, so
 * errors made in C and in Lua print alike and can be recognised. */
#include <stdio.h>
#include <string.h>

#include "bing.h"

/* Reads field k of the table at 1 as text into *out (numbers through
 * bing_format_number so a status prints as 429, not 429.0). The value stays
 * on the stack, which keeps the string alive. */
static const char *field_text(lua_State *L, const char *k, char *num, size_t numsz) {
  lua_getfield(L, 1, k);
  switch (lua_type(L, -1)) {
  case LUA_TSTRING:
    return lua_tostring(L, -1);
  case LUA_TNUMBER:
    if (bing_format_number(L, -1, num, numsz) == 0)
      return num;
    return NULL;
  case LUA_TBOOLEAN:
    return lua_toboolean(L, -1) ? "true" : "false";
  default:
    return NULL;
  }
}

/* Appends s to b with every control character escaped (\r, \n, \t, else
 * \xHH), so that the text stays on one line: a message may echo what the
 * service echoed of the request (a waypoint with CR/LF in it). */
static void add_escaped(luaL_Buffer *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != 0x7f) {
      luaL_addchar(b, (char)c);
      continue;
    }
    luaL_addchar(b, '\\');
    if (c == '\r') {
      luaL_addchar(b, 'r');
    } else if (c == '\n') {
      luaL_addchar(b, 'n');
    } else if (c == '\t') {
      luaL_addchar(b, 't');
    } else {
      luaL_addchar(b, 'x');
      luaL_addchar(b, hex[c >> 4]);
      luaL_addchar(b, hex[c & 15]);
    }
  }
}

/* __tostring: "bing: <kind>[ <status>][ <code>]: <message>[ (trace <id>)]",
 * always one line, and with key=... values redacted once more: an error
 * made in Lua by hand never passed through the core's redaction. */
static int error_tostring(lua_State *L) {
  char nstatus[64], ncode[64], nmsg[64], ntrace[64], nkind[64];
  const char *kind, *status, *code, *msg, *trace, *line;
  size_t n;
  luaL_Buffer b;

  luaL_checktype(L, 1, LUA_TTABLE);
  kind = field_text(L, "kind", nkind, sizeof nkind);
  status = field_text(L, "status", nstatus, sizeof nstatus);
  code = field_text(L, "code", ncode, sizeof ncode);
  msg = field_text(L, "message", nmsg, sizeof nmsg);
  trace = field_text(L, "trace_id", ntrace, sizeof ntrace);

  /* The five values above stay below the buffer's stack slots. */
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "bing: ");
  luaL_addstring(&b, kind ? kind : "error");
  if (status) {
    luaL_addchar(&b, ' ');
    luaL_addstring(&b, status);
  }
  if (code && *code) {
    luaL_addchar(&b, ' ');
    luaL_addstring(&b, code);
  }
  luaL_addstring(&b, ": ");
  luaL_addstring(&b, msg ? msg : "(no message)");
  if (trace && *trace) {
    luaL_addstring(&b, " (trace ");
    luaL_addstring(&b, trace);
    luaL_addchar(&b, ')');
  }
  luaL_pushresult(&b);

  /* Redacted first, escaped after: an escape ("\n" as two bytes) would
   * otherwise hide where a key value ends and redaction would eat on. */
  line = lua_tolstring(L, -1, &n);
  bing_push_redacted(L, line, n, NULL, 0);
  line = lua_tolstring(L, -1, &n);
  luaL_buffinit(L, &b);
  add_escaped(&b, line, n);
  luaL_pushresult(&b);
  return 1;
}

void bing_error_open(lua_State *L) {
  luaL_newmetatable(L, BING_ERROR_MT);
  lua_pushcfunction(L, error_tostring);
  lua_setfield(L, -2, "__tostring");
  /* 5.4 sets __name itself; 5.1 does not, and luaL_typename-style code and
   * users look for it. */
  lua_pushstring(L, BING_ERROR_MT);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}

/* Pushes a new error table. status 0 and a NULL code are left out. The
 * message must already be redacted. */
void bing_error_push(lua_State *L, const char *kind, long status, const char *code,
                     const char *message, int retryable) {
  lua_createtable(L, 0, 8);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  if (status) {
    lua_pushinteger(L, (lua_Integer)status);
    lua_setfield(L, -2, "status");
  }
  if (code) {
    lua_pushstring(L, code);
    lua_setfield(L, -2, "code");
  }
  lua_pushstring(L, message);
  lua_setfield(L, -2, "message");
  lua_pushboolean(L, retryable);
  lua_setfield(L, -2, "retryable");
  luaL_getmetatable(L, BING_ERROR_MT);
  lua_setmetatable(L, -2);
}

/* core.error(t) -> t, with the error metatable. kind is required (a typo
 * there would make an error no handler recognises); retryable defaults to
 * false so that it is always a boolean. */
int bing_l_error(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_getfield(L, 1, "kind");
  if (lua_type(L, -1) != LUA_TSTRING)
    return luaL_argerror(L, 1, "field 'kind' must be a string");
  lua_pop(L, 1);
  lua_getfield(L, 1, "retryable");
  if (lua_isnil(L, -1)) {
    lua_pushboolean(L, 0);
    lua_setfield(L, 1, "retryable");
  }
  lua_pop(L, 1);
  luaL_getmetatable(L, BING_ERROR_MT);
  lua_setmetatable(L, 1);
  return 1;
}

/* core.is_error(v) -> boolean */
int bing_l_is_error(lua_State *L) {
  int is = 0;
  if (lua_istable(L, 1) && lua_getmetatable(L, 1)) {
    luaL_getmetatable(L, BING_ERROR_MT);
    is = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  lua_pushboolean(L, is);
  return 1;
}
