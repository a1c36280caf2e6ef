/* The floor of `make bench`: N sequential GETs of one URL over one reused libcurl easy
 * handle (so one kept-alive connection), each body collected into a buffer as a client
 * library must. Prints "wall cpu n": seconds of wall and of CPU (user + system, getrusage)
 * spent in the N measured requests, after one warm-up request that opens the connection.
 * Usage: curl_loop URL N */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct buf {
  char *p;
  size_t len, cap;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud) {
  struct buf *b = ud;
  size_t n = size * nmemb;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
      return 0;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, ptr, n);
  b->len += n;
  return n;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int get(CURL *h, struct buf *b) {
  long status = 0;
  b->len = 0;
  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    fprintf(stderr, "curl_loop: %s\n", curl_easy_strerror(rc));
    return 1;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200 || b->len == 0) {
    fprintf(stderr, "curl_loop: status %ld, %zu bytes\n", status, b->len);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: curl_loop URL N\n");
    return 2;
  }
  long n = strtol(argv[2], NULL, 10);
  struct buf b = {NULL, 0, 0};
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL *h = curl_easy_init();
  if (!h)
    return 1;
  curl_easy_setopt(h, CURLOPT_URL, argv[1]);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  if (get(h, &b))
    return 1;
  double w0 = now(), c0 = cpu();
  for (long i = 0; i < n; i++)
    if (get(h, &b))
      return 1;
  printf("%.6f %.6f %ld\n", now() - w0, cpu() - c0, n);
  curl_easy_cleanup(h);
  free(b.p);
  curl_global_cleanup();
  return 0;
}
