/**
 * @file discovery_planner.c
 * @brief Discovery's search through the planner (see discovery.h): nothing
 *        about a platform's tables is known here, only plans and their parts.
 */
#include "config.h"
#include "dsr/discovery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Rows of the subject (and rows that only mention them) in one part, each
 * once: a redact step's rows already count its mentions.
 */
static long long part_total(const struct dsr_plan_part *part)
{
  long long n = 0;
  for (size_t i = 0; i < part->nsteps; i++)
    n += part->steps[i].rows;
  return n;
}

static void free_found(void *ctx, struct dsr_found *f)
{
  (void)ctx;
  for (size_t i = 0; i < f->ntenants; i++)
    free(f->tenants[i].tenant_ref);
  free(f->tenants);
  memset(f, 0, sizeof *f);
}

/* The tenant entry for @p tenant, appended when new; NULL on allocation failure. */
static struct dsr_found_tenant *tenant_of(struct dsr_found *f, const char *tenant)
{
  for (size_t i = 0; i < f->ntenants; i++)
    if (!strcmp(f->tenants[i].tenant_ref, tenant))
      return &f->tenants[i];
  struct dsr_found_tenant *grown = realloc(f->tenants, (f->ntenants + 1) * sizeof *grown);
  if (!grown)
    return NULL;
  f->tenants = grown;
  struct dsr_found_tenant *t = &f->tenants[f->ntenants];
  *t = (struct dsr_found_tenant){.tenant_ref = strdup(tenant)};
  if (!t->tenant_ref)
    return NULL;
  f->ntenants++;
  return t;
}

/* Adds one plan to @p f: rows when @p count, identity bit @p bit where the subject was found. */
static bool add_plan(struct dsr_found *f, const struct dsr_plan *plan, bool count, unsigned bit)
{
  for (size_t i = 0; i < plan->nparts; i++) {
    const struct dsr_plan_part *part = &plan->parts[i];
    long long n = part_total(part);
    if (n == 0)
      continue;
    if (!part->tenant) {
      if (count)
        f->controller_rows += (long)n;
      f->controller_kinds |= bit;
      continue;
    }
    struct dsr_found_tenant *t = tenant_of(f, part->tenant);
    if (!t)
      return false;
    if (count)
      t->rows += (long)n;
    t->identity_kinds |= bit;
  }
  return true;
}

static bool find(void *ctx, const char *type, const struct dsr_subject *s, struct dsr_found *out,
                 char *err, size_t errlen)
{
  const struct dsr_policy *p = ctx;
  enum dsr_plan_kind kind = !strcmp(type, "access") || !strcmp(type, "portability")
                                ? DSR_PLAN_ACCESS
                                : DSR_PLAN_ERASURE;
  memset(out, 0, sizeof *out);
  const char *dsn = dsr_policy_pg_dsn(p);
  if (!dsn) {
    snprintf(err, errlen, "the policy's postgresql store has no DSN");
    return false;
  }
  PGconn *conn = PQconnectdb(dsn);
  bool ok = false;
  if (PQstatus(conn) != CONNECTION_OK) {
    snprintf(err, errlen, "the policy's postgresql store is not reachable");
    goto cleanup;
  }
  /* Everything at once gives the counts; one plan per identity says who matched where. */
  struct dsr_plan *all = dsr_plan_build(p, conn, kind, s, err, errlen);
  if (!all)
    goto cleanup;
  ok = add_plan(out, all, true, 0);
  dsr_plan_free(all);
  const char *values[] = {s->email, s->phone, s->account_id};
  for (int k = 0; ok && k < DSR_ID_KIND_COUNT; k++) {
    if (!values[k])
      continue;
    struct dsr_subject one = {0};
    if (k == DSR_ID_EMAIL)
      one.email = s->email;
    else if (k == DSR_ID_PHONE)
      one.phone = s->phone;
    else
      one.account_id = s->account_id;
    struct dsr_plan *plan = dsr_plan_build(p, conn, kind, &one, err, errlen);
    ok = plan && add_plan(out, plan, false, DSR_IDBIT(k));
    dsr_plan_free(plan);
  }
cleanup:
  PQfinish(conn);
  if (!ok)
    free_found(NULL, out);
  return ok;
}

void dsr_planner_finder(struct dsr_finder *f, const struct dsr_policy *policy)
{
  *f = (struct dsr_finder){.find = find, .free_found = free_found, .ctx = (void *)policy};
}
