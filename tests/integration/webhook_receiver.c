/** @file webhook_receiver.c @brief Test webhook endpoints (see webhook_receiver.h). */
#include "webhook_receiver.h"
#include "harness.h"
#include "dsr/util.h"
#include "dsr/webhook.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct upload {
  struct dsr_buf body;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **con_cls)
{
  (void)url;
  (void)method;
  (void)version;
  struct wh_receiver *w = cls;
  struct upload *u = *con_cls;
  if (!u) {
    u = calloc(1, sizeof *u);
    *con_cls = u;
    return u ? MHD_YES : MHD_NO;
  }
  if (*size) {
    if (!dsr_buf_append(&u->body, data, *size))
      return MHD_NO;
    *size = 0;
    return MHD_YES;
  }
  const char *id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-id");
  const char *ts = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-timestamp");
  const char *sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-signature");
  unsigned status = 200;
  pthread_mutex_lock(&w->lock);
  if (w->nhits < WH_MAX_HITS) {
    struct wh_hit *h = &w->hits[w->nhits];
    snprintf(h->id, sizeof h->id, "%s", id ? id : "");
    h->ts = ts ? atoll(ts) : 0;
    snprintf(h->signature, sizeof h->signature, "%s", sig ? sig : "");
    h->body = strdup(u->body.data ? u->body.data : "");
    h->sig_ok = id && ts && h->body &&
                dsr_webhook_verify(w->secret, id, h->ts, h->body, strlen(h->body), sig);
    long long skew = (long long)dsr_now() - h->ts;
    h->ts_ok = ts && skew >= -300 && skew <= 300;
    if (w->script[w->nhits])
      status = w->script[w->nhits];
    h->answered = status;
    w->nhits++;
  }
  pthread_mutex_unlock(&w->lock);
  struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
  if (resp && w->retry_after[0] && (status < 200 || status > 299))
    MHD_add_response_header(resp, "Retry-After", w->retry_after);
  enum MHD_Result ret = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return ret;
}

static void done(void *cls, struct MHD_Connection *conn, void **con_cls,
                 enum MHD_RequestTerminationCode toe)
{
  (void)cls;
  (void)conn;
  (void)toe;
  struct upload *u = *con_cls;
  if (u) {
    dsr_buf_free(&u->body);
    free(u);
  }
  *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
  (void)conn;
  (void)socket_ctx;
  struct wh_receiver *w = cls;
  if (code != MHD_CONNECTION_NOTIFY_STARTED)
    return;
  pthread_mutex_lock(&w->lock);
  w->nconns++;
  pthread_mutex_unlock(&w->lock);
}

int wh_connections(struct wh_receiver *w)
{
  pthread_mutex_lock(&w->lock);
  int n = w->nconns;
  pthread_mutex_unlock(&w->lock);
  return n;
}

void wh_start(struct wh_receiver *w, const unsigned *script)
{
  memset(w, 0, sizeof *w);
  pthread_mutex_init(&w->lock, NULL);
  for (int i = 0; script && script[i] && i < WH_MAX_HITS; i++)
    w->script[i] = script[i];
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, w, MHD_OPTION_SOCK_ADDR,
      (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, done, NULL,
      MHD_OPTION_NOTIFY_CONNECTION, on_connection, w, MHD_OPTION_END);
  H_REQUIRE(d != NULL, "cannot start a webhook receiver");
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  H_REQUIRE(info && info->port, "receiver has no port");
  w->daemon = d;
  w->port = info->port;
  snprintf(w->url, sizeof w->url, "http://127.0.0.1:%u/hooks/dsr", w->port);
}

void wh_stop(struct wh_receiver *w)
{
  if (w->daemon)
    MHD_stop_daemon(w->daemon);
  for (int i = 0; i < w->nhits; i++)
    free(w->hits[i].body);
  pthread_mutex_destroy(&w->lock);
  memset(w, 0, sizeof *w);
}

int wh_count(struct wh_receiver *w)
{
  pthread_mutex_lock(&w->lock);
  int n = w->nhits;
  pthread_mutex_unlock(&w->lock);
  return n;
}
