/**
 * @file transport.h
 * @brief Delivery of one message: email by SMTP (libcurl; STARTTLS when the
 *        server offers it, optional login) or into a maildir, SMS by an HTTP
 *        POST to a gateway (sms_webhook) or into the maildir (demos).
 */
#ifndef DSR_TRANSPORT_H
#define DSR_TRANSPORT_H

#include "dsr/config.h"
#include "dsr/util.h"

/** A rendered message (all strings borrowed). */
struct dsr_message {
  const char *channel; /**< "email" or "sms" */
  const char *to;      /**< address or E.164 number */
  const char *subject; /**< email only */
  const char *text;    /**< plain-text body (the SMS text for sms) */
  const char *html;    /**< email only; may be NULL */
};

/** Sends @p m with the transport configured for its channel. */
DSR_MUST_USE bool dsr_transport_send(const struct dsr_config *cfg, const struct dsr_message *m,
                                     time_t now, char *err, size_t errlen);

/**
 * Builds an RFC 5322 message (CRLF line ends; multipart/alternative when
 * there is HTML; bodies base64; subject RFC 2047-encoded). Header values are
 * stripped of CR and LF. Caller frees. NULL on allocation failure.
 */
char *dsr_mail_compose(const char *from, const struct dsr_message *m, time_t now);

/** Writes @p text atomically into @p maildir/new (through tmp/ and rename). */
DSR_MUST_USE bool dsr_maildir_deliver(const char *maildir, const char *text, char *err,
                                      size_t errlen);
DSR_MUST_USE bool dsr_smtp_send(const struct dsr_config *cfg, const char *to, const char *text,
                                char *err, size_t errlen);
DSR_MUST_USE bool dsr_sms_webhook_send(const struct dsr_config *cfg, const char *to,
                                       const char *text, char *err, size_t errlen);

#endif
