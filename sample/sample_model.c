/**
 * @file sample_model.c
 * @brief The sample platform's population: people (with their phone numbers,
 *        emails, ages and the workspaces they call), user accounts and
 *        workspaces. People are recomputed from their index whenever needed;
 *        only workspaces and users (a few per hundred people) are kept.
 */
#include "config.h"
#include "sample_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct plan sample_plans[NPLANS] = {
    {1, "free", "Free", 30, 0},
    {2, "standard", "Standard", 90, 2500},
    {3, "pro", "Pro", 180, 4900},
    {4, "enterprise", "Enterprise", 365, 9900},
};

static const char *const first_names[] = {
    "Ana", "Ben", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kavya", "Liam", "Maria", "Noah", "Olivia", "Pedro", "Priya", "Quentin", "Rahul", "Sofia",
    "Tomas", "Uma", "Victor", "Wen", "Xavier", "Yara", "Zoe", "Aarav", "Bianca", "Carlos",
    "Diya", "Emma", "Felix", "Gabriela", "Hannah", "Ishaan", "Julia", "Karan", "Lena", "Mateo",
    "Nina", "Omar", "Paula", "Rohan", "Sara", "Thiago", "Vivek", "Wiebke", "Yusuf", "Ananya",
    "Lukas", "Mei", "Arjun", "Camila", "Oscar", "Leila", "Ravi", "Anke", "Joao", "Sunita",
    "Ethan", "Amelia", "Kofi", "Ngozi",
};

static const char *const last_names[] = {
    "Silva", "Smith", "Sharma", "Mueller", "Garcia", "Patel", "Johnson", "Schmidt", "Santos",
    "Williams", "Gupta", "Fischer", "Oliveira", "Brown", "Reddy", "Weber", "Costa", "Jones",
    "Iyer", "Wagner", "Pereira", "Taylor", "Nair", "Becker", "Almeida", "Davies", "Mehta",
    "Hoffmann", "Ferreira", "Wilson", "Kapoor", "Schulz", "Rodrigues", "Evans", "Joshi",
    "Koch", "Lima", "Thomas", "Chopra", "Richter", "Gomes", "Roberts", "Menon", "Klein",
    "Carvalho", "Walker", "Bose", "Wolf", "Ribeiro", "Wright", "Rao", "Neumann", "Martins",
    "Green", "Desai", "Schwarz", "Barbosa", "Hall", "Pillai", "Zimmermann", "Araujo", "Young",
    "Okafor", "Mensah",
};

static const char *const domains[] = {
    "example.com", "example.net", "example.org", "mail.example", "inbox.example",
};

static const char *const biz_a[] = {
    "Acme", "Bright", "Harbor", "Summit", "Blue River", "Northwind", "Cedar", "Orbit", "Lotus",
    "Pioneer", "Evergreen", "Keystone", "Sapphire", "Maple", "Granite", "Silverline",
};
static const char *const biz_b[] = {
    "Dental", "Insurance", "Realty", "Logistics", "Motors", "Clinic", "Travel", "Energy",
    "Telecom", "Bank", "Retail", "Solar", "Foods", "Academy", "Legal", "Home Services",
};

/* --- formatting ------------------------------------------------------------ */

void sample_civil(time_t t, int *y, int *m, int *d)
{
  long z = (long)(t >= 0 ? t / DAY : (t - (DAY - 1)) / DAY) + 719468;
  long era = (z >= 0 ? z : z - 146096) / 146097;
  long doe = z - era * 146097;
  long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void put2(char *p, int v)
{
  p[0] = (char)('0' + v / 10 % 10);
  p[1] = (char)('0' + v % 10);
}

void sample_date(int y, int m, int d, char out[static 11])
{
  put2(out, y / 100);
  put2(out + 2, y % 100);
  out[4] = '-';
  put2(out + 5, m);
  out[7] = '-';
  put2(out + 8, d);
  out[10] = '\0';
}

void sample_ts(time_t t, char out[static 24])
{
  int y, m, d;
  sample_civil(t, &y, &m, &d);
  sample_date(y, m, d, out);
  long s = (long)(t % DAY);
  if (s < 0)
    s += DAY;
  out[10] = ' ';
  put2(out + 11, (int)(s / 3600));
  out[13] = ':';
  put2(out + 14, (int)(s / 60 % 60));
  out[16] = ':';
  put2(out + 17, (int)(s % 60));
  memcpy(out + 19, "+00", 4);
}

void sample_uuid(struct dsr_sample_rng *r, char out[static 37])
{
  static const char hex[] = "0123456789abcdef";
  uint64_t a = dsr_sample_rng_next(r), b = dsr_sample_rng_next(r);
  unsigned char u[16];
  for (int i = 0; i < 8; i++) {
    u[i] = (unsigned char)(a >> (8 * i));
    u[8 + i] = (unsigned char)(b >> (8 * i));
  }
  u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
  u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  char *o = out;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      *o++ = '-';
    *o++ = hex[u[i] >> 4];
    *o++ = hex[u[i] & 15];
  }
  *o = '\0';
}

