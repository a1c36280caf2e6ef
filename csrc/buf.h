/* Growable byte buffer for the curl callbacks and the string builders.
 *
 * It makes no Lua API call, so it is safe inside a libcurl callback: a
 * failure is reported by the return value and the sticky flags, never by a
 * longjmp. The owner frees it before raising (as lua-cjson's strbuf). */
#ifndef BING_BUF_H
#define BING_BUF_H

#include <stddef.h>

typedef struct bing_buf {
  char *data;
  size_t len;
  size_t cap;
  size_t max;   /* 0: unlimited; else appends past max fail and set overflow */
  int overflow; /* an append would have passed max */
  int oom;      /* realloc failed */
} bing_buf;

void bing_buf_init(bing_buf *b, size_t max);
void bing_buf_free(bing_buf *b);
void bing_buf_reset(bing_buf *b);
int bing_buf_reserve(bing_buf *b, size_t extra);
int bing_buf_add(bing_buf *b, const void *p, size_t n);
int bing_buf_addstr(bing_buf *b, const char *s);
int bing_buf_addc(bing_buf *b, char c);
int bing_buf_failed(const bing_buf *b);

#endif
