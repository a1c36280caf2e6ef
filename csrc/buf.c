#include "buf.h"

#include <stdlib.h>
#include <string.h>

void bing_buf_init(bing_buf *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
  b->overflow = 0;
  b->oom = 0;
}

void bing_buf_free(bing_buf *b) {
  free(b->data);
  bing_buf_init(b, b->max);
}

/* Keeps the allocation so a reused handle does not realloc on every call. */
void bing_buf_reset(bing_buf *b) {
  b->len = 0;
  b->overflow = 0;
  b->oom = 0;
}

/* Returns 0 on success, -1 on overflow or out of memory. The flags stay set
 * until reset so a caller that ignores one return value still sees it. */
int bing_buf_reserve(bing_buf *b, size_t extra) {
  size_t need, cap;
  char *p;

  if (b->overflow || b->oom)
    return -1;
  if (extra > (size_t)-1 - b->len || (b->max && b->len + extra > b->max)) {
    b->overflow = 1;
    return -1;
  }
  need = b->len + extra;
  if (need <= b->cap)
    return 0;
  cap = b->cap ? b->cap : 256;
  while (cap < need)
    cap = cap > (size_t)-1 / 2 ? need : cap * 2;
  /* Growing by doubling may pass max; never allocate more than max needs. */
  if (b->max && cap > b->max)
    cap = b->max;
  p = realloc(b->data, cap);
  if (!p) {
    b->oom = 1;
    return -1;
  }
  b->data = p;
  b->cap = cap;
  return 0;
}

int bing_buf_add(bing_buf *b, const void *p, size_t n) {
  if (bing_buf_reserve(b, n))
    return -1;
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

int bing_buf_addstr(bing_buf *b, const char *s) {
  return bing_buf_add(b, s, strlen(s));
}

int bing_buf_addc(bing_buf *b, char c) {
  return bing_buf_add(b, &c, 1);
}

int bing_buf_failed(const bing_buf *b) {
  return b->overflow || b->oom;
}
