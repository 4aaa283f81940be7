/**
 * @file discovery.h
 * @brief Discovery: after verification, find who holds the subject's data
 *        and split the request into parts — one controller part, one part
 *        per customer (tenant) — each routed by the policy's approval rules;
 *        customer parts are forwarded through the webhook outbox in the same
 *        transaction. A subject found nowhere gets a completed request with
 *        the jurisdiction's "no data held" wording.
 *
 * The search itself is the planner's (policy module): discovery sees it only
 * through struct dsr_finder, so no platform table is known here.
 */
#ifndef DSR_DISCOVERY_H
#define DSR_DISCOVERY_H

#include <jansson.h>
#include "dsr/db.h"
#include "dsr/error.h"
#include "dsr/planner.h"
#include "dsr/policy.h"
#include "dsr/parts.h"
#include "dsr/subject.h"

/** Data held for the subject in one tenant's content. */
struct dsr_found_tenant {
  char *tenant_ref;        /**< the tenant column's value; owned by the finder's result */
  unsigned identity_kinds; /**< DSR_IDBIT()s of the identities that matched in THIS tenant */
  long rows;
};

/** What the search found, split by owner. */
struct dsr_found {
  long controller_rows;
  unsigned controller_kinds;
  size_t ntenants;
  struct dsr_found_tenant *tenants;
};

/** The search: fills @p out (released with free_found) or fails with a message. */
struct dsr_finder {
  bool (*find)(void *ctx, const char *request_type, const struct dsr_subject *s,
               struct dsr_found *out, char *err, size_t errlen);
  void (*free_found)(void *ctx, struct dsr_found *found);
  void *ctx;
};

/**
 * Runs discovery for verified request @p request_id with its verified
 * identities only (dsr_subject_load()). A request split already (in progress
 * or on hold) is searched again: parts that newly verified identities reach
 * are added and forwarded, parts not final yet learn the new identity kinds
 * (customers get dsr.updated); *nparts counts the new parts. Idempotent: when
 * nothing is new, or the request is closed, nothing changes and *nparts is -1.
 * @p base_url prefixes the customer API links.
 */
enum dsr_ec dsr_discovery_run(struct dsr_db *db, const struct dsr_policy *p,
                              const struct dsr_finder *f, const char *base_url,
                              const char *request_id, int *nparts);

/**
 * Fills @p f with the planner as discovery's search over @p policy: the plan
 * matching the request type (access for access and portability, erasure
 * otherwise) on the policy's postgresql store (its dsn or dsn_env), split by
 * owner; one more plan per identity tells which identities matched in which
 * tenant. @p policy must outlive @p f.
 */
void dsr_planner_finder(struct dsr_finder *f, const struct dsr_policy *policy);

#endif
