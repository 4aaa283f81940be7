/**
 * @file db_statements.h
 * @brief Index of every named statement. Each module keeps its SQL in its
 *        own stmts_*.h list; this file only strings the lists together.
 */
#ifndef DSR_DB_STATEMENTS_H
#define DSR_DB_STATEMENTS_H

#include "dsr/stmts_core.h"
#include "dsr/stmts_requests.h"
#include "dsr/stmts_queue.h"
#include "dsr/stmts_verify.h"
#include "dsr/stmts_routing.h"
#include "dsr/stmts_policy.h"
#include "dsr/stmts_audit.h"
#include "dsr/stmts_ui.h"
#include "dsr/stmts_exports.h"
#include "dsr/stmts_rights.h"
#include "dsr/stmts_erasure.h"
#include "dsr/stmts_backups.h"
#include "dsr/stmts_ops.h"
#include "dsr/stmts_drp.h"

#define DSR_STATEMENTS(X) \
  DSR_STMTS_CORE(X)       \
  DSR_STMTS_REQUESTS(X)   \
  DSR_STMTS_QUEUE(X)      \
  DSR_STMTS_VERIFY(X)     \
  DSR_STMTS_ROUTING(X)    \
  DSR_STMTS_POLICY(X)     \
  DSR_STMTS_AUDIT(X)      \
  DSR_STMTS_UI(X)         \
  DSR_STMTS_EXPORTS(X)    \
  DSR_STMTS_RIGHTS(X)     \
  DSR_STMTS_ERASURE(X)    \
  DSR_STMTS_BACKUPS(X)    \
  DSR_STMTS_OPS(X)        \
  DSR_STMTS_DRP(X)

#endif
