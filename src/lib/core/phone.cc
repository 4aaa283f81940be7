/**
 * @file phone.cc
 * @brief The C interface of phone.h over libphonenumber (C++). The only C++
 *        file of libdsr: every function is extern "C", catches every
 *        exception, and hands back malloc'd memory the C side frees.
 */
#include "config.h"
#include "dsr/phone.h"

#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

/* libphonenumber logs parse problems with the input: silence it once. */
const PhoneNumberUtil &util()
{
  static std::once_flag once;
  static i18n::phonenumbers::NullLogger quiet;
  PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
  std::call_once(once, [u]() { u->SetLogger(&quiet); });
  return *u;
}

bool region_ok(const char *r)
{
  return r && std::strlen(r) == 2 && std::isupper((unsigned char)r[0]) &&
         std::isupper((unsigned char)r[1]) && util().GetCountryCodeForRegion(r) != 0;
}

std::string digits_of(const std::string &s)
{
  std::string d;
  for (char c : s)
    if (c >= '0' && c <= '9')
      d += c;
  return d;
}

/* Parses @p number with @p region (NULL or unknown: international only). A
 * leading "00" is read as "+" whatever the region's own prefix. */
bool parse(const char *number, const char *region, PhoneNumber *out)
{
  if (!number)
    return false;
  std::string in(number);
  size_t b = in.find_first_not_of(" \t\r\n");
  if (b == std::string::npos || in.size() > 64)
    return false;
  in = in.substr(b);
  if (in.compare(0, 2, "00") == 0)
    in = "+" + in.substr(2);
  const char *r = region_ok(region) ? region : "ZZ";
  if (util().Parse(in, r, out) != PhoneNumberUtil::NO_PARSING_ERROR)
    return false;
  return util().IsPossibleNumber(*out);
}

std::string national_significant(const PhoneNumber &n)
{
  std::string nsn;
  util().GetNationalSignificantNumber(n, &nsn);
  return nsn;
}

std::string trunk_prefix(const std::string &region)
{
  std::string ndd;
  util().GetNddPrefixForRegion(region, true, &ndd);
  return ndd;
}

/* Copies @p s into a new C string, or NULL. */
char *c_str(const std::string &s)
{
  char *p = static_cast<char *>(std::malloc(s.size() + 1));
  if (p)
    std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

std::string replaced(std::string s, char from, char to)
{
  for (char &c : s)
    if (c == from)
      c = to;
  return s;
}

struct builder {
  std::vector<std::string> written;
  std::vector<std::pair<std::string, bool>> digits; /* sequence, national */

  void form(const std::string &w, bool national)
  {
    if (w.empty())
      return;
    bool seen = false;
    for (const auto &x : written)
      seen = seen || x == w;
    if (!seen)
      written.push_back(w);
    seq(digits_of(w), national);
  }
  void seq(const std::string &d, bool national)
  {
    if (d.size() < 4 || d.size() > DSR_PHONE_MAX_DIGITS)
      return;
    for (auto &x : digits)
      if (x.first == d) {
        x.second = x.second && national; /* international wins */
        return;
      }
    digits.emplace_back(d, national);
  }
};

} // namespace

