/**
 * @file sample_tables.c
 * @brief The sample platform's tables as COPY text. Each table is produced by
 *        its own pass over the population; ids are dense counters that every
 *        pass advances identically, so references between tables agree
 *        without keeping rows in memory.
 */
#include "config.h"
#include "sample_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  T_PLANS, T_USERS, T_WORKSPACES, T_WS_SETTINGS, T_MEMBERS, T_CONTACTS, T_CALLS, T_RECORDINGS,
  T_TRANSCRIPTS, T_SUMMARIES, T_VOICEMAILS, T_MESSAGES, T_CONSENTS, T_SUPPRESSIONS, T_DNCR,
  T_CRM, T_INVOICES, T_PAYMENTS, T_TICKETS, T_INQUIRIES, T_SECURITY, T_ABUSE, T_SESSIONS,
  T_DEVICES, T_COUNT
};

static const struct dsr_sample_table tables[T_COUNT] = {
    {"plans", "id, code, name, recording_retention_days, monthly_price_cents", false},
    {"users", "id, email, phone, full_name, country, locale, status, created_at, last_login_at, "
              "closed_at", true},
    {"workspaces", "id, uuid, name, plan_id, owner_user_id, status, country, main_number, "
                   "recording_enabled, recording_retention_days, webhook_url, created_at, closed_at",
     true},
    {"workspace_settings", "workspace_id, recording_retention_days, transcript_retention_days, "
                           "voicemail_retention_days, message_retention_days, "
                           "call_log_retention_days, ai_analysis_enabled, updated_by_user_id, "
                           "updated_at", false},
    {"workspace_members", "id, workspace_id, user_id, role, extension, joined_at, removed_at", true},
    {"contacts", "id, workspace_id, phone, email, full_name, company, birth_date, is_minor, source, "
                 "notes, tags, created_at, updated_at", true},
    {"calls", "id, uuid, workspace_id, direction, caller_number, called_number, status, sip_code, "
              "started_at, answered_at, ended_at, duration_seconds, agent_user_id, contact_id, "
              "disposition, notes, tags", true},
    {"recordings", "id, uuid, workspace_id, call_id, file_path, format, size_bytes, "
                   "duration_seconds, encrypted, key_id, created_at", true},
    {"transcripts", "id, workspace_id, recording_id, language, text, word_count, created_at", true},
    {"ai_summaries", "id, workspace_id, call_id, recording_id, model, summary, sentiment, "
                     "sentiment_score, keywords, created_at", true},
    {"voicemails", "id, uuid, workspace_id, call_id, caller_number, called_number, file_path, "
                   "size_bytes, duration_seconds, transcript, created_at, listened_at", true},
    {"messages", "id, workspace_id, channel, direction, from_address, to_address, body, contact_id, "
                 "agent_user_id, status, sent_at", true},
    {"consents", "id, workspace_id, phone, email, purpose, granted_at, withdrawn_at, source", true},
    {"suppressions", "id, workspace_id, phone, reason, created_at", true},
    {"dncr_checks", "id, workspace_id, phone, registry, result, reference, checked_at", true},
    {"crm_links", "id, workspace_id, contact_id, call_id, crm, external_id, synced_at", true},
    {"invoices", "id, workspace_id, user_id, number, billing_name, billing_email, billing_address, "
                 "amount_cents, currency, status, issued_at, due_at", true},
    {"payments", "id, invoice_id, workspace_id, amount_cents, method, card_last4, payer_name, "
                 "processor_ref, paid_at", true},
    {"support_tickets", "id, workspace_id, user_id, requester_email, requester_name, subject, body, "
                        "status, created_at, closed_at", true},
    {"website_inquiries", "id, full_name, email, phone, company, message, ip, created_at", true},
    {"security_events", "id, user_id, workspace_id, kind, ip, user_agent, occurred_at", true},
    {"abuse_reports", "id, workspace_id, user_id, reported_number, reporter_email, reporter_phone, "
                      "ip, kind, details, status, created_at", true},
    {"web_sessions", "id, user_id, ip, user_agent, started_at, last_seen_at, ended_at", true},
    {"devices", "id, user_id, workspace_id, platform, model, os_version, sim_number, sim_carrier, "
                "imei, last_ip, registered_at, last_seen_at", true},
};

const struct dsr_sample_table *dsr_sample_tables(size_t *n)
{
  *n = T_COUNT;
  return tables;
}

/* --- vocabulary ---------------------------------------------------------------- */

static const char *const topics[] = {
    "a billing question", "a late delivery", "rescheduling an appointment", "a refund",
    "resetting a password", "upgrading the plan", "a technical problem", "cancelling a contract",
    "an insurance claim", "a new order",
};
static const char *const topic_kw[] = {
    "{billing,invoice}", "{delivery,delay}", "{appointment,reschedule}", "{refund,payment}",
    "{password,login}", "{upgrade,plan}", "{technical,outage}", "{cancellation,contract}",
    "{claim,insurance}", "{order,purchase}",
};
static const char *const resolutions[] = {
    "I have fixed that for you now.", "I will send you an email with the details.",
    "A colleague will call you back tomorrow.", "I have opened a ticket for this.",
    "That is all sorted, thank you for your patience.",
};
static const char *const relations[] = {"colleague", "sister", "husband", "wife", "manager",
                                        "neighbour", "son", "daughter", "friend"};
static const char *const user_agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/119.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "CallDesk/4.2 (Android 14; Pixel 8)", "CallDesk/4.2 (iOS 17.1; iPhone15,2)",
};
static const char *const crms[] = {"salesforce", "hubspot", "zoho", "pipedrive"};

/* --- COPY text output -------------------------------------------------------- */

struct out {
  char *b;
  size_t len, cap;
  const struct dsr_sample_sink *sink;
  bool failed;
  int col;
  long rows;
};

#define OUT_FLUSH (256 * 1024)

static bool o_reserve(struct out *o, size_t n)
{
  if (o->len + n <= o->cap)
    return true;
  size_t cap = o->cap ? o->cap : OUT_FLUSH * 2;
  while (cap < o->len + n)
    cap *= 2;
  char *p = realloc(o->b, cap);
  if (!p) {
    o->failed = true;
    return false;
  }
  o->b = p;
  o->cap = cap;
  return true;
}

static void o_sep(struct out *o)
{
  if (o->col++ > 0 && o_reserve(o, 1))
    o->b[o->len++] = '\t';
}

static void o_null(struct out *o)
{
  o_sep(o);
  if (o_reserve(o, 2)) {
    memcpy(o->b + o->len, "\\N", 2);
    o->len += 2;
  }
}

/** A text field, escaped for COPY's text format; NULL gives SQL NULL. */
static void o_text(struct out *o, const char *s)
{
  if (!s) {
    o_null(o);
    return;
  }
  o_sep(o);
  size_t n = strlen(s);
  if (!o_reserve(o, 2 * n))
    return;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    switch (c) {
    case '\\': o->b[o->len++] = '\\'; o->b[o->len++] = '\\'; break;
    case '\n': o->b[o->len++] = '\\'; o->b[o->len++] = 'n'; break;
    case '\r': o->b[o->len++] = '\\'; o->b[o->len++] = 'r'; break;
    case '\t': o->b[o->len++] = '\\'; o->b[o->len++] = 't'; break;
    default: o->b[o->len++] = c;
    }
  }
}

