/**
 * @file export_plan.c
 * @brief The access plan a package is written from, for the export job and
 *        `dsrctl export` alike.
 */
#include "config.h"
#include "export_int.h"

#include "dsr/log.h"

struct dsr_plan *dsr_export_plan(const struct dsr_policy *p, PGconn *conn,
                                 const struct dsr_subject *s, const char *part_id, char *err,
                                 size_t errlen)
{
  /* the subject's rows once, into the session's tables, for the counts and the package; a
   * store that refuses temporary tables gets the plan that computes them twice */
  char kerr[256];
  struct dsr_plan *plan = dsr_plan_build_access_keyed(p, conn, s, kerr, sizeof kerr);
  if (plan)
    return plan;
  DSR_WARN("export.keyed_plan_failed", "part=%s", part_id ? part_id : "-");
  return dsr_plan_build(p, conn, DSR_PLAN_ACCESS, s, err, errlen);
}
