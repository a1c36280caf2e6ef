/* libFuzzer target: core.decode, every kind of answer, every status class.
 * The first three bytes choose the status, the kind and the headers; the
 * rest is the body. Properties: decode never raises, a nil comes with an
 * error of the one shape whose tostring is one line without the key, a
 * success is a 2xx of the shape its kind promises, and no mark of jsonnum.c
 * is left in a decoded document. */
#include "harness.h"

static const char helpers[] =
    "local core = require 'bing.core'\n"
    "local KEY = 'FUZZKEY-0123456789'\n"
    "local KINDS = {'rest', 'odata', 'dataflow', 'bytes', 'text', 'json', true}\n"
    "local TYPES = {false, 'application/json', 'image/png', 'text/html', 'application/xml',\n"
    "  'text/plain'}\n"
    "local STATUSES = {200, 201, 202, 204, 206, 302, 400, 401, 403, 404, 408, 429, 500, 502,\n"
    "  503, 504}\n"
    "local function no_marks(v, depth, seen)\n"
    "  if type(v) == 'string' then\n"
    "    assert(not v:find('^%z[ns]'), 'a mark is left: ' .. v:sub(1, 40))\n"
    "  elseif type(v) == 'table' and not seen[v] and depth < 64 then\n"
    "    seen[v] = true\n"
    "    for _, x in pairs(v) do no_marks(x, depth + 1, seen) end\n"
    "  end\n"
    "end\n"
    "return {decode = function(body, b0, b1, b2)\n"
    "  local status = STATUSES[b0 % #STATUSES + 1]\n"
    "  if b0 >= 240 then status = 100 + (b0 * 7 + b2) % 900 end\n"
    "  local kind = KINDS[b1 % 7 + 1]\n"
    "  local h = {['content-type'] = TYPES[(b1 // 16) % 6 + 1] or nil}\n"
    "  if b1 & 8 ~= 0 then h['x-ms-bm-ws-info'] = '1' end\n"
    "  if b2 & 1 ~= 0 then h['retry-after'] = tostring(b2) end\n"
    "  local ok, doc, err = pcall(core.decode, status, h, body, kind, KEY)\n"
    "  assert(ok, 'core.decode raised: ' .. tostring(doc))\n"
    "  if doc == nil then\n"
    "    assert(core.is_error(err), 'nil without an error')\n"
    "    assert(type(err.kind) == 'string' and type(err.message) == 'string', 'error shape')\n"
    "    assert(type(err.retryable) == 'boolean', 'retryable')\n"
    "    local line = tostring(err)\n"
    "    assert(not line:find('%c'), 'tostring is not one line: ' .. line)\n"
    "    for _, k in ipairs({'message', 'code', 'trace_id'}) do\n"
    "      assert(not tostring(err[k]):find(KEY, 1, true), 'the key in err.' .. k)\n"
    "    end\n"
    "    for _, d in ipairs(type(err.details) == 'table' and err.details or {}) do\n"
    "      assert(not tostring(d):find(KEY, 1, true), 'the key in err.details')\n"
    "    end\n"
    "    -- an escape may end in a letter that joins what follows (\\x7F + UZZKEY...): the\n"
    "    -- escapes stand for bytes the key never holds\n"
    "    local plain = line:gsub('\\\\x%x%x', ' '):gsub('\\\\[rnt]', ' ')\n"
    "    assert(not plain:find(KEY, 1, true), 'the key in ' .. line)\n"
    "    return\n"
    "  end\n"
    "  assert(status >= 200 and status < 300, 'a success for HTTP ' .. status)\n"
    "  if kind == 'bytes' then\n"
    "    assert(type(doc) == 'table' and doc.bytes == body, 'bytes')\n"
    "  elseif kind == 'text' or kind == true then\n"
    "    assert(doc == body, 'text')\n"
    "  elseif kind ~= 'json' then\n"
    "    assert(type(doc) == 'table', 'a ' .. kind .. ' answer is a table')\n"
    "  end\n"
    "  -- a string the service sent may start so; a mark of our own may not\n"
    "  if type(doc) == 'table' and kind ~= 'bytes' and not body:find('\\\\u0000', 1, true) then "
    "no_marks(doc, 0, {}) end\n"
    "end}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_state(helpers);
  if (size < 3)
    return 0;
  lua_pushlstring(L, (const char *)data + 3, size - 3);
  lua_pushinteger(L, data[0]);
  lua_pushinteger(L, data[1]);
  lua_pushinteger(L, data[2]);
  fuzz_call(L, "decode", 4);
  fuzz_done(L);
  return 0;
}
