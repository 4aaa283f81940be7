/**
 * @file sample_gen.c
 * @brief The sample generator object: option checks, sizes, and the list of
 *        subjects worth knowing by name for tests, demos and benchmarks.
 */
#include "config.h"
#include "sample_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SUBJECTS 100000000L /* the phone-number scheme is a bijection on 10^8 codes */

struct dsr_sample *dsr_sample_new(const struct dsr_sample_opts *o, char *err, size_t errlen)
{
  struct dsr_sample *g = NULL;
  bool ok = false;
  if (o->subjects < 1 || o->subjects > MAX_SUBJECTS) {
    snprintf(err, errlen, "--subjects must be between 1 and %ld", MAX_SUBJECTS);
    goto cleanup;
  }
  if (o->calls_per_subject < 0 || o->calls_per_subject > 1000) {
    snprintf(err, errlen, "--calls-per-subject must be between 0 and 1000");
    goto cleanup;
  }
  if (o->backup_sets < 0 || o->backup_sets > 100) {
    snprintf(err, errlen, "--backup-sets must be between 0 and 100");
    goto cleanup;
  }
  if (o->backup_sets > 0 && (!o->media_root || !o->backup_root)) {
    snprintf(err, errlen, "--backup-sets needs media files (drop --no-media)");
    goto cleanup;
  }
  if (o->ndesignated < 0 || o->ndesignated > DSR_SAMPLE_MAX_DESIGNATED) {
    snprintf(err, errlen, "at most %d designated subjects", DSR_SAMPLE_MAX_DESIGNATED);
    goto cleanup;
  }
  g = calloc(1, sizeof *g);
  if (!g) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  g->o = *o;
  g->N = o->subjects;
  g->D = o->ndesignated;
  g->W = g->N / 50 > 3 ? g->N / 50 : 3;
  g->U = g->N >= 10 ? g->N / 10 : 1;
  g->phone_off = dsr_sample_mix64(o->seed) % 100000000u;
  g->person_acc = calloc((size_t)g->D + 1, sizeof *g->person_acc);
  g->acc_person = calloc((size_t)g->D + 1, sizeof *g->acc_person);
  if (!g->person_acc || !g->acc_person) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  long acc = 0;
  for (int j = 0; j < o->ndesignated; j++) {
    const struct dsr_sample_designated *d = &o->designated[j];
    if (!d->email || !*d->email || !d->phone || !*d->phone) {
      snprintf(err, errlen, "designated subject %d needs --subject-email and --subject-phone", j + 1);
      goto cleanup;
    }
    if (d->phone[0] != '+' || strlen(d->phone) < 8 || strlen(d->phone) > 16 ||
        strspn(d->phone + 1, "0123456789") != strlen(d->phone) - 1) {
      snprintf(err, errlen, "--subject-phone must be in E.164 form (+ and 7 to 15 digits)");
      goto cleanup;
    }
    if (!strchr(d->email, '@') || strlen(d->email) > 100 || (d->name && strlen(d->name) > 70)) {
      snprintf(err, errlen, "--subject-email must be an email address (at most 100 characters)");
      goto cleanup;
    }
    if (d->workspaces < 1 || d->workspaces > MAX_SLOTS || d->workspaces > g->W) {
      snprintf(err, errlen, "--subject-workspaces must be between 1 and %ld for %ld subjects",
               g->W < MAX_SLOTS ? g->W : (long)MAX_SLOTS, g->N);
      goto cleanup;
    }
    if (d->calls < 0 || d->calls > 10000000L) {
      snprintf(err, errlen, "--subject-calls must be between 0 and 10000000");
      goto cleanup;
    }
    g->person_acc[j] = d->account ? acc : -1;
    if (d->account)
      g->acc_person[acc++] = g->N + j;
  }
  g->WT = g->W + acc;
  g->UT = g->U + acc;
  if (!sample_build(g, err, errlen))
    goto cleanup;
  if (o->media_root && !sample_media_open(g, err, errlen))
    goto cleanup;
  ok = true;
cleanup:
  if (!ok) {
    dsr_sample_free(g);
    g = NULL;
  }
  return g;
}

void dsr_sample_free(struct dsr_sample *g)
{
  if (!g)
    return;
  sample_media_close(g);
  free(g->ws);
  free(g->users);
  free(g->person_acc);
  free(g->acc_person);
  free(g);
}

