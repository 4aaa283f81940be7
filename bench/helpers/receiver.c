/**
 * @file receiver.c
 * @brief bench helper: a local webhook receiver. Answers every request with
 *        204 once its body is in, and counts those that carry the Standard
 *        Webhooks headers (webhook-id, webhook-timestamp, webhook-signature).
 *
 * usage: receiver THREADS
 * Listens on 127.0.0.1 on a free port, prints "port N", runs until SIGTERM or
 * SIGINT, then prints "signed N" (requests that carried the three headers).
 */
#include <microhttpd.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long signed_seen;
static struct MHD_Response *empty;

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
  if (*con_cls == NULL) {
    *con_cls = conn; /* first call: headers only */
    return MHD_YES;
  }
  if (*upload_data_size) {
    *upload_data_size = 0; /* the body is dropped */
    return MHD_YES;
  }
  if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-id") &&
      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-timestamp") &&
      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-signature"))
    atomic_fetch_add(&signed_seen, 1);
  return MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, empty);
}

int main(int argc, char **argv)
{
  unsigned threads = argc > 1 ? (unsigned)atoi(argv[1]) : 2;
  if (threads < 1 || threads > 64)
    threads = 2;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  empty = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD, 0, NULL, NULL, answer, NULL, MHD_OPTION_SOCK_ADDR,
      (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_END);
  if (!d || !empty) {
    fprintf(stderr, "receiver: cannot listen\n");
    return 1;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  printf("port %u\n", info ? info->port : 0);
  fflush(stdout);
  int sig;
  while (sigwait(&set, &sig) != 0)
    ;
  MHD_stop_daemon(d);
  MHD_destroy_response(empty);
  printf("signed %ld\n", atomic_load(&signed_seen));
  return 0;
}
