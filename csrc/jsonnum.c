/* Exact integers through lua-cjson.
 *
 * lua-cjson (Debian 12: 2.1.0) reads every JSON number with strtod and has
 * no option to do otherwise, so 18558549332008001 (a traffic incidentId)
 * becomes 18558549332008000 before the core sees it, and an integer sent as
 * 700 cannot be told from 700.0. Rather than a JSON parser of our own, this
 * file scans the text once and rewrites the integer literals that must stay
 * exact into marked strings, "\u0000n<digits>", which cjson decodes like any
 * string; decode.c then turns each marked string back into a number (a Lua
 * integer under 5.3+, the digits under LuaJIT/5.1 when a double cannot hold
 * them). A value string that itself starts with U+0000 gets the mark
 * "\u0000s" in front, so no string the service sent can pass for a number.
 *
 * The scanner keeps cjson's meaning: it only rewrites a literal where cjson
 * expects a value (after ':' in an object, after '[' or ',' in an array),
 * never a key, never inside a string, never at the top level, and never
 * deeper than BING_MARK_DEPTH, where decode.c stops walking. Replacing one
 * value by another at a value position cannot make bad JSON good or good
 * JSON bad, so cjson still accepts and refuses exactly what it did. The
 * scanner makes no Lua API call (it is fuzzed alone: fuzz/fuzz_bigint.c). */
#include <string.h>

#include "bing.h"

#define TWO53 9007199254740992ULL
#define INT64_MAGNITUDE 9223372036854775808ULL /* -2^63 */

static int is_ws(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The bytes strtod might take as part of a number or a bare word (true,
 * null, Infinity, 0x1F): the whole run is judged as one token. */
static int is_word(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
         c == '+' || c == '-';
}

int bing_json_integer(const char *s, size_t n, unsigned long long *mag, int *neg) {
  unsigned long long m = 0;
  size_t i = 0;

  *neg = 0;
  if (n > 0 && s[0] == '-') {
    *neg = 1;
    i = 1;
  }
  if (i == n || n - i > 19)
    return 0;
  /* JSON has no leading zeros; cjson takes "012" as an invalid number. */
  if (s[i] == '0' && n - i > 1)
    return 0;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
    m = m * 10 + (unsigned long long)(s[i] - '0'); /* 19 digits cannot wrap */
  }
  if (m > (*neg ? INT64_MAGNITUDE : INT64_MAGNITUDE - 1))
    return 0;
  *mag = m;
  return 1;
}

/* Copies s[from, to) to out. */
static void copy(bing_buf *out, const char *s, size_t from, size_t to) {
  if (to > from)
    bing_buf_add(out, s + from, to - from);
}

int bing_json_mark(const char *s, size_t n, int all, bing_buf *out) {
  /* 1 for an object, 0 for an array, per depth up to BING_MARK_DEPTH. */
  unsigned char object[BING_MARK_DEPTH + 1];
  size_t i = 0, done = 0, depth = 0;
  unsigned char prev = 0; /* the last significant byte outside strings */
  int marks = 0;

  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    int at_value = depth > 0 && depth <= BING_MARK_DEPTH &&
                   (object[depth] ? prev == ':' : (prev == '[' || prev == ','));

    if (is_ws(c)) {
      i++;
    } else if (c == '"') {
      size_t start = i++;
      while (i < n && s[i] != '"')
        i += (s[i] == '\\') ? 2 : 1;
      if (i >= n)
        break; /* unterminated: cjson refuses it whatever we do */
      i++;
      if (at_value && i - start >= 8 && memcmp(s + start + 1, "\\u0000", 6) == 0) {
        copy(out, s, done, start + 1);
        bing_buf_add(out, "\\u0000s", 7);
        done = start + 1;
        marks++;
      }
      prev = 'v';
    } else if (is_word(c)) {
      size_t start = i;
      unsigned long long mag;
      int neg;
      while (i < n && is_word((unsigned char)s[i]))
        i++;
      /* "-0" stays a float: an integer 0 would lose its sign. */
      if (at_value && bing_json_integer(s + start, i - start, &mag, &neg) &&
          (all ? !(neg && mag == 0) : mag > TWO53)) {
        copy(out, s, done, start);
        bing_buf_add(out, "\"\\u0000n", 8);
        copy(out, s, start, i);
        bing_buf_addc(out, '"');
        done = i;
        marks++;
      }
      prev = 'v';
    } else {
      if (c == '{' || c == '[') {
        depth++;
        if (depth <= BING_MARK_DEPTH)
          object[depth] = c == '{';
      } else if ((c == '}' || c == ']') && depth > 0) {
        depth--;
      }
      prev = c;
      i++;
    }
  }
  if (marks)
    copy(out, s, done, n);
  return bing_buf_failed(out) ? -1 : marks;
}
