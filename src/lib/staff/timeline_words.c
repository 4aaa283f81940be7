/**
 * @file timeline_words.c
 * @brief A request's timeline in words for the staff UI ("Dana approved the
 *        erasure", "Webhook dsr.forwarded to Acme Calls delivered after 2
 *        attempts"): one sentence pattern per event kind, filled from the
 *        event's data (which carries no personal data) and the names of the
 *        staff users and customers the actors and ids stand for.
 */
#include "config.h"
#include "dsr/admin.h"
#include "dsr/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {actor}: who did it; {type}: the request type; {staff}/{customer}: data ids by name;
 * {key}: the data member "key". */
static const struct {
  const char *kind, *words;
} patterns[] = {
    {"request.received", "The request was received"},
    {"request.created", "The request was received"},
    {"verification.succeeded", "The subject confirmed a verification code"},
    {"verification.checked", "A verification code was checked"},
    {"verification.failed", "A wrong verification code was entered"},
    {"verification.locked", "Verification was locked after too many wrong codes"},
    {"verification.resent", "A new verification code was sent"},
    {"verification.vouched", "A verified channel vouched for another identity"},
    {"verification.manual", "{actor} verified the requester by hand"},
    {"verification.manual_identity", "{actor} verified the {identity} by hand"},
    {"request.verified", "The request was verified"},
    {"identity.verified_later", "Another identity was verified; discovery runs again"},
    {"request.discovered", "Discovery found {parts} part(s), {controller_rows} row(s) for the privacy team"},
    {"request.rediscovered", "Discovery ran again"},
    {"request.duplicate_linked", "The request was linked to an earlier duplicate"},
    {"part.created", "A {owner} part was created"},
    {"part.approved", "{actor} approved the {type}"},
    {"part.denied", "{actor} denied a part ({reason})"},
    {"part.decided", "{actor} answered its part: {decision}"},
    {"part.escalated", "A customer did not answer in time: its part went to the privacy team"},
    {"part.reminded", "The customer was reminded of its part"},
    {"request.assigned", "{actor} assigned the request to {staff}"},
    {"request.extended", "{actor} extended the deadline to {due_at}; the subject was told"},
    {"request.held", "{actor} put the request on hold"},
    {"request.released", "{actor} released the hold"},
    {"request.denied", "{actor} denied the request ({reason})"},
    {"request.completed", "The request was completed"},
    {"request.withdrawn", "The subject withdrew the request"},
    {"request.withdrawn+on_behalf", "{actor} withdrew the request on the requester's behalf"},
    {"request.expired", "The request expired before it was verified"},
    {"request.due_soon", "The deadline is near"},
    {"request.overdue", "The request is overdue"},
    {"request.note", "{actor} added an internal note"},
    {"erasure.started", "The erasure started"},
    {"erasure.receipt", "The erasure finished and its receipt was issued"},
    {"erasure.done", "The erasure finished"},
    {"erasure.plan_failed", "The erasure plan could not be made"},
    {"export.started", "The export package is being built"},
    {"export.ready", "The export package is ready for the subject"},
    {"export.downloaded", "The subject downloaded the export package"},
    {"export.destroyed", "The export package was destroyed"},
    {"message.queued", "A message to the subject was queued"},
    {"message.sent", "A message to the subject was sent"},
    {"message.failed", "A message to the subject could not be sent"},
    {"webhook.delivered", "Webhook {event} to {customer} delivered after {attempts} attempt(s)"},
    {"webhook.failed", "Webhook {event} to {customer} failed after {attempts} attempt(s)"},
    {"restriction.applied", "Processing of the subject's data was restricted"},
    {"restriction.lifted", "{actor} lifted the restriction"},
    {"correction.decided", "{actor} decided on a correction"},
};