static void o_long(struct out *o, long long v)
{
  char tmp[24];
  snprintf(tmp, sizeof tmp, "%lld", v);
  o_text(o, tmp);
}

/** An id, or NULL when @p v <= 0. */
static void o_ref(struct out *o, long long v)
{
  if (v > 0)
    o_long(o, v);
  else
    o_null(o);
}

static void o_bool(struct out *o, bool v)
{
  o_text(o, v ? "t" : "f");
}

static void o_ts(struct out *o, time_t t)
{
  char tmp[24];
  sample_ts(t, tmp);
  o_text(o, tmp);
}

static void o_ts_or_null(struct out *o, time_t t)
{
  if (t)
    o_ts(o, t);
  else
    o_null(o);
}

static void o_end(struct out *o)
{
  if (o_reserve(o, 1))
    o->b[o->len++] = '\n';
  o->col = 0;
  o->rows++;
  if (o->len >= OUT_FLUSH && !o->failed) {
    if (!o->sink->write(o->sink->ctx, o->b, o->len))
      o->failed = true;
    o->len = 0;
  }
}

/* --- calls ------------------------------------------------------------------- */

struct call {
  long ws;
  int slot;
  char uuid[37];
  bool inbound;
  const char *status;
  int sip;
  time_t start, answer, end;
  int dur;
  long agent;        /* user index or -1 */
  const char *disposition;
  int topic;
  bool has_rec, encrypted, has_transcript, has_summary, has_vm, crm;
  char rec_uuid[37], vm_uuid[37];
  uint32_t samples, freq;
  long mention;      /* person mentioned in the transcript, or -1 */
  bool mention_email;
  int resolution, relation, sentiment, notes;
  unsigned rnd;      /* spare randomness for small choices */
};

static long ws_agent(const struct ws *w, struct dsr_sample_rng *r)
{
  if (w->nagents == 0)
    return w->owner;
  return w->agents[dsr_sample_rng_below(r, (uint64_t)w->nagents)];
}

static void call_at(const struct dsr_sample *g, const struct person *P, long j, long call_id,
                    struct call *c)
{
  struct dsr_sample_rng r;
  dsr_sample_rng_init(&r, g->o.seed, K_CALL, (uint64_t)call_id);
  memset(c, 0, sizeof *c);
  c->slot = j < P->nslots ? (int)j : (int)dsr_sample_rng_below(&r, (uint64_t)P->nslots);
  c->ws = P->slot_ws[c->slot];
  const struct ws *w = &g->ws[c->ws];
  sample_uuid(&r, c->uuid);
  c->inbound = dsr_sample_rng_pct(&r, 65);
  time_t age = dsr_sample_rng_pct(&r, 70) ? (time_t)dsr_sample_rng_below(&r, 90 * DAY)
                                           : (time_t)dsr_sample_rng_range(&r, 90 * DAY, 730 * DAY);
  time_t latest = w->closed ? w->closed : g->o.now - 3600;
  c->start = g->o.now - age;
  if (c->start > latest)
    c->start = latest - (time_t)dsr_sample_rng_below(&r, 300 * DAY);
  if (c->start < w->created)
    c->start = w->created + (time_t)dsr_sample_rng_below(&r, 30 * DAY);
  unsigned k = (unsigned)dsr_sample_rng_below(&r, 100);
  static const int fail_codes[] = {503, 404, 603, 408};
  int fail = fail_codes[dsr_sample_rng_below(&r, 4)];
  if (c->inbound) {
    if (k < 70) { c->status = "answered"; c->sip = 200; }
    else if (k < 82) { c->status = "missed"; c->sip = 487; }
    else if (k < 90) { c->status = "voicemail"; c->sip = 200; }
    else if (k < 95) { c->status = "busy"; c->sip = 486; }
    else { c->status = "failed"; c->sip = fail; }
  } else {
    if (k < 60) { c->status = "answered"; c->sip = 200; }
    else if (k < 85) { c->status = "missed"; c->sip = 480; }
    else if (k < 95) { c->status = "busy"; c->sip = 486; }
    else { c->status = "failed"; c->sip = fail; }
  }
  bool answered = c->sip == 200 && c->status[0] == 'a';
  int ring = (int)dsr_sample_rng_range(&r, 3, 35);
  if (answered)
    c->dur = 20 + (int)dsr_sample_rng_below(&r, 600) +
             (dsr_sample_rng_pct(&r, 10) ? (int)dsr_sample_rng_below(&r, 3000) : 0);
  else if (c->status[0] == 'v')
    c->dur = (int)dsr_sample_rng_range(&r, 8, 90);
  c->answer = answered ? c->start + ring : 0;
  c->end = c->start + ring + c->dur;
  c->agent = answered || !c->inbound ? ws_agent(w, &r) : -1;
  static const char *const dispositions[] = {"resolved", "follow_up", "sale", "escalated",
                                             "info_only"};
  c->disposition = answered ? PICK(&r, dispositions) : NULL;
  c->topic = (int)dsr_sample_rng_below(&r, DSR_ARRAY_LEN(topics));
  c->has_rec = answered && w->recording_enabled && dsr_sample_rng_pct(&r, 85);
  c->encrypted = c->has_rec && (w->plan == 3 || dsr_sample_rng_pct(&r, 10));
  c->has_transcript = c->has_rec && dsr_sample_rng_pct(&r, 92);
  /* summaries are made from the recording (the draw is taken either way, so the
   * rest of the call stays the same whatever is recorded) */
  bool summarized = answered && dsr_sample_rng_pct(&r, 85);
  c->has_summary = summarized && c->has_rec;
  c->has_vm = c->status[0] == 'v';
  c->crm = answered && dsr_sample_rng_pct(&r, 8);
  sample_uuid(&r, c->rec_uuid);
  sample_uuid(&r, c->vm_uuid);
  c->samples = (uint32_t)dsr_sample_rng_range(&r, 2000, 4000);
  c->freq = (uint32_t)dsr_sample_rng_range(&r, 300, 1000);
  c->mention = -1;
  if (g->N > 1 && dsr_sample_rng_pct(&r, 35)) {
    c->mention = (long)dsr_sample_rng_below(&r, (uint64_t)g->N);
    if (c->mention == P->index)
      c->mention = (c->mention + 1) % g->N;
  }
  c->mention_email = dsr_sample_rng_pct(&r, 10);
  c->resolution = (int)dsr_sample_rng_below(&r, DSR_ARRAY_LEN(resolutions));
  c->relation = (int)dsr_sample_rng_below(&r, DSR_ARRAY_LEN(relations));
  unsigned s = (unsigned)dsr_sample_rng_below(&r, 100);
  c->sentiment = s < 45 ? 0 : (s < 80 ? 1 : 2);
  c->notes = dsr_sample_rng_pct(&r, 15) ? (int)dsr_sample_rng_range(&r, 1, 3) : 0;
  c->rnd = (unsigned)dsr_sample_rng_next(&r);
}

/* --- the pass over people ------------------------------------------------------ */

