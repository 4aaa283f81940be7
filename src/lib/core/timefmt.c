/** @file timefmt.c @brief Times in the reader's language (see timefmt.h). */
#include "config.h"
#include "dsr/timefmt.h"
#include "dsr/template.h"
#include "dsr/timeparse.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Month @p mon (0-11) from months.LANG.txt (one name a line) into @p out. */
static void month_name(const char *lang, int mon, char *out, size_t outlen)
{
  const char *text = dsr_template_find("months.txt", lang, NULL);
  snprintf(out, outlen, "%02d", mon + 1);
  for (int i = 0; text && *text; i++) {
    size_t n = strcspn(text, "\n");
    if (i == mon) {
      snprintf(out, outlen, "%.*s", (int)n, text);
      return;
    }
    text += n + (text[n] ? 1 : 0);
  }
}

void dsr_time_human(time_t t, const char *lang, bool with_time, char *out, size_t outlen)
{
  struct tm tm;
  gmtime_r(&t, &tm);
  char month[40], hm[8];
  month_name(lang, tm.tm_mon, month, sizeof month);
  snprintf(hm, sizeof hm, "%02d:%02d", tm.tm_hour, tm.tm_min);
  json_t *ctx = json_pack("{s:i, s:s, s:i}", "day", tm.tm_mday, "month", month, "year",
                          tm.tm_year + 1900);
  if (ctx && with_time)
    json_object_set_new(ctx, "time", json_string(hm));
  char *text = NULL, err[128];
  if (ctx && dsr_template_render("datetime.txt", lang, ctx, &text, err, sizeof err)) {
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
      text[--n] = '\0';
    dsr_strlcpy(out, text, outlen);
  } else {
    strftime(out, outlen, with_time ? "%Y-%m-%d %H:%M UTC" : "%Y-%m-%d", &tm);
  }
  free(text);
  json_decref(ctx);
}

void dsr_time_human_str(const char *s, const char *lang, bool with_time, char *out,
                        size_t outlen)
{
  char iso[40];
  time_t t;
  dsr_strlcpy(iso, s ? s : "", sizeof iso);
  /* PostgreSQL's text form: "2026-11-08 07:21:27.123+00" -> "2026-11-08T07:21:27+00:00" */
  if (strlen(iso) > 10 && iso[10] == ' ')
    iso[10] = 'T';
  char *frac = strchr(iso, '.');
  if (frac) {
    size_t k = strspn(frac + 1, "0123456789");
    memmove(frac, frac + 1 + k, strlen(frac + 1 + k) + 1);
  }
  size_t n = strlen(iso);
  if (n >= 3 && (iso[n - 3] == '+' || iso[n - 3] == '-') && n + 3 < sizeof iso)
    dsr_strlcpy(iso + n, ":00", sizeof iso - n);
  if (dsr_time_parse(iso, &t))
    dsr_time_human(t, lang, with_time, out, outlen);
  else
    dsr_strlcpy(out, s ? s : "", outlen);
}
