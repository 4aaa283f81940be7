/**
 * @file policy_flow.c
 * @brief Validation of the request-flow sections (docs/policy-sections.md):
 *        organization, jurisdictions, verification, approval, customers and
 *        retention_of_dsr_data. Their shapes are a contract with other modules.
 */
#include "config.h"
#include "policy_int.h"
#include "dsr/verify.h"

#include <stdlib.h>
#include <string.h>

static const char *const rights[] = {"access",        "portability", "erasure",
                                     "rectification", "restriction", "objection",
                                     "withdraw_consent", "opt_out", NULL};
static const char *const channels[] = {"email", "sms", "account", "agent", "manual", NULL};

static const struct pkey org_spec[] = {
    {"name", PT_STR, true},         {"contact_email", PT_STR, false}, {"dpo_email", PT_STR, false},
    {"url", PT_STR, false},         {"address", PT_STR, false},       {"description", PT_STR, false},
    {NULL, PT_ANY, false}};
static const struct pkey jur_spec[] = {
    {"name", PT_STR, false},           {"deadline", PT_DUR, true},
    {"extension", PT_DUR, false},      {"extension_notice_within", PT_DUR, false},
    {"rights", PT_STRARR, false},      {"duplicate_window", PT_DUR, false},
    {"hold_pauses_clock", PT_BOOL, false}, {"no_data_message", PT_STR, false},
    {"basis", PT_STR, false},          {"description", PT_STR, false},
    {"phone_region", PT_STR, false},   {"supervisory_authority", PT_OBJ, false},
    {NULL, PT_ANY, false}};
static const struct pkey ver_spec[] = {
    {"code_ttl", PT_DUR, false},       {"max_attempts", PT_INT, false},
    {"resend_cooldown", PT_DUR, false}, {"request_expiry", PT_DUR, false},
    {"account_assertion", PT_OBJ, false}, {"rules", PT_ARR, false},
    {"before_verification", PT_STRARR, false},
    {"description", PT_STR, false},    {NULL, PT_ANY, false}};
static const struct pkey assert_spec[] = {
    {"key_env", PT_STR, true}, {"max_age", PT_DUR, false}, {NULL, PT_ANY, false}};
static const struct pkey rule_spec[] = {
    {"types", PT_STRARR, true}, {"jurisdictions", PT_STRARR, true}, {"require", PT_ARR, true},
    {"partial", PT_STR, false}, {"description", PT_STR, false}, {NULL, PT_ANY, false}};
static const struct pkey appr_spec[] = {
    {"types", PT_STRARR, true}, {"jurisdictions", PT_STRARR, true}, {"mode", PT_STR, true},
    {"description", PT_STR, false}, {NULL, PT_ANY, false}};
static const struct pkey cust_spec[] = {
    {"decision_timeout", PT_DUR, false}, {"reminder_after", PT_DUR, false},
    {NULL, PT_ANY, false}};
static const struct pkey rdd_spec[] = {
    {"closed_requests", PT_DUR, false}, {"messages", PT_DUR, false},
    {"deliveries", PT_DUR, false}, {"exports", PT_DUR, false}, {NULL, PT_ANY, false}};

/* Each element of the string array at @p ptr must be "*" or one of @p names
 * (or, when @p names is NULL, a key of @p jurs). */
static void check_names(struct pctx *c, const json_t *arr, const char *ptr,
                        const char *const *names, const json_t *jurs, const char *what)
{
  size_t i;
  const json_t *e;
  if (!json_is_array(arr))
    return;
  json_array_foreach(arr, i, e) {
    const char *s = json_string_value(e);
    if (!s || !strcmp(s, "*"))
      continue;
    bool ok = names ? pone_of(s, names, NULL) : (jurs ? json_object_get(jurs, s) != NULL : true);
    if (!ok) {
      char *ep = pptr_i(ptr, i);
      char list[256];
      if (names)
        pjoin(names, list, sizeof list);
      else
        snprintf(list, sizeof list, "\"*\" or a key of jurisdictions");
      pdiag(c, DSR_DIAG_ERROR, ep, false, "unknown %s \"%s\" (expected %s)", what, s, list);
      free(ep);
    }
  }
}

/*
 * A verification rule's "partial": "verified_identities" lets a request
 * verified by fewer channels be answered with what its verified identities
 * reach; only an answer with data can be partial (access, portability), and
 * only an alternative of two channels or more leaves something to confirm.
 */
static void check_partial(struct pctx *c, const json_t *r, const char *rp)
{
  const json_t *v = json_object_get(r, "partial");
  if (!json_is_string(v))
    return;
  char *pp = pptr(rp, "partial");
  size_t i, k;
  const json_t *t, *alt;
  bool several = false;
  if (strcmp(json_string_value(v), "verified_identities") != 0) {
    pdiag(c, DSR_DIAG_ERROR, pp, false, "unknown value \"%s\" (expected verified_identities)",
          json_string_value(v));
    goto cleanup;
  }
  json_array_foreach(json_object_get(r, "types"), i, t) {
    const char *s = json_string_value(t);
    if (s && strcmp(s, "access") != 0 && strcmp(s, "portability") != 0) {
      pdiag(c, DSR_DIAG_ERROR, pp, false,
            "a partial answer is only for access and portability, and this rule also covers "
            "\"%s\" (expected a rule whose types are access and/or portability)", s);
      goto cleanup;
    }
  }
  json_array_foreach(json_object_get(r, "require"), k, alt)
    several = several || json_array_size(alt) > 1;
  if (!several)
    pdiag(c, DSR_DIAG_WARNING, pp, false,
          "has no effect: every alternative of require needs one channel only");
cleanup:
  free(pp);
}