/* --- subjects worth knowing ------------------------------------------------------ */

static json_t *ids_of_slots(const struct person *P, bool callers_only)
{
  json_t *a = json_array();
  for (int s = 0; a && s < P->nslots; s++) {
    if (callers_only && s >= P->ncalls)
      continue; /* calls go round the slots first, so slot s has a call iff s < ncalls */
    if (!callers_only && !P->slot_contact[s])
      continue;
    json_array_append_new(a, json_integer(P->slot_ws[s] + 1));
  }
  return a;
}

static json_t *describe(const struct dsr_sample *g, const char *label, const struct person *P,
                        const int *members)
{
  json_t *j = json_object();
  if (!j)
    return NULL;
  json_object_set_new(j, "label", json_string(label));
  json_object_set_new(j, "name", json_string(P->name));
  json_object_set_new(j, "email", json_string(P->email));
  json_object_set_new(j, "phone", json_string(P->phone));
  json_object_set_new(j, "calls", json_integer(P->ncalls));
  json_object_set_new(j, "caller_workspace_ids", ids_of_slots(P, true));
  json_object_set_new(j, "contact_workspace_ids", ids_of_slots(P, false));
  json_object_set_new(j, "is_minor", json_boolean(P->minor));
  if (P->user >= 0) {
    const struct user *u = &g->users[P->user];
    json_object_set_new(j, "user_id", json_integer(P->user + 1));
    json_object_set_new(j, "account_status", json_string(u->status));
    json_t *m = json_array();
    for (long w = 0; m && w < g->WT; w++) {
      bool in = g->ws[w].owner == P->user;
      for (int i = 0; i < g->ws[w].nagents; i++)
        in |= g->ws[w].agents[i] == P->user;
      if (in)
        json_array_append_new(m, json_integer(w + 1));
    }
    json_object_set_new(j, "member_workspace_ids", m);
    json_object_set_new(j, "agent_memberships", json_integer(members ? members[P->user] : 0));
  } else {
    json_object_set_new(j, "user_id", json_null());
  }
  return j;
}

json_t *dsr_sample_subjects_json(const struct dsr_sample *g)
{
  json_t *arr = json_array();
  /* members[u]: agent memberships of user u; members[UT + u]: workspaces u owns */
  int *members = calloc(2 * (size_t)g->UT + 1, sizeof *members);
  struct person P;
  if (!arr || !members) {
    json_decref(arr);
    arr = NULL;
    goto cleanup;
  }
  for (long w = 0; w < g->WT; w++) {
    members[g->UT + g->ws[w].owner]++;
    for (int i = 0; i < g->ws[w].nagents; i++)
      members[g->ws[w].agents[i]]++;
  }
  for (long j = 0; j < g->D; j++) {
    char label[32];
    snprintf(label, sizeof label, "designated-%ld", j + 1);
    sample_person(g, g->N + j, &P);
    json_array_append_new(arr, describe(g, label, &P, members));
  }
  /* From the population: the first of each kind (searching a bounded prefix). */
  long limit = g->N < 2000000 ? g->N : 2000000;
  long holder = -1, holder_any = -1, minor = -1, closed = -1;
  for (long p = 0; p < limit; p++) {
    sample_person(g, p, &P);
    if (P.user >= 0 && P.nslots == 3 && P.ncalls >= 3 && !g->users[P.user].closed) {
      bool owner = members[g->UT + P.user] > 0;
      if (holder_any < 0)
        holder_any = p;
      if (holder < 0 && !owner && members[P.user] == 0)
        holder = p;
    }
    if (minor < 0 && P.minor && P.slot_contact[0])
      minor = p;
    if (closed < 0 && P.user >= 0 && g->users[P.user].closed_long_ago)
      closed = p;
    if (holder >= 0 && minor >= 0 && closed >= 0)
      break;
  }
  if (holder < 0)
    holder = holder_any;
  const struct {
    const char *label;
    long p;
  } found[] = {{"account_holder_caller_in_3_workspaces", holder},
               {"minor_contact", minor},
               {"account_closed_long_ago", closed}};
  for (size_t i = 0; i < DSR_ARRAY_LEN(found); i++) {
    if (found[i].p < 0)
      continue;
    sample_person(g, found[i].p, &P);
    json_array_append_new(arr, describe(g, found[i].label, &P, members));
  }
cleanup:
  free(members);
  return arr;
}
