/**
 * @file outbox.h
 * @brief Messages to subjects. A message is rendered from templates/ and
 *        written, sealed, to dsr_outbox in the transaction of the state change
 *        that causes it, together with a send_message job; the job sends it
 *        through the configured transport (transport.h), retrying with
 *        back-off. A failing transport never loses a request: the request is
 *        committed whether or not the message ever goes out. Once sent, the
 *        sealed body (which may hold a code or link) is erased.
 */
#ifndef DSR_OUTBOX_H
#define DSR_OUTBOX_H

#include <jansson.h>
#include "dsr/config.h"
#include "dsr/db.h"
#include "dsr/error.h"
#include "dsr/queue.h"

#define DSR_JOB_SEND_MESSAGE "send_message"

/**
 * Inside the caller's transaction: renders template set @p tmpl ("code",
 * "notice") for @p channel ("email": email_<tmpl>_subject.txt,
 * email_<tmpl>.txt, email_<tmpl>.html; "sms": sms_<tmpl>.txt) in @p lang
 * with @p ctx (borrowed), stores it sealed for @p recipient and enqueues its
 * job. Returns DSR_TX_COMMIT, DSR_TX_RETRY, or DSR_TX_ROLLBACK with *ec.
 */
DSR_MUST_USE int dsr_outbox_put(struct dsr_db *db, const char *request_id, const char *channel,
                                const char *recipient, const char *tmpl, const char *lang,
                                const json_t *ctx, time_t now, enum dsr_ec *ec);

/**
 * Sends outbox message @p id (the send_message job). Idempotent: a message
 * already sent or failed is done. On the @p last_attempt a failure marks the
 * message failed. @p err gets a reason without personal data.
 */
enum dsr_job_result dsr_outbox_send(struct dsr_db *db, const struct dsr_config *cfg, int64_t id,
                                    bool last_attempt, time_t now, char *err, size_t errlen);

#endif
