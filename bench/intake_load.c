/**
 * @file intake_load.c
 * @brief Rough intake throughput: T threads POST /v1/requests N times each over
 *        keep-alive connections and report requests per second.
 *        cc -O2 -o intake_load bench/intake_load.c -lcurl -lpthread
 *        ./intake_load http://127.0.0.1:8080 16 200
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *base;
static int per_thread;

static size_t sink(char *p, size_t s, size_t n, void *u)
{
  (void)p;
  (void)u;
  return s * n;
}

static void *worker(void *arg)
{
  long *failed = arg;
  char url[256], body[200];
  snprintf(url, sizeof url, "%s/v1/requests", base);
  CURL *c = curl_easy_init();
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
  for (int i = 0; i < per_thread; i++) {
    snprintf(body, sizeof body,
             "{\"type\":\"erasure\",\"subject\":{\"email\":\"load%d.%p@example.com\"}}", i,
             (void *)&i);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long code = 0;
    if (curl_easy_perform(c) != CURLE_OK ||
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 202)
      (*failed)++;
  }
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return NULL;
}

int main(int argc, char **argv)
{
  if (argc != 4) {
    fprintf(stderr, "usage: intake_load BASE_URL THREADS PER_THREAD\n");
    return 2;
  }
  base = argv[1];
  int threads = atoi(argv[2]);
  per_thread = atoi(argv[3]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  pthread_t *t = calloc((size_t)threads, sizeof *t);
  long *failed = calloc((size_t)threads, sizeof *failed);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < threads; i++)
    pthread_create(&t[i], NULL, worker, &failed[i]);
  long fails = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(t[i], NULL);
    fails += failed[i];
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  long total = (long)threads * per_thread;
  printf("requests=%ld failed=%ld seconds=%.2f rate=%.1f/s\n", total, fails, s, (double)total / s);
  free(t);
  free(failed);
  curl_global_cleanup();
  return fails ? 1 : 0;
}