const char *sample_pick(struct dsr_sample_rng *r, const char *const *list, size_t n)
{
  return list[dsr_sample_rng_below(r, n)];
}

void sample_ip(struct dsr_sample_rng *r, char out[static 20])
{
  /* Documentation ranges only (RFC 5737). */
  static const char *const nets[] = {"192.0.2", "198.51.100", "203.0.113"};
  snprintf(out, 20, "%s.%d", PICK(r, nets), (int)dsr_sample_rng_range(r, 1, 254));
}

static void lower_ascii(char *dst, size_t n, const char *src)
{
  size_t i = 0;
  for (; src[i] && i + 1 < n; i++)
    dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] + 32 : (src[i] == ' ' ? '-' : src[i]));
  dst[i] = '\0';
}

/* --- people ------------------------------------------------------------------ */

/*
 * Phone numbers: an 8-digit code u = (p * 48271 + off) mod 10^8 is a bijection
 * on 0..10^8-1 (48271 is prime to 10), so people get distinct numbers. Its
 * first digit picks a country/prefix (distinct prefixes), the other seven are
 * the subscriber digits. No generated number starts with +1555 or +1800.
 */
static void person_phone(const struct dsr_sample *g, long p, char *out, size_t n, char cc[3])
{
  uint64_t u = ((uint64_t)p * 48271u + g->phone_off) % 100000000u;
  unsigned bucket = (unsigned)(u / 10000000u);
  unsigned long local = (unsigned long)(u % 10000000u);
  static const char *const prefix[10] = {"+1212", "+1415", "+1312", "+1737", "+9198", "+9199",
                                         "+44790", "+491512", "+551198", "+6141"};
  static const char *const country[10] = {"US", "US", "US", "US", "IN", "IN", "GB", "DE", "BR", "AU"};
  snprintf(out, n, "%s%07lu", prefix[bucket], local);
  memcpy(cc, country[bucket], 3);
}

static void country_of_phone(const char *phone, char cc[3])
{
  static const struct {
    const char *prefix, *cc;
  } map[] = {{"+91", "IN"}, {"+44", "GB"}, {"+49", "DE"}, {"+55", "BR"}, {"+61", "AU"}};
  for (size_t i = 0; i < DSR_ARRAY_LEN(map); i++)
    if (!strncmp(phone, map[i].prefix, strlen(map[i].prefix))) {
      memcpy(cc, map[i].cc, 3);
      return;
    }
  memcpy(cc, "US", 3);
}

bool sample_is_user_person(const struct dsr_sample *g, long p, long *user)
{
  if (p >= g->N) {
    long a = g->person_acc[p - g->N];
    if (a < 0)
      return false;
    *user = g->U + a;
    return true;
  }
  if (g->N < 10) {
    *user = 0;
    return p == 3 % g->N;
  }
  if (p % 10 != 3 || p / 10 >= g->U)
    return false;
  *user = p / 10;
  return true;
}

static long user_person(const struct dsr_sample *g, long u)
{
  if (u >= g->U)
    return g->acc_person[u - g->U];
  return g->N < 10 ? 3 % g->N : u * 10 + 3;
}