extern "C" {

void dsr_phone_forms_free(struct dsr_phone_forms *f)
{
  if (!f)
    return;
  for (size_t i = 0; i < f->nwritten; i++)
    std::free(f->written[i]);
  std::free(f->written);
  std::free(f->digits);
  std::memset(f, 0, sizeof *f);
}

bool dsr_phone_parse(const char *number, const char *default_region, struct dsr_phone_forms *out,
                     const char **why)
{
  std::memset(out, 0, sizeof *out);
  const char *dummy;
  if (!why)
    why = &dummy;
  try {
    PhoneNumber n;
    if (!parse(number, default_region, &n)) {
      *why = "is not a possible phone number";
      return false;
    }
    const PhoneNumberUtil &u = util();
    std::string e164, intl, nat, region, cc = std::to_string(n.country_code());
    u.Format(n, PhoneNumberUtil::E164, &e164);
    u.Format(n, PhoneNumberUtil::INTERNATIONAL, &intl);
    u.Format(n, PhoneNumberUtil::NATIONAL, &nat);
    u.GetRegionCodeForNumber(n, &region);
    if (region.size() != 2)
      region.clear();
    std::string nsn = national_significant(n);
    std::string ndd = region.empty() ? std::string() : trunk_prefix(region);
    bool home = !region.empty() && region_ok(default_region) &&
                u.GetCountryCodeForRegion(default_region) == n.country_code();

    builder b;
    b.form(e164, false);
    b.form(intl, false);
    std::string rest = intl.compare(0, cc.size() + 1, "+" + cc) == 0 ? intl.substr(cc.size() + 1) : "";
    if (!rest.empty() && rest[0] == ' ')
      rest = rest.substr(1);
    for (char sep : {'-', '.'})
      b.form(replaced(replaced(intl, ' ', sep), '-', sep), false);
    if (!rest.empty()) {
      b.form("(+" + cc + ") " + rest, false);
      b.form("00" + cc + " " + rest, false);
      b.form("00 " + cc + " " + rest, false);
      /* "+49 (0)30 123456": the trunk prefix in brackets after the country code */
      if (!ndd.empty() && ndd != cc)
        b.form("+" + cc + " (" + ndd + ") " + rest, false);
    }
    b.form("00" + cc + nsn, false);
    b.form(cc + nsn, false);
    if (region_ok(default_region) && !home) {
      std::string out_of;
      u.FormatOutOfCountryCallingNumber(n, default_region, &out_of);
      b.form(out_of, false);
    }
    if (home) {
      b.form(nat, true);
      b.form(ndd + nsn, true);
      b.form(nsn, true);
    }

    std::snprintf(out->e164, sizeof out->e164, "%s", e164.c_str());
    std::snprintf(out->region, sizeof out->region, "%s", region.c_str());
    out->country_code = n.country_code();
    std::snprintf(out->national_digits, sizeof out->national_digits, "%s", (ndd + nsn).c_str());
    /* longest digit sequences first: the matcher prefers the longest number */
    std::vector<std::pair<std::string, bool>> d = b.digits;
    for (size_t i = 1; i < d.size(); i++)
      for (size_t j = i; j > 0 && d[j].first.size() > d[j - 1].first.size(); j--)
        std::swap(d[j], d[j - 1]);
    out->written = static_cast<char **>(std::calloc(b.written.size() + 1, sizeof *out->written));
    out->digits = static_cast<struct dsr_phone_digits *>(std::calloc(d.size() + 1, sizeof *out->digits));
    if (!out->written || !out->digits)
      goto oom;
    for (const auto &w : b.written) {
      if (!(out->written[out->nwritten] = c_str(w)))
        goto oom;
      out->nwritten++;
    }
    for (const auto &x : d) {
      std::snprintf(out->digits[out->ndigits].digits, sizeof out->digits[0].digits, "%s",
                    x.first.c_str());
      out->digits[out->ndigits++].national = x.second;
    }
    return true;
  oom:
    dsr_phone_forms_free(out);
    *why = "out of memory";
    return false;
  } catch (...) {
    dsr_phone_forms_free(out);
    *why = "out of memory";
    return false;
  }
}

char *dsr_phone_format(const char *number, const char *default_region, enum dsr_phone_format fmt,
                       const char *fmt_region)
{
  try {
    PhoneNumber n;
    if (!parse(number, default_region, &n))
      return nullptr;
    std::string s;
    switch (fmt) {
    case DSR_PHONE_FMT_DIGITS: s = std::to_string(n.country_code()) + national_significant(n); break;
    case DSR_PHONE_FMT_NATIONAL:
      if (!region_ok(fmt_region) || util().GetCountryCodeForRegion(fmt_region) != n.country_code())
        return nullptr;
      s = trunk_prefix(fmt_region) + national_significant(n);
      break;
    case DSR_PHONE_FMT_NONE:
    case DSR_PHONE_FMT_E164:
    case DSR_PHONE_FMT_ANY: util().Format(n, PhoneNumberUtil::E164, &s); break;
    }
    return c_str(s);
  } catch (...) {
    return nullptr;
  }
}

char *dsr_phone_e164(const char *number, const char *default_region)
{
  return dsr_phone_format(number, default_region, DSR_PHONE_FMT_E164, nullptr);
}

bool dsr_phone_region_valid(const char *region)
{
  try {
    return region_ok(region);
  } catch (...) {
    return false;
  }
}

bool dsr_phone_format_parse(const char *s, enum dsr_phone_format *fmt, char region[3])
{
  region[0] = '\0';
  if (!s)
    return false;
  if (!std::strcmp(s, "e164"))
    *fmt = DSR_PHONE_FMT_E164;
  else if (!std::strcmp(s, "digits"))
    *fmt = DSR_PHONE_FMT_DIGITS;
  else if (!std::strcmp(s, "any"))
    *fmt = DSR_PHONE_FMT_ANY;
  else if (!std::strncmp(s, "national:", 9) && dsr_phone_region_valid(s + 9)) {
    *fmt = DSR_PHONE_FMT_NATIONAL;
    std::memcpy(region, s + 9, 3);
  } else
    return false;
  return true;
}

} // extern "C"
