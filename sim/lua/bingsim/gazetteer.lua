local _M = {}
function _M.load() end
return _M