void sample_person(const struct dsr_sample *g, long p, struct person *out)
{
  struct dsr_sample_rng r;
  dsr_sample_rng_init(&r, g->o.seed, K_PERSON, (uint64_t)p);
  memset(out, 0, sizeof *out);
  out->index = p;
  out->user = -1;
  sample_strlcpy(out->first, PICK(&r, first_names), sizeof out->first);
  sample_strlcpy(out->last, PICK(&r, last_names), sizeof out->last);
  const char *domain = PICK(&r, domains);
  unsigned style = (unsigned)dsr_sample_rng_below(&r, 3);
  int age_days;
  bool minor = dsr_sample_rng_pct(&r, 4);
  if (minor)
    age_days = (int)dsr_sample_rng_range(&r, 13 * 365 + 10, 18 * 365 - 10);
  else
    age_days = (int)dsr_sample_rng_range(&r, 19 * 365, 80 * 365);
  out->birth_known = minor || dsr_sample_rng_pct(&r, 25);
  int nslots = 1;
  uint64_t k = dsr_sample_rng_below(&r, 100);
  if (k >= 50)
    nslots = k < 75 ? 2 : (k < 92 ? 3 : 4);
  long K = g->o.calls_per_subject;
  out->ncalls = (long)dsr_sample_rng_range(&r, 0, 2 * K);

  long u;
  if (sample_is_user_person(g, p, &u)) {
    out->user = u;
    minor = false; /* accounts are for adults */
    out->birth_known = dsr_sample_rng_pct(&r, 10);
  }
  out->minor = minor;
  sample_civil(g->o.now - (time_t)age_days * DAY, &out->by, &out->bm, &out->bd);

  char lf[32], ll[32];
  if (p >= g->N) {
    const struct dsr_sample_designated *d = &g->o.designated[p - g->N];
    out->designated = true;
    out->dj = (int)(p - g->N);
    if (d->name) {
      sample_strlcpy(out->name, d->name, sizeof out->name);
      const char *sp = strchr(d->name, ' ');
      size_t fl = sp ? (size_t)(sp - d->name) : strlen(d->name);
      if (fl >= sizeof out->first)
        fl = sizeof out->first - 1;
      memcpy(out->first, d->name, fl);
      out->first[fl] = '\0';
      sample_strlcpy(out->last, sp ? sp + 1 : "", sizeof out->last);
    } else {
      snprintf(out->name, sizeof out->name, "%s %s", out->first, out->last);
    }
    sample_strlcpy(out->email, d->email, sizeof out->email);
    sample_strlcpy(out->phone, d->phone, sizeof out->phone);
    country_of_phone(d->phone, out->country);
    out->minor = false;
    out->birth_known = false;
    out->ncalls = d->calls;
    out->nslots = d->workspaces;
    struct dsr_sample_rng dr;
    dsr_sample_rng_init(&dr, g->o.seed, K_DESIGNATED, (uint64_t)out->dj);
    long start = (long)dsr_sample_rng_below(&dr, (uint64_t)g->W);
    for (int s = 0; s < out->nslots; s++) {
      out->slot_ws[s] = (start + s) % g->W;
      out->slot_contact[s] = true;
    }
    return;
  }
  snprintf(out->name, sizeof out->name, "%s %s", out->first, out->last);
  lower_ascii(lf, sizeof lf, out->first);
  lower_ascii(ll, sizeof ll, out->last);
  if (style == 0)
    snprintf(out->email, sizeof out->email, "%s.%s.%ld@%s", lf, ll, p, domain);
  else if (style == 1)
    snprintf(out->email, sizeof out->email, "%c%s%ld@%s", lf[0], ll, p, domain);
  else
    snprintf(out->email, sizeof out->email, "%s%ld@%s", lf, p, domain);
  person_phone(g, p, out->phone, sizeof out->phone, out->country);

  struct dsr_sample_rng sr;
  dsr_sample_rng_init(&sr, g->o.seed, K_SLOT, (uint64_t)p);
  if (nslots > g->W)
    nslots = (int)g->W;
  out->nslots = 0;
  while (out->nslots < nslots) {
    long w = (long)dsr_sample_rng_below(&sr, (uint64_t)g->W);
    bool dup = false;
    for (int s = 0; s < out->nslots; s++)
      dup |= out->slot_ws[s] == w;
    if (dup)
      continue;
    out->slot_ws[out->nslots] = w;
    out->slot_contact[out->nslots] = dsr_sample_rng_pct(&sr, 70);
    out->nslots++;
  }
}

/* --- workspaces and users ---------------------------------------------------- */

