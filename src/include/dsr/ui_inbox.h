/**
 * @file ui_inbox.h
 * @brief The demo's dev inbox: reads the messages the maildir transport
 *        wrote (STATE_DIR/maildir/new and cur) so the staff UI can show them.
 *        For demo mode only: the messages hold verification codes.
 */
#ifndef DSR_UI_INBOX_H
#define DSR_UI_INBOX_H

#include <jansson.h>
#include "dsr/util.h"

/**
 * Parses one message as dsr_mail_compose() writes it: *out is
 * {"to", "subject", "date", "text"} (caller decrefs), the text part decoded.
 * False when it is not such a message.
 */
DSR_MUST_USE bool dsr_mail_parse(const char *raw, json_t **out);

/**
 * Up to @p max messages of @p maildir, newest first, each parsed as above
 * plus "file" (its name). A missing maildir is an empty list. Caller decrefs.
 */
json_t *dsr_maildir_list(const char *maildir, size_t max);

#endif