struct pass {
  struct dsr_sample *g;
  size_t t;
  struct out *o;
  char *err;
  size_t errlen;
  bool failed;
  long contact_id, call_id, rec_id, tr_id, vm_id, dev_id, id;
  long slot_cid[MAX_SLOTS];
};

static uint64_t slot_key(long p, int s)
{
  return ((uint64_t)p << 8) | (uint64_t)s;
}

static bool contact_has_email(const struct dsr_sample *g, const struct person *P, int s)
{
  struct dsr_sample_rng r;
  dsr_sample_rng_init(&r, g->o.seed, K_CONTACT, slot_key(P->index, s));
  return dsr_sample_rng_pct(&r, 70) || P->designated;
}

static void emit_contact(struct pass *ps, const struct person *P, int s, long id)
{
  struct dsr_sample *g = ps->g;
  struct out *o = ps->o;
  const struct ws *w = &g->ws[P->slot_ws[s]];
  struct dsr_sample_rng r;
  dsr_sample_rng_init(&r, g->o.seed, K_CONTACT, slot_key(P->index, s));
  bool email = dsr_sample_rng_pct(&r, 70) || P->designated;
  bool name = dsr_sample_rng_pct(&r, 92) || P->designated;
  static const char *const companies[] = {"Globex", "Initech", "Umbrella Foods", "Stark Textiles",
                                          "Wayne Logistics", "Hooli", "Vandelay Imports"};
  const char *company = dsr_sample_rng_pct(&r, 30) ? PICK(&r, companies) : NULL;
  static const char *const sources[] = {"upload", "crm", "inbound", "manual"};
  const char *source = PICK(&r, sources);
  static const char *const notes[] = {"Prefers calls after 5pm.", "Asked not to be called on weekends.",
                                      "VIP customer, handle with care.",
                                      "Speaks Portuguese and English."};
  const char *note = dsr_sample_rng_pct(&r, 20) ? PICK(&r, notes) : NULL;
  static const char *const tags[] = {"{}", "{lead}", "{customer}", "{vip}", "{lead,callback}",
                                     "{customer,renewal}"};
  const char *tag = PICK(&r, tags);
  time_t created = g->o.now - (time_t)dsr_sample_rng_range(&r, 1, 900) * DAY -
                   (time_t)dsr_sample_rng_below(&r, DAY);
  if (created < w->created)
    created = w->created + (time_t)dsr_sample_rng_below(&r, DAY);
  time_t updated = created + (time_t)dsr_sample_rng_below(&r, 60 * DAY);
  if (updated > g->o.now)
    updated = g->o.now;
  char bd[11];
  sample_date(P->by, P->bm, P->bd, bd);
  o_long(o, id);
  o_long(o, P->slot_ws[s] + 1);
  o_text(o, P->phone);
  o_text(o, email ? P->email : NULL);
  o_text(o, name ? P->name : NULL);
  o_text(o, company);
  o_text(o, P->birth_known ? bd : NULL);
  o_bool(o, P->minor);
  o_text(o, source);
  o_text(o, note);
  o_text(o, tag);
  o_ts(o, created);
  o_ts(o, updated);
  o_end(o);
}

static void phone_spoken(const char *phone, char *out, size_t n, unsigned style)
{
  /* Transcribers write numbers in several ways: "+14155550123" or "+1 415 555 0123". */
  if (style % 3 != 0) {
    sample_strlcpy(out, phone, n);
    return;
  }
  size_t len = strlen(phone), o = 0;
  for (size_t i = 0; i < len && o + 2 < n; i++) {
    if (i > 1 && (len - i) % 4 == 0)
      out[o++] = ' ';
    out[o++] = phone[i];
  }
  out[o] = '\0';
}

static void emit_transcript(struct pass *ps, const struct person *P, const struct call *c)
{
  struct dsr_sample *g = ps->g;
  const struct ws *w = &g->ws[c->ws];
  struct person agent_p, other;
  sample_person(g, g->users[c->agent >= 0 ? c->agent : w->owner].person, &agent_p);
  char text[2048], num[40];
  size_t n = 0;
  phone_spoken(P->phone, num, sizeof num, c->rnd);
#define ADD(...)                                                   \
  do {                                                             \
    if (n < sizeof text)                                           \
      n += (size_t)snprintf(text + n, sizeof text - n, __VA_ARGS__); \
  } while (0)
  if (c->inbound) {
    ADD("Agent: Thank you for calling %s, my name is %s. How can I help you today?\n", w->name,
        agent_p.first);
    ADD("Caller: Hi, this is %s. I'm calling about %s.\n", P->name, topics[c->topic]);
  } else {
    ADD("Agent: Hello, this is %s from %s. Am I speaking with %s?\n", agent_p.first, w->name,
        P->name);
    ADD("Caller: Yes, speaking. Is this about %s?\n", topics[c->topic]);
  }
  ADD("Agent: Can I confirm the best number to reach you?\nCaller: Sure, it's %s.\n", num);
  if (c->mention_email)
    ADD("Caller: You can also email me at %s.\n", P->email);
  if (c->mention >= 0) {
    sample_person(g, c->mention, &other);
    char onum[40];
    phone_spoken(other.phone, onum, sizeof onum, c->rnd >> 3);
    ADD("Caller: Also, my %s %s asked me to mention they can be reached on %s.\n",
        relations[c->relation], other.name, onum);
  }
  ADD("Agent: %s\nCaller: Thanks, bye.\n", resolutions[c->resolution]);
#undef ADD
  if (n >= sizeof text)
    n = sizeof text - 1;
  text[n] = '\0';
  int words = 0;
  for (size_t i = 0; i < n; i++)
    words += (text[i] == ' ' || text[i] == '\n') && i + 1 < n && text[i + 1] != ' ';
  struct out *o = ps->o;
  o_long(o, ps->tr_id);
  o_long(o, c->ws + 1);
  o_long(o, ps->rec_id + 1); /* the call's recording (rec_id advances after the call) */
  o_text(o, "en");
  o_text(o, text);
  o_long(o, words);
  o_ts(o, c->end + 30 + (time_t)(c->rnd % 270));
  o_end(o);
}

static void emit_summary(struct pass *ps, const struct person *P, const struct call *c, long id,
                         long call_id)
{
  static const char *const sentiments[] = {"positive", "neutral", "negative"};
  static const char *const models[] = {"summarizer-v2", "callnotes-large"};
  const struct ws *w = &ps->g->ws[c->ws];
  char summary[512], score[16];
  snprintf(summary, sizeof summary, "%s %s %s about %s. Agent: \"%s\" Outcome: %s.", P->name,
           c->inbound ? "called" : "was called by", w->name, topics[c->topic],
           resolutions[c->resolution], c->disposition ? c->disposition : "none");
  int milli = (int)(c->rnd % 700);
  int v = c->sentiment == 0 ? 300 + milli : (c->sentiment == 1 ? -200 + milli * 5 / 7 / 2
                                                                : -1000 + milli * 8 / 7);
  snprintf(score, sizeof score, "%s%d.%03d", v < 0 ? "-" : "", abs(v) / 1000, abs(v) % 1000);
  struct out *o = ps->o;
  o_long(o, id);
  o_long(o, c->ws + 1);
  o_long(o, call_id);
  o_long(o, ps->rec_id + 1); /* the call's recording (rec_id advances after the call) */
  o_text(o, models[c->rnd % 2]);
  o_text(o, summary);
  o_text(o, sentiments[c->sentiment]);
  o_text(o, score);
  o_text(o, topic_kw[c->topic]);
  o_ts(o, c->end + 60 + (time_t)(c->rnd % 540));
  o_end(o);
}

