/* Monotonic time and sleeping, for the retry backoff and the rate limiter.
 * Plain Lua has neither (os.clock is CPU time, os.time has 1 s resolution). */
#include <errno.h>
#include <time.h>

#include "bing.h"

/* core.now() -> seconds (float) on a monotonic clock: immune to wall-clock steps. */
int bing_l_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

/* core.sleep(seconds): sleeps the whole interval even when signals interrupt it. */
int bing_l_sleep(lua_State *L) {
  lua_Number s = luaL_checknumber(L, 1);
  struct timespec req;
  if (!(s > 0)) /* also rejects NaN */
    return 0;
  if (s > 86400.0)
    return luaL_argerror(L, 1, "sleep longer than a day");
  req.tv_sec = (time_t)s;
  req.tv_nsec = (long)((s - (lua_Number)req.tv_sec) * 1e9);
  if (req.tv_nsec > 999999999L)
    req.tv_nsec = 999999999L;
  while (nanosleep(&req, &req) != 0 && errno == EINTR) {
  }
  return 0;
}
