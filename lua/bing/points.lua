--- Bing's point compression: a list of {lat, lon} as a short string and back.
--
-- The algorithm of the Elevations API's "Point Compression Algorithm" page: coordinates at five
-- decimals (1e-5 degree, about a metre), so `decode(encode(list))` gives every coordinate
-- rounded to five decimals, exactly. The Spatial Data Services' Geodata answers carry their
-- polygon rings in the same compression: `decode_shape` reads a Primitive's `Shape`.
--
-- The work is done in C (csrc/points.c). These are the C functions themselves, not wrappers;
-- an `argument` error names the file and line of the user's call (`err.where`).
-- @module bing.points
local core = require "bing.core"
-- Loaded so that the C functions raise through errors.raise (the user's file:line).
require "bing.errors"

local _M = {}

--- `encode({{lat, lon}, ...})` -> string. Latitudes -90..90, longitudes -180..180, rounded to
-- five decimals as the page's JavaScript rounds them; an empty list gives "". Anything else
-- (a non-table, a point that is not a {lat, lon} of numbers, NaN, a coordinate out of range)
-- raises an `argument` error.
_M.encode = core.points.encode

--- `decode(str)` -> `{{lat, lon}, ...}`. Safe on any bytes: a character outside the alphabet,
-- a value cut short, a value too long or a latitude leaving -90..90 raises an `argument`
-- error saying at which offset. Longitudes that other encoders wrapped across the antimeridian
-- come back within -180..180.
_M.decode = core.points.decode

--- `decode_shape(shape)` -> `{ring, ...}, version`: a Geodata Primitive's `Shape` ("1,<ring>,
-- <ring>...", each ring a compressed list, closed as the service sends it). A malformed shape
-- comes from the service, so it returns `nil, err` with kind `decode`; only a non-string
-- argument raises.
_M.decode_shape = core.points.decode_shape

--- The 64 characters of the compression, in value order.
_M.ALPHABET = core.points.ALPHABET

return _M
