/**
 * @file webhook_receiver.h
 * @brief A customer's webhook endpoint for tests: a real libmicrohttpd server
 *        on a free loopback port that records every delivery, checks its
 *        Standard Webhooks signature against the secret it was given and its
 *        timestamp against the (test) clock, and answers scripted statuses.
 */
#ifndef DSR_WEBHOOK_RECEIVER_H
#define DSR_WEBHOOK_RECEIVER_H

#include <pthread.h>
#include <stdbool.h>

#define WH_MAX_HITS 16

/** One delivery as received. */
struct wh_hit {
  char id[80];
  long long ts;
  char signature[512];
  char *body; /**< owned by the receiver */
  bool sig_ok; /**< a signature matched the receiver's secret */
  bool ts_ok;  /**< timestamp within 5 minutes of dsr_now() */
  unsigned answered;
};

struct wh_receiver {
  void *daemon; /* struct MHD_Daemon */
  unsigned port;
  char url[80];
  char secret[128];
  unsigned script[WH_MAX_HITS]; /**< statuses for hit 0, 1, ...; 0 ends (then 200) */
  char retry_after[32];         /**< sent with every non-2xx answer when not empty */
  pthread_mutex_t lock;
  int nhits;
  struct wh_hit hits[WH_MAX_HITS];
  int nconns; /**< TCP connections accepted so far */
};

/** Starts a receiver answering @p script (0-terminated; NULL: always 200). */
void wh_start(struct wh_receiver *w, const unsigned *script);
void wh_stop(struct wh_receiver *w);
/** Number of deliveries so far. */
int wh_count(struct wh_receiver *w);
/** Number of TCP connections the deliveries came over so far. */
int wh_connections(struct wh_receiver *w);

#endif