/* Writes a media file; @p key_id non-NULL: sealed for @p phone when the generator seals. */
static bool media(struct pass *ps, const char *kind, long ws, const char *uuid, time_t created,
                  const struct call *c, const char *phone, char *key_id, size_t *size)
{
  *size = dsr_sample_wav_size(c->samples);
  if (key_id)
    key_id[0] = '\0';
  if (!ps->g->o.media_root || ps->failed)
    return !ps->failed;
  if (!sample_media_write(ps->g, kind, ws, uuid, created, c->samples, c->freq, phone, key_id,
                          size, ps->err, ps->errlen))
    ps->failed = true;
  return !ps->failed;
}

static void emit_call_rows(struct pass *ps, const struct person *P, long j)
{
  struct dsr_sample *g = ps->g;
  struct out *o = ps->o;
  struct call c;
  long call_id = ++ps->call_id;
  call_at(g, P, j, call_id, &c);
  const struct ws *w = &g->ws[c.ws];
  long contact = P->slot_contact[c.slot] ? ps->slot_cid[c.slot] : 0;
  const char *caller = c.inbound ? P->phone : w->main_number;
  const char *called = c.inbound ? w->main_number : P->phone;
  char path[160];
  switch (ps->t) {
  case T_CALLS: {
    char note[160];
    if (c.notes == 1)
      snprintf(note, sizeof note, "Customer asked for a callback.");
    else if (c.notes == 2)
      snprintf(note, sizeof note, "Spoke with %s; wants a quote.", P->first);
    else
      snprintf(note, sizeof note, "%s was unhappy about the wait.", P->first);
    static const char *const tags[] = {"{}", "{support}", "{sales}", "{billing}", "{support,urgent}"};
    o_long(o, call_id);
    o_text(o, c.uuid);
    o_long(o, c.ws + 1);
    o_text(o, c.inbound ? "inbound" : "outbound");
    o_text(o, caller);
    o_text(o, called);
    o_text(o, c.status);
    o_long(o, c.sip);
    o_ts(o, c.start);
    o_ts_or_null(o, c.answer);
    o_ts(o, c.end);
    o_long(o, c.dur);
    o_ref(o, c.agent >= 0 ? c.agent + 1 : 0);
    o_ref(o, contact);
    o_text(o, c.disposition);
    o_text(o, c.notes ? note : NULL);
    o_text(o, c.disposition ? tags[c.rnd % 5] : "{}");
    o_end(o);
    break;
  }
  case T_RECORDINGS:
    if (!c.has_rec)
      break;
    snprintf(path, sizeof path, "recordings/%s/%s.wav", w->uuid, c.rec_uuid);
    char sealed_key[40];
    size_t rec_size;
    if (!media(ps, "recordings", c.ws, c.rec_uuid, c.end, &c, P->phone, sealed_key, &rec_size))
      return;
    o_long(o, ps->rec_id + 1);
    o_text(o, c.rec_uuid);
    o_long(o, c.ws + 1);
    o_long(o, call_id);
    o_text(o, path);
    o_text(o, "wav");
    o_long(o, (long long)rec_size);
    o_long(o, c.dur);
    o_bool(o, c.encrypted || sealed_key[0]);
    if (sealed_key[0]) {
      o_text(o, sealed_key);
    } else if (c.encrypted) {
      char key[40];
      snprintf(key, sizeof key, "k-%08x", (unsigned)(c.rnd * 2654435761u));
      o_text(o, key);
    } else {
      o_null(o);
    }
    o_ts(o, c.end);
    o_end(o);
    break;
  case T_TRANSCRIPTS:
    if (c.has_transcript) {
      ps->tr_id++;
      emit_transcript(ps, P, &c);
    }
    break;
  case T_SUMMARIES:
    if (c.has_summary)
      emit_summary(ps, P, &c, ++ps->id, call_id);
    break;
  case T_VOICEMAILS:
    if (!c.has_vm)
      break;
    snprintf(path, sizeof path, "voicemail/%s/%s.wav", w->uuid, c.vm_uuid);
    size_t vm_size;
    if (!media(ps, "voicemail", c.ws, c.vm_uuid, c.end, &c, NULL, NULL, &vm_size))
      return;
    {
      char text[400], num[40];
      phone_spoken(P->phone, num, sizeof num, c.rnd);
      snprintf(text, sizeof text, "Hi, this is %s. Please call me back on %s about %s. Thanks.",
               P->name, num, topics[c.topic]);
      o_long(o, ++ps->vm_id);
      o_text(o, c.vm_uuid);
      o_long(o, c.ws + 1);
      o_long(o, call_id);
      o_text(o, caller);
      o_text(o, called);
      o_text(o, path);
      o_long(o, (long long)dsr_sample_wav_size(c.samples));
      o_long(o, c.dur);
      o_text(o, text);
      o_ts(o, c.end);
      o_ts_or_null(o, c.rnd % 10 < 7 ? c.end + 600 + (time_t)(c.rnd % 86400) : 0);
      o_end(o);
    }
    break;
  case T_CRM:
    if (c.crm) {
      char ext[32];
      snprintf(ext, sizeof ext, "00T%012llx", (unsigned long long)c.rnd * 40503ull);
      o_long(o, ++ps->id);
      o_long(o, c.ws + 1);
      o_ref(o, contact);
      o_long(o, call_id);
      o_text(o, crms[c.ws % 4]);
      o_text(o, ext);
      o_ts(o, c.end + 120);
      o_end(o);
    }
    break;
  default:
    break;
  }
  if (c.has_rec)
    ps->rec_id++;
}

static const char *registry_of(const char *cc)
{
  if (!strcmp(cc, "IN")) return "IN-NCPR";
  if (!strcmp(cc, "GB")) return "UK-TPS";
  if (!strcmp(cc, "AU")) return "AU-DNCR";
  if (!strcmp(cc, "DE")) return "DE-ROBINSON";
  if (!strcmp(cc, "BR")) return "BR-NAO-PERTURBE";
  return "US-DNC";
}

/** DNCR checks of one (person, workspace); returns whether the number is registered. */
static bool dncr_pair(struct pass *ps, const struct person *P, int s, bool emit)
{
  struct dsr_sample_rng r;
  dsr_sample_rng_init(&r, ps->g->o.seed, K_DNCR, slot_key(P->index, s));
  if (!dsr_sample_rng_pct(&r, 40))
    return false;
  bool reg = dsr_sample_rng_pct(&r, 8);
  int n = dsr_sample_rng_pct(&r, 40) ? 2 : 1;
  for (int i = 0; i < n && emit; i++) {
    bool error = dsr_sample_rng_pct(&r, 3);
    char ref[32];
    snprintf(ref, sizeof ref, "chk-%016llx", (unsigned long long)dsr_sample_rng_next(&r));
    struct out *o = ps->o;
    o_long(o, ++ps->id);
    o_long(o, P->slot_ws[s] + 1);
    o_text(o, P->phone);
    o_text(o, registry_of(P->country));
    o_text(o, error ? "error" : (reg ? "registered" : "not_registered"));
    o_text(o, ref);
    o_ts(o, ps->g->o.now - (time_t)dsr_sample_rng_below(&r, 400 * DAY));
    o_end(o);
  }
  return reg;
}

