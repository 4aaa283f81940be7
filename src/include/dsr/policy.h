/**
 * @file policy.h
 * @brief The deployment's policy file (dsr-policy(5)): loading, validation
 *        and read access. A loaded policy is immutable and shared read-only
 *        by all threads; the caller of dsr_policy_load() frees it.
 */
#ifndef DSR_POLICY_H
#define DSR_POLICY_H

#include <jansson.h>
#include "dsr/util.h"

struct dsr_policy;

/**
 * Loads and validates @p path. On failure returns NULL and writes the first
 * problem ("file:line:column: message") into @p err.
 */
struct dsr_policy *dsr_policy_load(const char *path, char *err, size_t errlen);
void dsr_policy_free(struct dsr_policy *p);

/** The whole validated document (borrowed; lives as long as @p p). */
const json_t *dsr_policy_json(const struct dsr_policy *p);
/** Top-level section @p name, or NULL when the policy omits it (borrowed). */
const json_t *dsr_policy_section(const struct dsr_policy *p, const char *name);

#endif
