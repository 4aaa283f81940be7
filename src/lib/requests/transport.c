/** @file transport.c @brief Chooses the transport per channel; the maildir transport. */
#include "config.h"
#include "dsr/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool mkdir_p1(const char *path)
{
  return mkdir(path, 0700) == 0 || errno == EEXIST;
}

bool dsr_maildir_deliver(const char *maildir, const char *text, char *err, size_t errlen)
{
  char tmp[1024], dst[1024], sub[1024];
  unsigned char rnd[8];
  char hex[17];
  randombytes_buf(rnd, sizeof rnd);
  sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
  static const char *const subdirs[] = {"tmp", "new", "cur"};
  if (!mkdir_p1(maildir)) {
    snprintf(err, errlen, "maildir: cannot create the directory: %s", strerror(errno));
    return false;
  }
  for (size_t i = 0; i < DSR_ARRAY_LEN(subdirs); i++) {
    snprintf(sub, sizeof sub, "%s/%s", maildir, subdirs[i]);
    if (!mkdir_p1(sub)) {
      snprintf(err, errlen, "maildir: cannot create %s/: %s", subdirs[i], strerror(errno));
      return false;
    }
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int n1 = snprintf(tmp, sizeof tmp, "%s/tmp/%lld.M%ldP%ldR%s.dsrd", maildir,
                    (long long)ts.tv_sec, ts.tv_nsec / 1000, (long)getpid(), hex);
  int n2 = snprintf(dst, sizeof dst, "%s/new/%lld.M%ldP%ldR%s.dsrd", maildir,
                    (long long)ts.tv_sec, ts.tv_nsec / 1000, (long)getpid(), hex);
  if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof tmp || (size_t)n2 >= sizeof dst) {
    snprintf(err, errlen, "maildir: path too long");
    return false;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    snprintf(err, errlen, "maildir: cannot create a file: %s", strerror(errno));
    return false;
  }
  size_t len = strlen(text), off = 0;
  bool ok = true;
  while (ok && off < len) {
    ssize_t w = write(fd, text + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    ok = w > 0;
    if (ok)
      off += (size_t)w;
  }
  ok = ok && fsync(fd) == 0;
  if (close(fd) != 0)
    ok = false;
  if (ok && rename(tmp, dst) != 0)
    ok = false;
  if (!ok) {
    snprintf(err, errlen, "maildir: cannot write the message: %s", strerror(errno));
    unlink(tmp);
  }
  return ok;
}

static bool to_maildir(const struct dsr_config *cfg, const struct dsr_message *m, time_t now,
                       char *err, size_t errlen)
{
  char *dir = dsr_asprintf("%s/maildir", cfg->state_dir);
  /* SMS land in the maildir as plain mails addressed to the number (demos). */
  struct dsr_message sms = {.channel = "sms", .to = m->to, .subject = "SMS", .text = m->text};
  char *text = dsr_mail_compose(cfg->mail_from, !strcmp(m->channel, "sms") ? &sms : m, now);
  bool ok = dir && text && dsr_maildir_deliver(dir, text, err, errlen);
  if (!dir || !text)
    snprintf(err, errlen, "out of memory");
  if (text) {
    sodium_memzero(text, strlen(text));
    free(text);
  }
  free(dir);
  return ok;
}

bool dsr_transport_send(const struct dsr_config *cfg, const struct dsr_message *m, time_t now,
                        char *err, size_t errlen)
{
  if (!strcmp(m->channel, "sms")) {
    if (!strcmp(cfg->sms_transport, "sms_webhook"))
      return dsr_sms_webhook_send(cfg, m->to, m->text, err, errlen);
    if (!strcmp(cfg->sms_transport, "maildir"))
      return to_maildir(cfg, m, now, err, errlen);
    snprintf(err, errlen, "sms_transport must be maildir or sms_webhook");
    return false;
  }
  if (!strcmp(cfg->mail_transport, "maildir"))
    return to_maildir(cfg, m, now, err, errlen);
  if (strcmp(cfg->mail_transport, "smtp") != 0) {
    snprintf(err, errlen, "mail_transport must be maildir or smtp");
    return false;
  }
  char *text = dsr_mail_compose(cfg->mail_from, m, now);
  if (!text) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  bool ok = dsr_smtp_send(cfg, m->to, text, err, errlen);
  sodium_memzero(text, strlen(text));
  free(text);
  return ok;
}