static void emit_messages(struct pass *ps, const struct person *P, int s)
{
  struct dsr_sample *g = ps->g;
  const struct ws *w = &g->ws[P->slot_ws[s]];
  struct dsr_sample_rng r;
  dsr_sample_rng_init(&r, g->o.seed, K_MSG, slot_key(P->index, s));
  int n = (int)dsr_sample_rng_below(&r, 4);
  bool email = contact_has_email(g, P, s);
  char ws_mail[96];
  snprintf(ws_mail, sizeof ws_mail, "support@%s.example", w->slug);
  for (int i = 0; i < n; i++) {
    unsigned k = (unsigned)dsr_sample_rng_below(&r, 100);
    const char *channel = email && k < 15 ? "email" : (k < 45 ? "whatsapp" : "sms");
    bool out = dsr_sample_rng_pct(&r, 55);
    time_t at = g->o.now - (time_t)dsr_sample_rng_below(&r, 400 * DAY);
    if (at < w->created)
      at = w->created + 3600;
    const char *mine = channel[0] == 'e' ? P->email : P->phone;
    const char *theirs = channel[0] == 'e' ? ws_mail : w->main_number;
    char body[400], date[24];
    sample_ts(at + 3 * DAY, date);
    date[10] = '\0';
    unsigned t = (unsigned)dsr_sample_rng_below(&r, 3);
    if (out && t == 0)
      snprintf(body, sizeof body, "Hi %s, your appointment with %s on %s is confirmed. Reply STOP to opt out.",
               P->first, w->name, date);
    else if (out && t == 1)
      snprintf(body, sizeof body, "Hi %s, thanks for calling %s today. Call us back on %s any time.",
               P->first, w->name, w->main_number);
    else if (out)
      snprintf(body, sizeof body, "Dear %s, your ticket about %s has been updated.", P->name,
               topics[dsr_sample_rng_below(&r, DSR_ARRAY_LEN(topics))]);
    else if (t == 0)
      snprintf(body, sizeof body, "Hi, this is %s. Please call me back on %s.", P->name, P->phone);
    else if (t == 1)
      snprintf(body, sizeof body, "STOP");
    else
      snprintf(body, sizeof body, "Can we move it to Friday? %s", P->first);
    long agent = out && dsr_sample_rng_pct(&r, 70) ? ws_agent(w, &r) : -1;
    const char *status = out ? (dsr_sample_rng_pct(&r, 5) ? "failed" : (dsr_sample_rng_pct(&r, 50) ? "read" : "delivered"))
                             : "received";
    struct out *o = ps->o;
    o_long(o, ++ps->id);
    o_long(o, P->slot_ws[s] + 1);
    o_text(o, channel);
    o_text(o, out ? "outbound" : "inbound");
    o_text(o, out ? theirs : mine);
    o_text(o, out ? mine : theirs);
    o_text(o, body);
    o_ref(o, P->slot_contact[s] ? ps->slot_cid[s] : 0);
    o_ref(o, agent >= 0 ? agent + 1 : 0);
    o_text(o, status);
    o_ts(o, at);
    o_end(o);
  }
}

static void consent_row(struct pass *ps, long ws, const char *phone, const char *email,
                        const char *purpose, time_t granted, time_t withdrawn, const char *source)
{
  struct out *o = ps->o;
  o_long(o, ++ps->id);
  o_ref(o, ws);
  o_text(o, phone);
  o_text(o, email);
  o_text(o, purpose);
  o_ts(o, granted);
  o_ts_or_null(o, withdrawn);
  o_text(o, source);
  o_end(o);
}

static void emit_consents(struct pass *ps, const struct person *P, int s)
{
  struct dsr_sample *g = ps->g;
  struct dsr_sample_rng r;
  dsr_sample_rng_init(&r, g->o.seed, K_CONSENT, slot_key(P->index, s));
  static const char *const sources[] = {"ivr_prompt", "web_form", "sms_keyword", "agent_recorded"};
  static const struct {
    const char *purpose;
    unsigned pct;
  } kinds[] = {{"call_recording", 80}, {"marketing", 30}, {"ai_analysis", 40}, {"sms", 20}};
  const char *email = contact_has_email(g, P, s) ? P->email : NULL;
  for (size_t i = 0; i < DSR_ARRAY_LEN(kinds); i++) {
    if (!dsr_sample_rng_pct(&r, kinds[i].pct))
      continue;
    time_t granted = g->o.now - (time_t)dsr_sample_rng_range(&r, 1, 800) * DAY;
    time_t withdrawn = dsr_sample_rng_pct(&r, 20) ? granted + (time_t)dsr_sample_rng_below(&r, g->o.now - granted) : 0;
    consent_row(ps, P->slot_ws[s] + 1, P->phone, email, kinds[i].purpose, granted, withdrawn,
                PICK(&r, sources));
  }
}

