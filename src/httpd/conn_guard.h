/**
 * @file conn_guard.h
 * @brief Deadlines on slow clients: the headers of a request must arrive
 *        within request_header_timeout, the whole request within
 *        request_timeout, however often the client sends a byte.
 *
 * Ownership: dsr_conn_guard_start() returns a guard the caller frees with
 * dsr_conn_guard_stop() after libmicrohttpd has stopped.
 */
#ifndef DSRD_CONN_GUARD_H
#define DSRD_CONN_GUARD_H

#include <microhttpd.h>

struct dsr_conn_guard;

/** Where the current request of a connection is. */
enum dsr_guard_phase {
  DSR_GUARD_HEADERS_DONE, /**< the dispatcher has the headers */
  DSR_GUARD_BODY_DONE,    /**< ... and the whole body */
  DSR_GUARD_ANSWERED,     /**< answered: the next request's deadlines start now */
};

/** Starts the watch thread; NULL when out of memory or threads. */
struct dsr_conn_guard *dsr_conn_guard_start(long header_timeout_s, long request_timeout_s);
/** Stops the thread and frees the guard (NULL: nothing). */
void dsr_conn_guard_stop(struct dsr_conn_guard *g);
/** MHD_OPTION_NOTIFY_CONNECTION callback; @p cls is the guard. */
void dsr_conn_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                           enum MHD_ConnectionNotificationCode toe);
/** Records that the request on @p conn reached @p phase (@p g NULL: nothing). */
void dsr_conn_guard_phase(struct dsr_conn_guard *g, struct MHD_Connection *conn,
                          enum dsr_guard_phase phase);
/** Connections cut so far while sending headers, and while sending a body. */
void dsr_conn_guard_counts(struct dsr_conn_guard *g, long *headers, long *requests);

#endif