static void check_rules(struct pctx *c, const json_t *arr, const char *ptr, const json_t *jurs,
                        bool approval)
{
  size_t i;
  const json_t *r;
  if (!json_is_array(arr))
    return;
  json_array_foreach(arr, i, r) {
    char *rp = pptr_i(ptr, i);
    char *tp = pptr(rp, "types"), *jp = pptr(rp, "jurisdictions");
    if (rp && pcheck_obj(c, r, rp, approval ? appr_spec : rule_spec,
                         approval ? "an approval rule" : "a verification rule")) {
      check_names(c, json_object_get(r, "types"), tp, rights, NULL, "request type");
      check_names(c, json_object_get(r, "jurisdictions"), jp, NULL, jurs, "jurisdiction");
      const json_t *mode = json_object_get(r, "mode");
      if (approval && json_is_string(mode) && strcmp(json_string_value(mode), "staff") &&
          strcmp(json_string_value(mode), "auto")) {
        char *mp = pptr(rp, "mode");
        pdiag(c, DSR_DIAG_ERROR, mp, false, "unknown mode \"%s\" (expected staff, auto)",
              json_string_value(mode));
        free(mp);
      }
      const json_t *req = json_object_get(r, "require");
      size_t k;
      const json_t *alt;
      if (!approval && json_is_array(req)) {
        char *qp = pptr(rp, "require");
        if (json_array_size(req) == 0)
          pdiag(c, DSR_DIAG_ERROR, qp, false,
                "no alternative (expected at least one list of channels)");
        json_array_foreach(req, k, alt) {
          char *ap = pptr_i(qp, k);
          if (!json_is_array(alt) || json_array_size(alt) == 0)
            pdiag(c, DSR_DIAG_ERROR, ap, false,
                  "wrong type (expected a non-empty array of channels)");
          else
            check_names(c, alt, ap, channels, NULL, "channel");
          free(ap);
        }
        free(qp);
        check_partial(c, r, rp);
      }
    }
    free(tp);
    free(jp);
    free(rp);
  }
}

void pcheck_flow(struct pctx *c, const json_t *doc)
{
  const json_t *v;
  if ((v = json_object_get(doc, "organization")))
    (void)pcheck_obj(c, v, "/organization", org_spec, "organization");
  const json_t *jurs = json_object_get(doc, "jurisdictions");
  if (json_is_object(jurs)) {
    const char *k;
    const json_t *j;
    json_object_foreach((json_t *)jurs, k, j) {
      char *jp = pptr("/jurisdictions", k);
      char *rp = pptr(jp, "rights");
      if (jp && pcheck_obj(c, j, jp, jur_spec, "a jurisdiction")) {
        check_names(c, json_object_get(j, "rights"), rp, rights, NULL, "right");
        pcheck_phone_region(c, j, jp);
      }
      free(rp);
      free(jp);
    }
  }
  const json_t *dj = json_object_get(doc, "default_jurisdiction");
  if (json_is_string(dj) && json_is_object(jurs) && !json_object_get(jurs, json_string_value(dj)))
    pdiag(c, DSR_DIAG_ERROR, "/default_jurisdiction", false,
          "no jurisdiction \"%s\" (expected a key of jurisdictions)", json_string_value(dj));
  if ((v = json_object_get(doc, "verification")) &&
      pcheck_obj(c, v, "/verification", ver_spec, "verification")) {
    const json_t *a = json_object_get(v, "account_assertion");
    if (a)
      (void)pcheck_obj(c, a, "/verification/account_assertion", assert_spec,
                       "account_assertion");
    const json_t *ma = json_object_get(v, "max_attempts");
    if (json_is_integer(ma) && (json_integer_value(ma) < 1 || json_integer_value(ma) > 20))
      pdiag(c, DSR_DIAG_ERROR, "/verification/max_attempts", false,
            "out of range (expected 1 to 20)");
    check_rules(c, json_object_get(v, "rules"), "/verification/rules",
                json_is_object(jurs) ? jurs : NULL, false);
    check_names(c, json_object_get(v, "before_verification"), "/verification/before_verification",
                dsr_before_verification_actions, NULL, "staff action");
  }
  if ((v = json_object_get(doc, "approval")))
    check_rules(c, v, "/approval", json_is_object(jurs) ? jurs : NULL, true);
  if ((v = json_object_get(doc, "customers")))
    (void)pcheck_obj(c, v, "/customers", cust_spec, "customers");
  if ((v = json_object_get(doc, "retention_of_dsr_data")))
    (void)pcheck_obj(c, v, "/retention_of_dsr_data", rdd_spec, "retention_of_dsr_data");
}