static void emit_person_misc(struct pass *ps, const struct person *P)
{
  struct dsr_sample *g = ps->g;
  struct out *o = ps->o;
  struct dsr_sample_rng r;
  char ip[20];
  switch (ps->t) {
  case T_CONSENTS:
    if (P->user >= 0) {
      const struct user *u = &g->users[P->user];
      dsr_sample_rng_init(&r, g->o.seed, K_CONSENT, slot_key(P->index, 255));
      consent_row(ps, 0, NULL, P->email, "terms", u->created, 0, "signup");
      if (dsr_sample_rng_pct(&r, 40))
        consent_row(ps, 0, NULL, P->email, "marketing", u->created,
                    dsr_sample_rng_pct(&r, 30) ? u->created + (time_t)dsr_sample_rng_below(&r, 300 * DAY) : 0,
                    "signup");
    }
    break;
  case T_SUPPRESSIONS:
    dsr_sample_rng_init(&r, g->o.seed, K_SUPP, slot_key(P->index, 255));
    if (dsr_sample_rng_pct(&r, 1)) {
      o_long(o, ++ps->id);
      o_null(o);
      o_text(o, P->phone);
      o_text(o, dsr_sample_rng_pct(&r, 50) ? "complaint" : "regulatory");
      o_ts(o, g->o.now - (time_t)dsr_sample_rng_below(&r, 700 * DAY));
      o_end(o);
    }
    break;
  case T_INQUIRIES:
    dsr_sample_rng_init(&r, g->o.seed, K_INQUIRY, (uint64_t)P->index);
    if (dsr_sample_rng_below(&r, 1000) < 15) {
      static const char *const msgs[] = {"Please send pricing for 20 agents.",
                                         "We would like a demo of the AI summaries.",
                                         "Do you support WhatsApp in India?"};
      sample_ip(&r, ip);
      o_long(o, ++ps->id);
      o_text(o, P->name);
      o_text(o, P->email);
      o_text(o, dsr_sample_rng_pct(&r, 70) ? P->phone : NULL);
      o_text(o, dsr_sample_rng_pct(&r, 60) ? "Example Trading Ltd" : NULL);
      o_text(o, PICK(&r, msgs));
      o_text(o, ip);
      o_ts(o, g->o.now - (time_t)dsr_sample_rng_below(&r, 900 * DAY));
      o_end(o);
    }
    break;
  case T_TICKETS: {
    dsr_sample_rng_init(&r, g->o.seed, K_TICKET, (uint64_t)P->index);
    int n = 0;
    if (P->user >= 0)
      n = dsr_sample_rng_pct(&r, 25) ? (int)dsr_sample_rng_range(&r, 1, 2) : 0;
    else
      n = dsr_sample_rng_below(&r, 1000) < 5 ? 1 : 0;
    static const char *const subjects[] = {"Cannot hear callers", "Question about my invoice",
                                           "Please delete my data", "Number porting",
                                           "Call quality issues"};
    for (int i = 0; i < n; i++) {
      long u = P->user;
      long ws = -1;
      if (u >= g->U)
        ws = g->W + (u - g->U);
      else if (u >= 0 && u < g->W)
        ws = u;
      time_t created = g->o.now - (time_t)dsr_sample_rng_below(&r, 600 * DAY);
      bool closed = dsr_sample_rng_pct(&r, 70);
      char body[400];
      snprintf(body, sizeof body, "Hello, I am %s (%s). %s. You can call me on %s.", P->name,
               P->email, subjects[dsr_sample_rng_below(&r, 5)], P->phone);
      o_long(o, ++ps->id);
      o_ref(o, ws + 1);
      o_ref(o, u + 1);
      o_text(o, P->email);
      o_text(o, P->name);
      o_text(o, subjects[dsr_sample_rng_below(&r, 5)]);
      o_text(o, body);
      o_text(o, closed ? "closed" : (dsr_sample_rng_pct(&r, 50) ? "open" : "pending"));
      o_ts(o, created);
      o_ts_or_null(o, closed ? created + (time_t)dsr_sample_rng_range(&r, 3600, 20 * DAY) : 0);
      o_end(o);
    }
    break;
  }
  case T_ABUSE:
    dsr_sample_rng_init(&r, g->o.seed, K_ABUSE, (uint64_t)P->index);
    if (dsr_sample_rng_below(&r, 1000) < 4) {
      static const char *const kinds[] = {"spam", "robocall", "fraud", "harassment", "spoofing"};
      const struct ws *w = &g->ws[P->slot_ws[0]];
      char details[300];
      int calls = (int)dsr_sample_rng_range(&r, 2, 30);
      snprintf(details, sizeof details, "Received %d unwanted calls from %s; caller said to be %s.",
               calls, w->main_number, w->name);
      sample_ip(&r, ip);
      o_long(o, ++ps->id);
      o_long(o, P->slot_ws[0] + 1);
      o_ref(o, dsr_sample_rng_pct(&r, 30) ? w->owner + 1 : 0);
      o_text(o, w->main_number);
      o_text(o, P->email);
      o_text(o, P->phone);
      o_text(o, ip);
      o_text(o, PICK(&r, kinds));
      o_text(o, details);
      o_text(o, dsr_sample_rng_pct(&r, 50) ? "actioned" : "open");
      o_ts(o, g->o.now - (time_t)dsr_sample_rng_below(&r, 500 * DAY));
      o_end(o);
    }
    break;
  default:
    break;
  }
}

static void emit_slot(struct pass *ps, const struct person *P, int s)
{
  struct dsr_sample *g = ps->g;
  struct out *o = ps->o;
  struct dsr_sample_rng r;
  switch (ps->t) {
  case T_CONTACTS:
    if (P->slot_contact[s])
      emit_contact(ps, P, s, ps->slot_cid[s]);
    break;
  case T_MESSAGES:
    emit_messages(ps, P, s);
    break;
  case T_CONSENTS:
    if (P->slot_contact[s])
      emit_consents(ps, P, s);
    break;
  case T_DNCR:
    dncr_pair(ps, P, s, true);
    break;
  case T_SUPPRESSIONS: {
    bool reg = dncr_pair(ps, P, s, false);
    dsr_sample_rng_init(&r, g->o.seed, K_SUPP, slot_key(P->index, s));
    bool opt = dsr_sample_rng_pct(&r, 3);
    const char *reason = reg ? "dncr_registered" : (dsr_sample_rng_pct(&r, 50) ? "opt_out" : "dnc_request");
    if (reg || opt) {
      o_long(o, ++ps->id);
      o_long(o, P->slot_ws[s] + 1);
      o_text(o, P->phone);
      o_text(o, reason);
      o_ts(o, g->o.now - (time_t)dsr_sample_rng_below(&r, 500 * DAY));
      o_end(o);
    }
    break;
  }
  case T_CRM:
    dsr_sample_rng_init(&r, g->o.seed, K_CRM, slot_key(P->index, s));
    if (P->slot_contact[s] && dsr_sample_rng_pct(&r, 25)) {
      char ext[32];
      snprintf(ext, sizeof ext, "003%012llx", (unsigned long long)(dsr_sample_rng_next(&r) >> 16));
      o_long(o, ++ps->id);
      o_long(o, P->slot_ws[s] + 1);
      o_long(o, ps->slot_cid[s]);
      o_null(o);
      o_text(o, crms[P->slot_ws[s] % 4]);
      o_text(o, ext);
      o_ts(o, g->o.now - (time_t)dsr_sample_rng_below(&r, 300 * DAY));
      o_end(o);
    }
    break;
  default:
    break;
  }
}

static bool needs_calls(size_t t)
{
  return t == T_CALLS || t == T_RECORDINGS || t == T_TRANSCRIPTS || t == T_SUMMARIES ||
         t == T_VOICEMAILS || t == T_CRM;
}

static void pass_people(struct pass *ps)
{
  struct dsr_sample *g = ps->g;
  long total = g->N + g->D;
  struct person P;
  for (long p = 0; p < total && !ps->failed && !ps->o->failed; p++) {
    sample_person(g, p, &P);
    for (int s = 0; s < P.nslots; s++)
      ps->slot_cid[s] = P.slot_contact[s] ? ++ps->contact_id : 0;
    for (int s = 0; s < P.nslots; s++)
      emit_slot(ps, &P, s);
    if (needs_calls(ps->t))
      for (long j = 0; j < P.ncalls && !ps->failed; j++)
        emit_call_rows(ps, &P, j);
    emit_person_misc(ps, &P);
    if (ps->o->sink->progress && (p & 4095) == 0)
      ps->o->sink->progress(ps->o->sink->ctx, (double)p / (double)total);
  }
}

/* --- workspaces, users, billing ----------------------------------------------- */

static long user_owned_ws(const struct dsr_sample *g, long u)
{
  if (u >= g->U)
    return g->W + (u - g->U);
  return u < g->W ? u : -1;
}

