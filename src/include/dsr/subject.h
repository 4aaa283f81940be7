/**
 * @file subject.h
 * @brief The data subject of a request as the engine acts on it: the
 *        request's identities, unsealed, indexed by enum dsr_id_kind.
 *        Discovery, erasure, exports and rights all start from here.
 */
#ifndef DSR_SUBJECT_H
#define DSR_SUBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include "dsr/db.h"
#include "dsr/planner.h"
#include "dsr/policy.h"

/** Identity kinds as bits of a mask: bit (1 << enum dsr_id_kind). */
#define DSR_IDBIT(kind) (1u << (unsigned)(kind))

/**
 * A request's VERIFIED identities, unsealed, indexed by enum dsr_id_kind:
 * the only ones the engine acts on. Free with dsr_subject_free().
 */
struct dsr_subject_values {
  char *value[DSR_ID_KIND_COUNT];
  unsigned unverified; /**< DSR_IDBIT()s of identities the request gave but nobody verified */
};

/**
 * Loads and unseals the identities of @p request_id that were verified — by
 * their own channel, by staff, or vouched for by a verified channel — and
 * notes the others in out->unverified without reading them. Discovery,
 * plans, execution, exports and webhooks start here, so an identity nobody
 * verified never reaches the platform or a customer. False on a database or
 * key failure.
 */
DSR_MUST_USE bool dsr_subject_load(struct dsr_db *db, const char *request_id,
                                   struct dsr_subject_values *out);
/** Wipes and frees the values. */
void dsr_subject_free(struct dsr_subject_values *s);
/** The planner's view of @p v (borrows its strings). */
struct dsr_subject dsr_subject_of(const struct dsr_subject_values *v);

/** Identity kinds -> PostgreSQL text[] literal ("{email,phone}"), into @p out. */
void dsr_id_kinds_literal(unsigned kinds, char *out, size_t outlen);

#endif
