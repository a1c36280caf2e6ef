/* What Lua 5.1 / LuaJIT lacks of the 5.2+ API, under private names (as
 * luasocket's compat.h does), so the rest of csrc/ is written for 5.4 only.
 * Nothing here is compiled for Lua >= 5.2. */
#ifndef BING_COMPAT_H
#define BING_COMPAT_H

#include <lauxlib.h>
#include <lua.h>

#if LUA_VERSION_NUM == 501

/* OpenResty's LuaJIT has luaL_setfuncs, plain Lua 5.1 does not: the private
 * copy serves both. */
static inline void bing_compat_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  int i;
  luaL_checkstack(L, nup, "too many upvalues");
  for (; l->name; l++) {
    for (i = 0; i < nup; i++)
      lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}
#undef luaL_setfuncs
#define luaL_setfuncs bing_compat_setfuncs

#ifndef luaL_newlib
#define luaL_newlib(L, l) (lua_newtable(L), luaL_setfuncs(L, l, 0))
#endif

static inline int bing_compat_absindex(lua_State *L, int i) {
  return (i > 0 || i <= LUA_REGISTRYINDEX) ? i : lua_gettop(L) + i + 1;
}
#define lua_absindex bing_compat_absindex

#define lua_rawlen(L, i) lua_objlen(L, i)

#ifndef LUA_OK
#define LUA_OK 0
#endif

#endif /* LUA_VERSION_NUM == 501 */

#endif
