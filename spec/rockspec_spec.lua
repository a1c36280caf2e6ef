-- The rockspec must ship every module of the tree, or `luarocks make` installs a broken rock.
describe("rockspec/bing-maps-scm-1.rockspec", function()
  local function load_rockspec()
    local env = {}
    local chunk = assert(loadfile("rockspec/bing-maps-scm-1.rockspec", "t", env))
    chunk()
    return env
  end

  it("lists every lua/bing module and every csrc/*.c file", function()
    local spec = load_rockspec()
    local modules = spec.build.modules
    local p = assert(io.popen("ls lua/bing/*.lua csrc/*.c"))
    local missing = {}
    local sources = {}
    for _, src in ipairs(modules["bing.core"].sources) do sources[src] = true end
    for path in p:lines() do
      local mod = path:match("^lua/bing/(.+)%.lua$")
      if mod then
        local name = mod == "init" and "bing" or "bing." .. mod
        if modules[name] ~= path then missing[#missing + 1] = name end
      elseif not sources[path] then
        missing[#missing + 1] = path
      end
    end
    p:close()
    assert.same({}, missing)
  end)
end)