static void pass_users(struct pass *ps)
{
  struct dsr_sample *g = ps->g;
  struct out *o = ps->o;
  struct person P;
  char ip[20];
  static const char *const locales[] = {"en", "en", "hi", "en-GB", "de", "pt-BR", "en-AU"};
  for (long u = 0; u < g->UT && !o->failed; u++) {
    const struct user *x = &g->users[u];
    sample_person(g, x->person, &P);
    struct dsr_sample_rng r;
    time_t end = x->closed ? x->closed : g->o.now;
    long ws = user_owned_ws(g, u);
    if (ps->t == T_USERS) {
      const char *loc = "en";
      static const char *const ccs[] = {"US", "US", "IN", "GB", "DE", "BR", "AU"};
      for (size_t i = 0; i < DSR_ARRAY_LEN(ccs); i++)
        if (!strcmp(ccs[i], P.country))
          loc = locales[i];
      o_long(o, u + 1);
      o_text(o, P.email);
      o_text(o, x->has_phone ? P.phone : NULL);
      o_text(o, P.name);
      o_text(o, P.country);
      o_text(o, loc);
      o_text(o, x->status);
      o_ts(o, x->created);
      o_ts(o, x->last_login);
      o_ts_or_null(o, x->closed);
      o_end(o);
    } else if (ps->t == T_SESSIONS) {
      dsr_sample_rng_init(&r, g->o.seed, K_SESSION, (uint64_t)u);
      int n = (int)dsr_sample_rng_range(&r, 1, 4);
      for (int i = 0; i < n; i++) {
        time_t span = end - x->created > 90 * DAY ? 90 * DAY : end - x->created;
        time_t start = end - (span > 0 ? (time_t)dsr_sample_rng_below(&r, (uint64_t)span) : 0);
        time_t last = start + (time_t)dsr_sample_rng_below(&r, 8 * 3600);
        sample_ip(&r, ip);
        o_long(o, ++ps->id);
        o_long(o, u + 1);
        o_text(o, ip);
        o_text(o, PICK(&r, user_agents));
        o_ts(o, start);
        o_ts(o, last);
        o_ts_or_null(o, dsr_sample_rng_pct(&r, 80) || x->closed ? last + 60 : 0);
        o_end(o);
      }
    } else if (ps->t == T_SECURITY) {
      dsr_sample_rng_init(&r, g->o.seed, K_SECURITY, (uint64_t)u);
      int n = (int)dsr_sample_rng_range(&r, 2, 8);
      for (int i = 0; i < n; i++) {
        unsigned k = (unsigned)dsr_sample_rng_below(&r, 100);
        const char *kind = k < 60 ? "login" : k < 80 ? "login_failed" : k < 88 ? "password_reset"
                         : k < 93 ? "mfa_enrolled" : k < 98 ? "api_key_created" : "account_locked";
        time_t span = end - x->created;
        sample_ip(&r, ip);
        o_long(o, ++ps->id);
        o_long(o, u + 1);
        o_ref(o, ws >= 0 && dsr_sample_rng_pct(&r, 50) ? ws + 1 : 0);
        o_text(o, kind);
        o_text(o, ip);
        o_text(o, PICK(&r, user_agents));
        o_ts(o, x->created + (span > 0 ? (time_t)dsr_sample_rng_below(&r, (uint64_t)span) : 0));
        o_end(o);
      }
    }
  }
}

/** The membership rows of workspace @p w, in order: the owner, then the agents. */
static void pass_members(struct pass *ps)
{
  struct dsr_sample *g = ps->g;
  struct out *o = ps->o;
  static const char *const models[][3] = {{"android", "Pixel 8", "14"},
                                          {"android", "Galaxy A54", "13"},
                                          {"ios", "iPhone 15", "17.1"},
                                          {"web", "Chrome", "119"},
                                          {"desk_phone", "Yealink T54W", "96.86"}};
  static const char *const carriers[] = {"Jio", "Airtel", "Vodafone", "T-Mobile", "Verizon",
                                         "Telstra", "Vivo"};
  for (long w = 0; w < g->WT && !o->failed; w++) {
    const struct ws *x = &g->ws[w];
    for (int i = -1; i < x->nagents; i++) {
      long u = i < 0 ? x->owner : x->agents[i];
      long mid = ++ps->id;
      struct dsr_sample_rng r;
      dsr_sample_rng_init(&r, g->o.seed, K_MEMBER, (uint64_t)mid);
      time_t joined = x->created + (i < 0 ? 0 : (time_t)dsr_sample_rng_below(&r, 300 * DAY));
      const struct user *ux = &g->users[u];
      if (joined < ux->created)
        joined = ux->created;
      bool removed = i >= 0 && dsr_sample_rng_pct(&r, 10);
      const char *role = i < 0 ? "owner" : (i == 0 && x->nagents > 2 ? "admin"
                                            : (i == 1 && x->nagents > 4 ? "supervisor" : "agent"));
      if (ps->t == T_MEMBERS) {
        char ext[16];
        snprintf(ext, sizeof ext, "%d", 101 + i + 1);
        o_long(o, mid);
        o_long(o, w + 1);
        o_long(o, u + 1);
        o_text(o, role);
        o_text(o, ext);
        o_ts(o, joined);
        o_ts_or_null(o, removed ? joined + (time_t)dsr_sample_rng_range(&r, DAY, 200 * DAY) : 0);
        o_end(o);
        continue;
      }
      /* T_DEVICES */
      dsr_sample_rng_init(&r, g->o.seed, K_DEVICE, (uint64_t)mid);
      if (!dsr_sample_rng_pct(&r, i < 0 ? 30 : 70))
        continue;
      struct person P;
      sample_person(g, ux->person, &P);
      const char *const *m = models[dsr_sample_rng_below(&r, DSR_ARRAY_LEN(models))];
      bool mobile = !strcmp(m[0], "android") || !strcmp(m[0], "ios");
      char imei[20], ip[20];
      snprintf(imei, sizeof imei, "35%013llu",
               (unsigned long long)(dsr_sample_rng_next(&r) % 10000000000000ull));
      sample_ip(&r, ip);
      time_t reg = joined + (time_t)dsr_sample_rng_below(&r, 30 * DAY);
      time_t seen = ux->closed ? ux->closed : g->o.now - (time_t)dsr_sample_rng_below(&r, 10 * DAY);
      if (seen < reg)
        seen = reg;
      o_long(o, ++ps->dev_id);
      o_long(o, u + 1);
      o_long(o, w + 1);
      o_text(o, m[0]);
      o_text(o, m[1]);
      o_text(o, m[2]);
      o_text(o, mobile && ux->has_phone ? P.phone : NULL);
      o_text(o, mobile ? PICK(&r, carriers) : NULL);
      o_text(o, !strcmp(m[0], "android") ? imei : NULL);
      o_text(o, ip);
      o_ts(o, reg);
      o_ts(o, seen);
      o_end(o);
    }
  }
}

