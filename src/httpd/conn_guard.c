/**
 * @file conn_guard.c
 * @brief Deadlines for slow clients (see conn_guard.h).
 *
 * libmicrohttpd's own connection timeout restarts on every byte, so a client
 * that sends one byte every few seconds holds its connection for ever. The
 * guard tracks each connection from libmicrohttpd's connection notifications
 * and a thread checks the deadlines four times a second; a connection past
 * one is shut down (shutdown(2)), which libmicrohttpd sees as the peer
 * leaving and cleans up in its own thread.
 *
 * The socket of a tracked connection stays open while it is tracked:
 * libmicrohttpd reports a connection closed before it closes its socket, and
 * that report takes the guard's lock, so the thread never shuts down a
 * descriptor that was reused.
 */
#include "config.h"
#include "conn_guard.h"
#include "dsr/log.h"
#include "dsr/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

/** One tracked connection (libmicrohttpd's socket context). */
struct guard_conn {
  struct guard_conn *prev, *next;
  int fd;
  double since_ms;   /**< start of the current request: connect, or the end of the last one */
  bool headers_done; /**< the dispatcher has the current request's headers */
  bool body_done;    /**< ... and its whole body: no deadline until it is answered */
  bool cut;          /**< already shut down */
};

struct dsr_conn_guard {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  struct guard_conn head; /* circular list sentinel */
  double header_ms, request_ms;
  bool stop;
  pthread_t thread;
  bool started;
  atomic_long cut_headers, cut_requests;
};

static void *watch(void *arg)
{
  struct dsr_conn_guard *g = arg;
  pthread_mutex_lock(&g->lock);
  while (!g->stop) {
    double now = dsr_mono_ms();
    for (struct guard_conn *c = g->head.next; c != &g->head; c = c->next) {
      if (c->cut || c->body_done)
        continue;
      double age = now - c->since_ms;
      bool late = c->headers_done ? age > g->request_ms
                                  : age > g->header_ms || age > g->request_ms;
      if (!late)
        continue;
      c->cut = true;
      if (c->headers_done)
        atomic_fetch_add(&g->cut_requests, 1);
      else
        atomic_fetch_add(&g->cut_headers, 1);
      DSR_INFO("http.deadline", "phase=%s ms=%.0f", c->headers_done ? "body" : "headers", age);
      (void)shutdown(c->fd, SHUT_RDWR);
    }
    /* Access lines held by dsr_log_later() go out within a quarter second (not under our lock). */
    pthread_mutex_unlock(&g->lock);
    dsr_log_flush();
    pthread_mutex_lock(&g->lock);
    if (g->stop)
      break;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 250 * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    (void)pthread_cond_timedwait(&g->wake, &g->lock, &until);
  }
  pthread_mutex_unlock(&g->lock);
  return NULL;
}

struct dsr_conn_guard *dsr_conn_guard_start(long header_timeout_s, long request_timeout_s)
{
  struct dsr_conn_guard *g = calloc(1, sizeof *g);
  if (!g)
    return NULL;
  pthread_mutex_init(&g->lock, NULL);
  pthread_cond_init(&g->wake, NULL);
  g->head.next = g->head.prev = &g->head;
  g->header_ms = (double)header_timeout_s * 1000.0;
  g->request_ms = (double)request_timeout_s * 1000.0;
  atomic_init(&g->cut_headers, 0);
  atomic_init(&g->cut_requests, 0);
  if (pthread_create(&g->thread, NULL, watch, g) != 0) {
    dsr_conn_guard_stop(g);
    return NULL;
  }
  g->started = true;
  return g;
}

void dsr_conn_guard_stop(struct dsr_conn_guard *g)
{
  if (!g)
    return;
  pthread_mutex_lock(&g->lock);
  g->stop = true;
  pthread_cond_signal(&g->wake);
  pthread_mutex_unlock(&g->lock);
  if (g->started)
    pthread_join(g->thread, NULL);
  /* libmicrohttpd has reported every connection closed by now (MHD_stop_daemon). */
  while (g->head.next != &g->head) {
    struct guard_conn *c = g->head.next;
    c->prev->next = c->next;
    c->next->prev = c->prev;
    free(c);
  }
  pthread_cond_destroy(&g->wake);
  pthread_mutex_destroy(&g->lock);
  free(g);
}

void dsr_conn_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                           enum MHD_ConnectionNotificationCode toe)
{
  struct dsr_conn_guard *g = cls;
  if (!g)
    return;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct guard_conn *c = ci ? calloc(1, sizeof *c) : NULL;
    *socket_context = c;
    if (!c)
      return; /* untracked: only libmicrohttpd's idle timeout applies */
    c->fd = ci->connect_fd;
    c->since_ms = dsr_mono_ms();
    pthread_mutex_lock(&g->lock);
    c->next = &g->head;
    c->prev = g->head.prev;
    g->head.prev->next = c;
    g->head.prev = c;
    pthread_mutex_unlock(&g->lock);
    return;
  }
  struct guard_conn *c = *socket_context;
  if (!c)
    return;
  pthread_mutex_lock(&g->lock);
  c->prev->next = c->next;
  c->next->prev = c->prev;
  pthread_mutex_unlock(&g->lock);
  free(c);
  *socket_context = NULL;
}

static struct guard_conn *conn_of(struct MHD_Connection *conn)
{
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

void dsr_conn_guard_phase(struct dsr_conn_guard *g, struct MHD_Connection *conn,
                          enum dsr_guard_phase phase)
{
  if (!g)
    return;
  struct guard_conn *c = conn_of(conn);
  if (!c)
    return;
  pthread_mutex_lock(&g->lock);
  switch (phase) {
  case DSR_GUARD_HEADERS_DONE:
    c->headers_done = true;
    break;
  case DSR_GUARD_BODY_DONE:
    c->body_done = true;
    break;
  case DSR_GUARD_ANSWERED:
    c->headers_done = c->body_done = false;
    c->since_ms = dsr_mono_ms();
    break;
  }
  pthread_mutex_unlock(&g->lock);
}

void dsr_conn_guard_counts(struct dsr_conn_guard *g, long *headers, long *requests)
{
  *headers = g ? atomic_load(&g->cut_headers) : 0;
  *requests = g ? atomic_load(&g->cut_requests) : 0;
}
