-- Text normalisation for matching place names: case-insensitive, accent-insensitive
-- (Latin-1 and Latin Extended-A letters fold to ASCII), punctuation-insensitive, and with
-- the usual street abbreviations made equal ("Avenue" = "Ave", "Saint" = "St").
-- Both the gazetteer and the queries go through the same functions, so they agree.
local _M = {_VERSION = "0.1.0"}

local char, floor = string.char, math.floor

-- U+00C0..U+017F -> ASCII
local LATIN1 = "AAAAAAACEEEEIIIIDNOOOOO OUUUUYTsaaaaaaaceeeeiiiidnooooo ouuuuyty"
local LATIN_EXT_A = "AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiJjJjKkkLlLlLlLlLl"
  .. "NnNnNnnNnOoOoOoOoRrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs"
local FOLD = {}
local function utf8_2(cp) return char(0xC0 + floor(cp / 64), 0x80 + cp % 64) end
for i = 1, #LATIN1 do FOLD[utf8_2(0xBF + i)] = LATIN1:sub(i, i) end
for i = 1, #LATIN_EXT_A do FOLD[utf8_2(0xFF + i)] = LATIN_EXT_A:sub(i, i) end
FOLD[utf8_2(0xDF)] = "ss" -- ß
FOLD[utf8_2(0xC6)], FOLD[utf8_2(0xE6)] = "AE", "ae"
FOLD[utf8_2(0x152)], FOLD[utf8_2(0x153)] = "OE", "oe"

-- Lower-case ASCII plus folded accents; other bytes pass through.
function _M.fold(s)
  return (s:gsub("[\195-\197][\128-\191]", FOLD):lower())
end

local SYNONYMS = {
  avenue = "ave", av = "ave", street = "st", road = "rd", boulevard = "blvd",
  parkway = "pkwy", drive = "dr", lane = "ln", place = "pl", court = "ct", square = "sq",
  highway = "hwy", terrace = "ter", circle = "cir", north = "n", south = "s", east = "e",
  west = "w", northeast = "ne", northwest = "nw", southeast = "se", southwest = "sw",
  saint = "st", sainte = "ste", mount = "mt", fort = "ft", county = "co", strasse = "str",
  centre = "center",
}

-- Words a query may contain without naming anything.
_M.STOPWORDS = {the = true, ["in"] = true, at = true, of = true, near = true, ["and"] = true}

function _M.norm_token(word)
  local t = _M.fold(word):gsub("[.']", "")
  return SYNONYMS[t] or t
end

-- Tokens of s: {t = normalised, s = first byte, e = last byte} (positions in s, so the
-- original text of a span can be cut out of the query).
function _M.tokens(s)
  local out = {}
  for first, word, after in s:gmatch("()([%w\128-\255.']+)()") do
    local t = _M.norm_token(word)
    if t ~= "" then out[#out + 1] = {t = t, s = first, e = after - 1} end
  end
  return out
end

-- Normalised words of s as an array of strings.
function _M.words(s)
  local out = {}
  for _, tok in ipairs(_M.tokens(s)) do out[#out + 1] = tok.t end
  return out
end

-- Normalised key of s: words joined by single spaces.
function _M.key(s) return table.concat(_M.words(s), " ") end

return _M
