/* libFuzzer target: the URL builder (core.build_url) and the percent-encoder
 * (core.encode, bing_encode_into). The input is split at NUL bytes into a
 * path, segments, name=value parameters and a key. Properties: building
 * either succeeds or raises an argument error (never a crash), the URL holds
 * only URL bytes, its encoded values decode back to the input, the key goes
 * out encoded and the redacted URL never holds it. */
#include <string.h>

#include "../csrc/bing.h"
#include "harness.h"

static const char helpers[] =
    "local core = require 'bing.core'\n"
    "local function unescape(s)\n"
    "  return (s:gsub('%%(%x%x)', function(h) return string.char(tonumber(h, 16)) end))\n"
    "end\n"
    "return {build = function(parts)\n"
    "  local path, key = parts[1] or '', #parts > 1 and parts[#parts] or nil\n"
    "  -- the key's text elsewhere (in the path, a value) is no key to hide there\n"
    "  -- a key as Bing issues them (letters, digits, - and _) that is not part of our own text\n"
    "  local secret = key and #key >= 8 and key:find('^[%w_%-]+$') and\n"
    "    not ('https://dev.virtualearth.net key=<redacted>'):find(key, 1, true) and\n"
    "    not key:find('^%d+$')\n"
    "  for i = 1, #parts - 1 do\n"
    "    -- as sent: an escape's hex digit may join what follows (%D3 + YYY...)\n"
    "    local p = parts[i]\n"
    "    if secret and (p:find(key, 1, true) or core.encode(p):find(key, 1, true)) then\n"
    "      secret = false\n"
    "    end\n"
    "  end\n"
    "  local segments, params = {}, {}\n"
    "  for i = 2, #parts - (key and 1 or 0) do\n"
    "    local p = parts[i]\n"
    "    local name, value = p:match('^([%w_%$%.]+)=(.*)$')\n"
    "    if name then\n"
    "      local n = tonumber(value)\n"
    "      params[#params + 1] = {name, (i % 3 == 0 and n) or value}\n"
    "    else\n"
    "      segments[#segments + 1] = p\n"
    "    end\n"
    "  end\n"
    "  local ok, url, shown = pcall(core.build_url, 'https://dev.virtualearth.net', path,\n"
    "    segments, params, key)\n"
    "  if not ok then\n"
    "    assert(type(url) == 'string', 'a raise that is not a message')\n"
    "    assert(not secret or not url:find(key, 1, true), 'the key in a raise')\n"
    "    return\n"
    "  end\n"
    "  assert(not url:find('[%c%s\\127-\\255]'), 'a byte that is no URL byte: ' .. url)\n"
    "  local query = url:match('%?(.*)$') or ''\n"
    "  assert(not query:find('[^%w%-%._~%%,=&%$]'), 'a query byte left as is: ' .. url)\n"
    "  local rest = url:match('^https://dev%.virtualearth%.net(.*)$')\n"
    "  assert(rest and (rest == '' or rest:find('^[/?]')), 'the base: ' .. url)\n"
    "  if secret then\n"
    "    assert(not shown:find(key, 1, true), 'the key in the redacted URL')\n"
    "    assert(not shown:find(core.encode(key), 1, true), 'the encoded key in the redacted URL')\n"
    "  end\n"
    "  local q = url:match('%?(.*)$') or ''\n"
    "  local i = 0\n"
    "  for pair in q:gmatch('[^&]+') do\n"
    "    local n, v = pair:match('^([^=]*)=(.*)$')\n"
    "    if n and n:lower() ~= 'key' then\n"
    "      i = i + 1\n"
    "      local want = params[i] and params[i][2]\n"
    "      if type(want) == 'string' then\n"
    "        assert(unescape(v) == want, 'value does not decode back: ' .. pair)\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  local e = core.encode(path)\n"
    "  assert(unescape(e) == path and not e:find('[^%w%-%._~%%,]'), 'encode: ' .. e)\n"
    "end}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_state(helpers);
  size_t i, start = 0;
  int n = 0;
  bing_buf b;

  /* The C encoder alone: every byte becomes 1 or 3 bytes. */
  bing_buf_init(&b, 0);
  FUZZ_CHECK(bing_encode_into(&b, (const char *)data, size) == 0, "encode");
  FUZZ_CHECK(b.len >= size && b.len <= 3 * size, "encoded length");
  bing_buf_free(&b);

  lua_createtable(L, 8, 0);
  for (i = 0; i <= size && n < 64; i++) {
    if (i == size || data[i] == 0) {
      lua_pushlstring(L, (const char *)data + start, i - start);
      lua_rawseti(L, -2, ++n);
      start = i + 1;
    }
  }
  fuzz_call(L, "build", 1);
  fuzz_done(L);
  return 0;
}