static void pass_workspaces(struct pass *ps)
{
  struct dsr_sample *g = ps->g;
  struct out *o = ps->o;
  static const int overrides[] = {7, 30, 60, 120, 400};
  for (long w = 0; w < g->WT && !o->failed; w++) {
    const struct ws *x = &g->ws[w];
    if (ps->t == T_WORKSPACES) {
      char hook[160];
      snprintf(hook, sizeof hook, "https://hooks.%s.example/dsr", x->slug);
      o_long(o, w + 1);
      o_text(o, x->uuid);
      o_text(o, x->name);
      o_long(o, sample_plans[x->plan].id);
      o_long(o, x->owner + 1);
      o_text(o, x->status);
      o_text(o, x->country);
      o_text(o, x->main_number);
      o_bool(o, x->recording_enabled);
      o_long(o, x->retention_days);
      o_text(o, x->webhook ? hook : NULL);
      o_ts(o, x->created);
      o_ts_or_null(o, x->closed);
      o_end(o);
      continue;
    }
    struct dsr_sample_rng r;
    dsr_sample_rng_init(&r, g->o.seed, K_WS_SETTINGS, (uint64_t)w);
    if (!dsr_sample_rng_pct(&r, 30))
      continue;
    int rec = overrides[dsr_sample_rng_below(&r, DSR_ARRAY_LEN(overrides))];
    o_long(o, w + 1);
    o_long(o, rec);
    if (dsr_sample_rng_pct(&r, 50)) o_long(o, rec); else o_null(o);
    if (dsr_sample_rng_pct(&r, 30)) o_long(o, overrides[dsr_sample_rng_below(&r, 5)]); else o_null(o);
    if (dsr_sample_rng_pct(&r, 20)) o_long(o, 365); else o_null(o);
    if (dsr_sample_rng_pct(&r, 20)) o_long(o, dsr_sample_rng_pct(&r, 50) ? 365 : 730); else o_null(o);
    o_bool(o, dsr_sample_rng_pct(&r, 85));
    o_long(o, x->owner + 1);
    o_ts(o, g->o.now - (time_t)dsr_sample_rng_range(&r, 1, 500) * DAY -
                (time_t)dsr_sample_rng_below(&r, DAY));
    o_end(o);
  }
}

static void pass_billing(struct pass *ps)
{
  struct dsr_sample *g = ps->g;
  struct out *o = ps->o;
  static const char *const streets[] = {"Market", "High", "Station", "Church", "Park", "Lake"};
  static const char *const cities[] = {"Springfield", "Riverton", "Lakeside", "Fairview", "Oakdale"};
  long invoice = 0;
  for (long w = 0; w < g->WT && !o->failed; w++) {
    const struct ws *x = &g->ws[w];
    if (sample_plans[x->plan].price_cents == 0)
      continue; /* free plan: no invoices */
    struct person P;
    sample_person(g, g->users[x->owner].person, &P);
    const char *cur = !strcmp(x->country, "IN") ? "INR" : !strcmp(x->country, "GB") ? "GBP"
                    : !strcmp(x->country, "DE") ? "EUR" : !strcmp(x->country, "BR") ? "BRL"
                    : !strcmp(x->country, "AU") ? "AUD" : "USD";
    for (int m = 11; m >= 0; m--) {
      time_t issued = g->o.now - (time_t)m * 30 * DAY - 6 * 3600;
      if (issued < x->created || (x->closed && issued > x->closed))
        continue;
      struct dsr_sample_rng r;
      dsr_sample_rng_init(&r, g->o.seed, K_INVOICE, ((uint64_t)w << 4) | (uint64_t)m);
      long id = ++invoice;
      long amount = sample_plans[x->plan].price_cents * (1 + x->nagents) +
                    (long)dsr_sample_rng_below(&r, 20000);
      unsigned k = (unsigned)dsr_sample_rng_below(&r, 100);
      const char *status = m == 0 ? "open" : k < 95 ? "paid" : k < 98 ? "uncollectible" : "void";
      char number[40], addr[120];
      snprintf(number, sizeof number, "INV-%06ld-%02d", w + 1, 12 - m);
      snprintf(addr, sizeof addr, "%d %s Street, %s", (int)dsr_sample_rng_range(&r, 1, 300),
               streets[w % 6], cities[w % 5]);
      if (ps->t == T_INVOICES) {
        o_long(o, id);
        o_long(o, w + 1);
        o_long(o, x->owner + 1);
        o_text(o, number);
        o_text(o, P.name);
        o_text(o, P.email);
        o_text(o, addr);
        o_long(o, amount);
        o_text(o, cur);
        o_text(o, status);
        o_ts(o, issued);
        o_ts(o, issued + 14 * DAY);
        o_end(o);
      } else if (status[0] == 'p') {
        const char *method = !strcmp(cur, "INR") && dsr_sample_rng_pct(&r, 40) ? "upi"
                           : dsr_sample_rng_pct(&r, 75) ? "card" : "bank_transfer";
        char last4[8], ref[32];
        snprintf(last4, sizeof last4, "%04d", (int)dsr_sample_rng_below(&r, 10000));
        snprintf(ref, sizeof ref, "pi_%016llx", (unsigned long long)dsr_sample_rng_next(&r));
        o_long(o, ++ps->id);
        o_long(o, id);
        o_long(o, w + 1);
        o_long(o, amount);
        o_text(o, method);
        o_text(o, !strcmp(method, "card") ? last4 : NULL);
        o_text(o, P.name);
        o_text(o, ref);
        o_ts(o, issued + (time_t)dsr_sample_rng_range(&r, 3600, 10 * DAY));
        o_end(o);
      }
    }
  }
}

static void pass_plans(struct pass *ps)
{
  struct out *o = ps->o;
  for (int i = 0; i < NPLANS; i++) {
    o_long(o, sample_plans[i].id);
    o_text(o, sample_plans[i].code);
    o_text(o, sample_plans[i].name);
    o_long(o, sample_plans[i].retention_days);
    o_long(o, sample_plans[i].price_cents);
    o_end(o);
  }
}

long dsr_sample_emit(struct dsr_sample *g, size_t t, const struct dsr_sample_sink *sink, char *err,
                     size_t errlen)
{
  struct out o = {.sink = sink};
  struct pass ps = {.g = g, .t = t, .o = &o, .err = err, .errlen = errlen};
  long rows = -1;
  if (t >= T_COUNT) {
    snprintf(err, errlen, "no table %zu", t);
    goto cleanup;
  }
  switch (t) {
  case T_PLANS: pass_plans(&ps); break;
  case T_USERS: case T_SESSIONS: case T_SECURITY: pass_users(&ps); break;
  case T_WORKSPACES: case T_WS_SETTINGS: pass_workspaces(&ps); break;
  case T_MEMBERS: case T_DEVICES: pass_members(&ps); break;
  case T_INVOICES: case T_PAYMENTS: pass_billing(&ps); break;
  default: pass_people(&ps); break;
  }
  if (ps.failed)
    goto cleanup;
  if (!o.failed && o.len > 0 && !sink->write(sink->ctx, o.b, o.len))
    o.failed = true;
  if (o.failed) {
    snprintf(err, errlen, "cannot send the rows of %s", tables[t].name);
    goto cleanup;
  }
  if (sink->progress)
    sink->progress(sink->ctx, 1.0);
  rows = o.rows;
cleanup:
  free(o.b);
  return rows;
}
