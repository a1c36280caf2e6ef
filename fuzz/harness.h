/* What every libFuzzer target of fuzz/ shares: one Lua state with bing.core
 * preloaded (and lua-cjson from the system), made once and kept, since a
 * state per input would spend the time on luaL_openlibs. A finding aborts
 * with a message: ASan and UBSan report theirs, FUZZ_CHECK reports a broken
 * property. */
#ifndef BING_FUZZ_HARNESS_H
#define BING_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_bing_core(lua_State *L);

#define FUZZ_CHECK(cond, what)                                                                     \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "fuzz: property broken: %s (%s:%d)\n", what, __FILE__, __LINE__);            \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

static lua_State *fuzz_L;

/* The state, with bing.core loaded and the Lua helpers of the target (a chunk
 * returning a table of functions) at the registry key "fuzz". */
static lua_State *fuzz_state(const char *helpers) {
  if (fuzz_L)
    return fuzz_L;
  fuzz_L = luaL_newstate();
  FUZZ_CHECK(fuzz_L != NULL, "lua state");
  luaL_openlibs(fuzz_L);
  luaL_requiref(fuzz_L, "bing.core", luaopen_bing_core, 0);
  lua_pop(fuzz_L, 1);
  if (luaL_dostring(fuzz_L, helpers ? helpers : "return {}") != LUA_OK) {
    fprintf(stderr, "fuzz: helpers: %s\n", lua_tostring(fuzz_L, -1));
    abort();
  }
  lua_setfield(fuzz_L, LUA_REGISTRYINDEX, "fuzz");
  return fuzz_L;
}

/* Calls helper name with the nargs values on the stack under pcall; an error
 * raised by it is a finding (its message says which property broke). */
static void fuzz_call(lua_State *L, const char *name, int nargs) {
  lua_getfield(L, LUA_REGISTRYINDEX, "fuzz");
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  lua_insert(L, -(nargs + 1));
  if (lua_pcall(L, nargs, 0, 0) != LUA_OK) {
    fprintf(stderr, "fuzz: %s: %s\n", name, lua_tostring(L, -1));
    abort();
  }
}

/* Keeps the state small between inputs: the corpus is long-running. */
static void fuzz_done(lua_State *L) {
  static unsigned runs;
  lua_settop(L, 0);
  if (++runs % 256 == 0)
    lua_gc(L, LUA_GCCOLLECT, 0);
}

#endif
