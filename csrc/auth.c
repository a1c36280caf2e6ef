/* Key redaction. Every URL or text the core shows (error messages, the
 * redacted URL of build_url) passes through here, so the Bing key never
 * reaches a message, a log line or debug output. */
#include <string.h>

#include "bing.h"

#define REDACTED "<redacted>"

/* Ends a key value: the query separator, whitespace, quotes, and the closing
 * brackets that surround a URL quoted in a message. Over-redacting is
 * harmless; leaking a key is not. A key encoded by build_url holds none of
 * these bytes. */
static int ends_value(unsigned char c) {
  return c <= 0x20 || c == 0x7f || c == '&' || c == '"' || c == '\'' || c == '#' || c == '<' ||
         c == '>' || c == ')' || c == ']' || c == '}';
}

static int lower(int c) {
  return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Bing reads parameter names case-insensitively, so "KEY=" is a key too. */
static int at_key_param(const char *s, size_t n, size_t i) {
  return n - i >= 4 && lower((unsigned char)s[i]) == 'k' && lower((unsigned char)s[i + 1]) == 'e' &&
         lower((unsigned char)s[i + 2]) == 'y' && s[i + 3] == '=';
}

static int redact_params(bing_buf *out, const char *s, size_t n) {
  size_t i = 0, j;
  while (i < n) {
    if (!at_key_param(s, n, i)) {
      bing_buf_addc(out, s[i++]);
      continue;
    }
    bing_buf_add(out, s + i, 4);
    i += 4;
    for (j = i; j < n && !ends_value((unsigned char)s[j]); j++)
      ;
    /* An empty value holds no secret; leaving it keeps redact idempotent,
     * since "key=<redacted>" has an empty value by the rule above. */
    if (j > i)
      bing_buf_add(out, REDACTED, sizeof REDACTED - 1);
    i = j;
  }
  return bing_buf_failed(out) ? -1 : 0;
}

static int replace_all(bing_buf *out, const char *s, size_t n, const char *needle, size_t nlen) {
  size_t i = 0;
  while (i < n) {
    if (n - i >= nlen && memcmp(s + i, needle, nlen) == 0) {
      bing_buf_add(out, REDACTED, sizeof REDACTED - 1);
      i += nlen;
    } else {
      bing_buf_addc(out, s[i++]);
    }
  }
  return bing_buf_failed(out) ? -1 : 0;
}

/* Below this length a "key" is no Bing key (those are 64 characters) and its literal
 * occurrences are ordinary text: redacting every "x" of a message for the key "x" would only
 * mangle it. key=<value> is redacted whatever its length. */
#define BING_REDACT_MIN_KEYLEN 8

/* Writes s with every key=<value> and every occurrence of key (as given and
 * percent-encoded) replaced by <redacted>. Returns -1 on out of memory. */
int bing_redact_into(bing_buf *out, const char *s, size_t n, const char *key, size_t keylen) {
  bing_buf a, enc;
  int rc = 0;

  if (!key || keylen < BING_REDACT_MIN_KEYLEN)
    return redact_params(out, s, n);
  bing_buf_init(&a, 0);
  bing_buf_init(&enc, 0);
  if (redact_params(&a, s, n) || bing_encode_into(&enc, key, keylen)) {
    rc = -1;
  } else if (enc.len != keylen || memcmp(enc.data, key, keylen) != 0) {
    bing_buf tmp;
    bing_buf_init(&tmp, 0);
    rc = replace_all(&tmp, a.data ? a.data : "", a.len, key, keylen);
    if (!rc)
      rc = replace_all(out, tmp.data ? tmp.data : "", tmp.len, enc.data, enc.len);
    bing_buf_free(&tmp);
  } else {
    rc = replace_all(out, a.data ? a.data : "", a.len, key, keylen);
  }
  bing_buf_free(&a);
  bing_buf_free(&enc);
  return rc;
}

void bing_push_redacted(lua_State *L, const char *s, size_t n, const char *key, size_t keylen) {
  bing_buf out;
  bing_buf_init(&out, 0);
  if (bing_redact_into(&out, s, n, key, keylen)) {
    bing_buf_free(&out);
    luaL_error(L, "not enough memory");
    return;
  }
  lua_pushlstring(L, out.data ? out.data : "", out.len);
  bing_buf_free(&out);
}

/* core.redact(text[, key]) */
int bing_l_redact(lua_State *L) {
  size_t n, keylen = 0;
  const char *s = luaL_checklstring(L, 1, &n);
  const char *key = luaL_optlstring(L, 2, NULL, &keylen);
  bing_push_redacted(L, s, n, key, keylen);
  return 1;
}
