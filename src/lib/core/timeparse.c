/** @file timeparse.c @brief See timeparse.h. */
#include "config.h"
#include "dsr/timeparse.h"

#include <stdio.h>
#include <string.h>

static bool digits(const char *s, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

static bool leap(int y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool dsr_time_parse(const char *s, time_t *out)
{
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y, mo, d, h = 0, mi = 0, se = 0, off = 0;
  size_t n = s ? strlen(s) : 0;
  if (n < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
      !digits(s + 8, 2, &d))
    return false;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
    return false;
  if (n > 10) {
    const char *t = s + 10;
    if ((t[0] != 'T' && t[0] != 't') || n < 20 || !digits(t + 1, 2, &h) || t[3] != ':' ||
        !digits(t + 4, 2, &mi) || t[6] != ':' || !digits(t + 7, 2, &se) || h > 23 || mi > 59 ||
        se > 60)
      return false;
    const char *z = t + 9;
    if ((z[0] == 'Z' || z[0] == 'z') && z[1] == '\0') {
      off = 0;
    } else if ((z[0] == '+' || z[0] == '-') && strlen(z) == 6 && z[3] == ':') {
      int oh, om;
      if (!digits(z + 1, 2, &oh) || !digits(z + 4, 2, &om) || oh > 23 || om > 59)
        return false;
      off = (z[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    } else {
      return false;
    }
  }
  /* Days from the civil date (proleptic Gregorian), then seconds. */
  long long days = 0;
  for (int yy = 1970; yy < y; yy++)
    days += 365 + leap(yy);
  for (int m = 1; m < mo; m++)
    days += mdays[m - 1] + (m == 2 && leap(y));
  days += d - 1;
  *out = (time_t)(days * 86400LL + h * 3600LL + mi * 60LL + se - off);
  return true;
}