bool dsr_actor_name(const char *actor, const json_t *names, char *out, size_t outlen)
{
  const char *n = json_string_value(json_object_get(names, actor));
  if (n)
    return dsr_strlcpy(out, n, outlen);
  if (!strcmp(actor, "system"))
    return dsr_strlcpy(out, "dsrd", outlen);
  if (!strcmp(actor, "subject"))
    return dsr_strlcpy(out, "The subject", outlen);
  if (!strncmp(actor, "agent", 5))
    return dsr_strlcpy(out, "The authorized agent", outlen);
  if (!strncmp(actor, "staff:", 6))
    return dsr_strlcpy(out, "A staff member", outlen);
  if (!strncmp(actor, "customer:", 9))
    return dsr_strlcpy(out, "A customer", outlen);
  return dsr_strlcpy(out, actor, outlen);
}

/* The text of one placeholder; false when the event does not carry it. */
static bool fill(struct dsr_buf *b, const char *key, const json_t *ev, const char *type,
                 const json_t *names)
{
  const json_t *data = json_object_get(ev, "data");
  char name[200];
  if (!strcmp(key, "actor")) {
    const char *a = json_string_value(json_object_get(ev, "actor"));
    return a && dsr_actor_name(a, names, name, sizeof name) && dsr_buf_puts(b, name);
  }
  if (!strcmp(key, "type"))
    return dsr_buf_puts(b, type);
  if (!strcmp(key, "staff") || !strcmp(key, "customer")) {
    char ref[80];
    const char *id = json_string_value(json_object_get(data, !strcmp(key, "staff") ? "staff_id"
                                                                                   : "customer_id"));
    if (!id)
      return false;
    snprintf(ref, sizeof ref, "%s:%s", key, id);
    return dsr_actor_name(ref, names, name, sizeof name) && dsr_buf_puts(b, name);
  }
  const json_t *v = json_object_get(data, key);
  if (json_is_string(v))
    return dsr_buf_puts(b, json_string_value(v));
  if (json_is_integer(v))
    return dsr_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
  return false;
}

char *dsr_timeline_sentence(const json_t *ev, const char *type, const json_t *names)
{
  const char *kind = json_string_value(json_object_get(ev, "kind"));
  const char *words = NULL;
  /* staff acting for the requester ("on_behalf") has words of its own: "<kind>+on_behalf" */
  bool behalf = json_is_true(json_object_get(json_object_get(ev, "data"), "on_behalf"));
  size_t kl = kind ? strlen(kind) : 0;
  for (size_t i = 0; kind && behalf && i < DSR_ARRAY_LEN(patterns); i++)
    if (!strncmp(patterns[i].kind, kind, kl) && !strcmp(patterns[i].kind + kl, "+on_behalf"))
      words = patterns[i].words;
  for (size_t i = 0; kind && !words && i < DSR_ARRAY_LEN(patterns); i++)
    if (!strcmp(patterns[i].kind, kind))
      words = patterns[i].words;
  struct dsr_buf b = {0};
  bool ok = true;
  if (!words) { /* an event this table does not know yet: its code and who */
    char name[200];
    const char *a = json_string_value(json_object_get(ev, "actor"));
    ok = dsr_buf_puts(&b, kind ? kind : "event") &&
         (!a || (dsr_actor_name(a, names, name, sizeof name) &&
                 dsr_buf_printf(&b, " (%s)", name)));
    return ok ? dsr_buf_steal(&b) : (dsr_buf_free(&b), NULL);
  }
  for (const char *p = words; ok && *p;) {
    const char *close = *p == '{' ? strchr(p, '}') : NULL;
    if (close && close - p < 32) {
      char key[32];
      snprintf(key, sizeof key, "%.*s", (int)(close - p - 1), p + 1);
      if (!fill(&b, key, ev, type, names))
        ok = dsr_buf_puts(&b, "?");
      p = close + 1;
    } else {
      ok = dsr_buf_append(&b, p, 1);
      p++;
    }
  }
  if (!ok) {
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}
