-- busted output handler: busted's own TAP lines, then one closing line
-- "N passed, N failed, N skipped" that CI reads (errors count as failures; the skipped count
-- is always written, so that a clean run says "0 skipped" rather than leaving it out).
return function(options)
  local busted = require "busted"
  local tap = require "busted.outputHandlers.TAP"(options)

  busted.subscribe({"suite", "end"}, function()
    local failed = #tap.failures + #tap.errors
    local line = string.format("%d passed, %d failed, %d skipped", #tap.successes, failed,
      #tap.pendings)
    io.write(line, "\n")
    io.flush()
    return nil, true
  end)
  return tap
end
