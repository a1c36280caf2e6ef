/* libFuzzer target: the integer scanner of csrc/jsonnum.c, alone and against
 * lua-cjson. Alone: marking never reads or writes out of bounds, a text with
 * no mark is left untouched, and the marked text is no shorter. Against
 * cjson: core.decode(kind json) accepts exactly what cjson.safe accepts, and
 * gives the same document but for numbers, where an integer must be the
 * literal cjson rounded (equal as doubles) and exact where cjson's is not. */
#include <string.h>

#include "../csrc/bing.h"
#include "harness.h"

static const char helpers[] =
    "local core = require 'bing.core'\n"
    "local cjson = require('cjson.safe').new()\n"
    "local mtype = math.type or function() return 'float' end\n"
    "local function same(a, b, depth)\n"
    "  if depth > 60 then return true end\n"
    "  if type(a) == 'number' and type(b) == 'number' then\n"
    "    if a ~= a then return b ~= b end\n"
    "    if mtype(a) == 'integer' then return a + 0.0 == b end\n"
    "    return a == b\n"
    "  end\n"
    "  if type(a) == 'string' and type(b) == 'number' then\n"
    "    return a:find('^%-?%d+$') and tonumber(a) == b\n"
    "  end\n"
    "  if type(a) ~= type(b) then return false end\n"
    "  if type(a) ~= 'table' then return a == b end\n"
    "  for k, v in pairs(a) do if not same(v, b[k], depth + 1) then return false end end\n"
    "  for k in pairs(b) do if a[k] == nil then return false end end\n"
    "  return true\n"
    "end\n"
    "return {compare = function(body)\n"
    "  -- the core skips a UTF-8 byte order mark, which cjson refuses\n"
    "  local ref = cjson.decode((body:gsub('^\\239\\187\\191', '')))\n"
    "  local ok, doc = pcall(core.decode, 200, {}, body, 'json')\n"
    "  assert(ok, 'core.decode raised: ' .. tostring(doc))\n"
    "  assert((ref == nil) == (doc == nil), 'cjson and the core disagree on validity')\n"
    "  if ref ~= nil then assert(same(doc, ref, 0), 'documents differ') end\n"
    "end}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_state(helpers);
  bing_buf out;
  int marks;

  bing_buf_init(&out, 0);
  marks = bing_json_mark((const char *)data, size, size > 0 && (data[0] & 1), &out);
  FUZZ_CHECK(marks >= 0, "out of memory");
  FUZZ_CHECK(marks > 0 || out.len == 0, "output without a mark");
  FUZZ_CHECK(marks == 0 || out.len > size, "marked text not longer");
  bing_buf_free(&out);

  lua_pushlstring(L, (const char *)data, size);
  fuzz_call(L, "compare", 1);
  fuzz_done(L);
  return 0;
}
