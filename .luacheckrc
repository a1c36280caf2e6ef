std = "max"
max_line_length = 110
files["spec"] = {std = "+busted"}
files["sim/lua"] = {std = "ngx_lua"}
files["examples/openresty"] = {std = "ngx_lua"}
files["spec/support/ngx_harness.lua"] = {std = "ngx_lua"}
files["spec/support/ngx_batch_harness.lua"] = {std = "ngx_lua"}
exclude_files = {"build", ".luarocks", "tmp"}
