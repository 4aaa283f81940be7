/**
 * @file page_cursor.c
 * @brief The cursor of a list answered page by page, newest first (the staff
 *        request list, the customer's parts): base64url of
 *        "<timestamp with microseconds>|<uuid>", the last row shown. Decoding
 *        lets through only a real date and time and a UUID, so nothing a
 *        client made up reaches SQL.
 */
#include "config.h"
#include "dsr/page_cursor.h"
#include "dsr/crypto.h"
#include "dsr/util.h"
#include "dsr/validate.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static int digits(const char *s, int n)
{
  int v = 0;
  for (int i = 0; i < n; i++)
    v = v * 10 + (s[i] - '0');
  return v;
}

/* A real date and time of day: PostgreSQL refuses 2026-02-30 (22008), which is the caller's error. */
static bool calendar_ok(const char *ts)
{
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y = digits(ts, 4), m = digits(ts + 5, 2), d = digits(ts + 8, 2);
  if (y < 1 || m < 1 || m > 12 || d < 1)
    return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > mdays[m - 1] + (m == 2 && leap))
    return false;
  return digits(ts + 11, 2) < 24 && digits(ts + 14, 2) < 60 && digits(ts + 17, 2) < 60;
}

bool dsr_cursor_decode(const char *cur, char ts[40], char id[40])
{
  unsigned char buf[96];
  size_t n = 0;
  if (strlen(cur) > 120 ||
      sodium_base642bin(buf, sizeof buf - 1, cur, strlen(cur), NULL, &n, NULL,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return false;
  buf[n] = '\0';
  char *bar = strchr((char *)buf, '|');
  if (!bar)
    return false;
  *bar = '\0';
  const char *why;
  if (!dsr_strlcpy(ts, (char *)buf, 40) || !dsr_strlcpy(id, bar + 1, 40) ||
      !dsr_valid_uuid(id, &why))
    return false;
  /* "YYYY-MM-DDTHH:MM:SS.ffffffZ" and nothing else reaches SQL */
  if (strlen(ts) != 27 || ts[10] != 'T' || ts[26] != 'Z')
    return false;
  for (int i = 0; i < 26; i++)
    if (!((ts[i] >= '0' && ts[i] <= '9') || ((i == 4 || i == 7) && ts[i] == '-') ||
          ((i == 13 || i == 16) && ts[i] == ':') || (i == 19 && ts[i] == '.') || i == 10))
      return false;
  return calendar_ok(ts);
}

char *dsr_cursor_encode(const char *ts, const char *id)
{
  char raw[96];
  int n = snprintf(raw, sizeof raw, "%s|%s", ts, id);
  if (n < 0 || (size_t)n >= sizeof raw)
    return NULL;
  return dsr_b64url((const unsigned char *)raw, (size_t)n);
}
