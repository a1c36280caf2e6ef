/* bing.core: the C core of lua-bing. Transport (http.c), URL building
 * (url.c), redaction (auth.c), decoding (decode.c) and the error shape
 * (error.c) are registered here; the Lua modules in lua/bing/ sit on top. */
#include <curl/curl.h>

#include "bing.h"

static int curl_ready = 0;

#if defined(_WIN32)
#define BING_EXPORT __declspec(dllexport)
#else
#define BING_EXPORT __attribute__((visibility("default")))
#endif

BING_EXPORT int luaopen_bing_core(lua_State *L);

int luaopen_bing_core(lua_State *L) {
  static const luaL_Reg funcs[] = {{"encode", bing_l_encode},
                                   {"build_url", bing_l_build_url},
                                   {"redact", bing_l_redact},
                                   {"error", bing_l_error},
                                   {"is_error", bing_l_is_error},
                                   {"decode", bing_l_decode},
                                   {"integer_fields", bing_l_integer_fields},
                                   {"http", bing_l_http},
                                   {"now", bing_l_now},
                                   {"sleep", bing_l_sleep},
                                   {NULL, NULL}};

  /* Once per process, never cleaned up: other modules in the same process
   * may use libcurl too, and the module may be loaded by several states. */
  if (!curl_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      return luaL_error(L, "bing.core: curl_global_init failed");
    curl_ready = 1;
  }

  bing_error_open(L);
  bing_http_open(L);
  bing_decode_open(L);

  luaL_newlib(L, funcs);
  bing_points_open(L);
  bing_tiles_open(L);
  lua_pushliteral(L, BING_VERSION);
  lua_setfield(L, -2, "VERSION");
  lua_pushstring(L, curl_version_info(CURLVERSION_NOW)->version);
  lua_setfield(L, -2, "curl_version");
  return 1;
}
