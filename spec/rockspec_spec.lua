-- The rockspec must ship every module of the tree, or `luarocks make` installs a broken rock.
describe("rockspec/bing-maps-scm-1.rockspec", function()
  local function load_rockspec()
    local env = {}
    local chunk = assert(loadfile("rockspec/bing-maps-scm-1.rockspec", "t", env))
    chunk()
    return env
  end

  it("lists every .lua file under lua/ and every csrc/*.c file", function()
    local spec = load_rockspec()
    local modules = spec.build.modules
    local p = assert(io.popen("find lua -name '*.lua' | sort; ls csrc/*.c"))
    local missing = {}
    local sources = {}
    for _, src in ipairs(modules["bing.core"].sources) do sources[src] = true end
    for path in p:lines() do
      local mod = path:match("^lua/(.+)%.lua$")
      if mod then
        local name = mod:gsub("/init$", ""):gsub("/", ".")
        if modules[name] ~= path then missing[#missing + 1] = name end
      elseif not sources[path] then
        missing[#missing + 1] = path
      end
    end
    p:close()
    assert.same({}, missing)
    -- and nothing it lists is gone (a module moved, the rockspec not updated)
    local gone = {}
    for name, path in pairs(modules) do
      local f = type(path) == "string" and io.open(path)
      if f then f:close() elseif type(path) == "string" then gone[#gone + 1] = name end
    end
    assert.same({}, gone)
  end)
end)