static void build_user(struct dsr_sample *g, long u)
{
  struct user *x = &g->users[u];
  struct dsr_sample_rng r;
  dsr_sample_rng_init(&r, g->o.seed, K_USER, (uint64_t)u);
  x->index = u;
  x->person = user_person(g, u);
  x->created = g->o.now - (time_t)dsr_sample_rng_range(&r, 30, 2000) * DAY -
               (time_t)dsr_sample_rng_below(&r, DAY);
  x->has_phone = dsr_sample_rng_pct(&r, 85) || u >= g->U;
  unsigned k = (unsigned)dsr_sample_rng_below(&r, 100);
  x->status = "active";
  /* Some accounts closed, a few of them long ago (every 25th user at least). */
  bool long_ago = u < g->U && u % 25 == 7;
  if (u < g->U && (k < 6 || long_ago)) {
    x->status = "closed";
    x->closed_long_ago = long_ago || dsr_sample_rng_pct(&r, 40);
    time_t ago = (time_t)(x->closed_long_ago ? dsr_sample_rng_range(&r, 700, 1500)
                                             : dsr_sample_rng_range(&r, 1, 60)) * DAY;
    if (x->created > g->o.now - ago - 30 * DAY)
      x->created = g->o.now - ago - (time_t)dsr_sample_rng_range(&r, 30, 400) * DAY;
    x->closed = g->o.now - ago - (time_t)dsr_sample_rng_below(&r, DAY);
  } else if (u < g->U && k < 8) {
    x->status = "suspended";
  }
  time_t end = x->closed ? x->closed : g->o.now;
  x->last_login = end - (time_t)dsr_sample_rng_below(&r, 20 * DAY);
  if (x->last_login < x->created)
    x->last_login = x->created;
}

static void build_ws(struct dsr_sample *g, long w)
{
  struct ws *x = &g->ws[w];
  struct dsr_sample_rng r;
  dsr_sample_rng_init(&r, g->o.seed, K_WS, (uint64_t)w);
  sample_uuid(&r, x->uuid);
  const char *a = PICK(&r, biz_a), *b = PICK(&r, biz_b);
  snprintf(x->name, sizeof x->name, "%s %s %ld", a, b, w + 1);
  lower_ascii(x->slug, sizeof x->slug, x->name);
  unsigned k = (unsigned)dsr_sample_rng_below(&r, 100);
  x->plan = k < 10 ? 0 : (k < 60 ? 1 : (k < 85 ? 2 : 3));
  x->retention_days = sample_plans[x->plan].retention_days;
  x->created = g->o.now - (time_t)dsr_sample_rng_range(&r, 800, 2200) * DAY -
               (time_t)dsr_sample_rng_below(&r, DAY);
  x->recording_enabled = dsr_sample_rng_pct(&r, 90);
  x->webhook = dsr_sample_rng_pct(&r, 60);
  static const char *const cc[] = {"US", "US", "IN", "GB", "DE", "BR", "AU"};
  memcpy(x->country, PICK(&r, cc), 3);
  snprintf(x->main_number, sizeof x->main_number, "+1800%07lu",
           (unsigned long)(((uint64_t)w * 7919u + g->phone_off) % 10000000u));
  x->status = "active";
  if (w >= g->W) {
    long a_ord = w - g->W;
    x->owner = g->U + a_ord;
    x->recording_enabled = true;
    x->nagents = 0;
  } else {
    x->owner = w % g->U;
    if (dsr_sample_rng_pct(&r, 5))
      x->status = "suspended";
    int want = (int)dsr_sample_rng_range(&r, 2, MAX_AGENTS);
    x->nagents = 0;
    for (int tries = 0; tries < 4 * MAX_AGENTS && x->nagents < want; tries++) {
      long u = (long)dsr_sample_rng_below(&r, (uint64_t)g->U);
      bool dup = u == x->owner;
      for (int i = 0; i < x->nagents; i++)
        dup |= x->agents[i] == u;
      if (!dup)
        x->agents[x->nagents++] = u;
    }
  }
  const struct user *owner = &g->users[x->owner];
  if (owner->created > x->created)
    x->created = owner->created;
  if (owner->closed) {
    x->status = "closed";
    x->closed = owner->closed;
  }
}

bool sample_build(struct dsr_sample *g, char *err, size_t errlen)
{
  g->ws = calloc((size_t)g->WT, sizeof *g->ws);
  g->users = calloc((size_t)g->UT, sizeof *g->users);
  if (!g->ws || !g->users) {
    snprintf(err, errlen, "out of memory for %ld workspaces", g->WT);
    return false;
  }
  for (long u = 0; u < g->UT; u++)
    build_user(g, u);
  for (long w = 0; w < g->WT; w++)
    build_ws(g, w);
  return true;
}
