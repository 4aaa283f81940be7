/**
 * @file rights_int.h
 * @brief SQL building shared by the choices and rectification executors:
 *        quoted identifiers from the validated policy, every value a $n
 *        parameter (at most 64), the subject's identity condition and the
 *        part's tenant scope.
 */
#ifndef DSR_RIGHTS_INT_H
#define DSR_RIGHTS_INT_H

#include "dsr/planner.h"
#include "dsr/policy.h"

/** A statement being built; free with q_free(). */
struct q {
  struct dsr_buf sql;
  char *vals[64]; /**< owned parameter values */
  int n;
  bool oom;
};

/** Whose rows, where. */
struct scope {
  const struct dsr_subject *subj;
  const char *tenant;  /**< NULL: the controller's scope */
  const char *claimed; /**< text[] literal of the tenants customers claim */
  const char *now;     /**< epoch seconds */
  const char *phone_region; /**< the policy's default phone region, or NULL */
};

void q_free(struct q *q);
void q_puts(struct q *q, const char *s);
void q_ident(struct q *q, const char *s);
/** Appends "$n" for @p v (NULL: SQL NULL), cast to @p type when it is a plain type name. */
void q_param(struct q *q, const char *v, const char *type);
/** "(x.a = $1 OR lower(x.b) = $2)"; false when the subject has none of the identities. */
bool q_identity(struct q *q, const struct dsr_pcollection *c, const struct scope *sc);
/** " AND <tenant scope>" for a collection with a tenant column. */
void q_tenant(struct q *q, const struct dsr_pcollection *c, const struct scope *sc);

#endif
