-- busted output handler: busted's own TAP lines, then one closing line
-- "N passed, N failed[, N skipped]" that CI reads (errors count as failures).
return function(options)
  local busted = require "busted"
  local tap = require "busted.outputHandlers.TAP"(options)

  busted.subscribe({"suite", "end"}, function()
    local failed = #tap.failures + #tap.errors
    local line = string.format("%d passed, %d failed", #tap.successes, failed)
    if #tap.pendings > 0 then line = line .. string.format(", %d skipped", #tap.pendings) end
    io.write(line, "\n")
    io.flush()
    return nil, true
  end)
  return tap
end
