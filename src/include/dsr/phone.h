/**
 * @file phone.h
 * @brief Phone numbers through libphonenumber (a C interface over the C++
 *        library, in core/phone.cc): parsing a number with a default region,
 *        every written form of it (to match and redact), one declared stored
 *        format of it, and region codes. Thread-safe; nothing is logged
 *        (libphonenumber's own logger is silenced: numbers are personal data).
 */
#ifndef DSR_PHONE_H
#define DSR_PHONE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
extern "C" {
#ifdef __cplusplus
}
#endif

#endif

/* Included by C++ (core/phone.cc): no dsr/util.h here. */
#define DSR_PHONE_MUST_USE __attribute__((warn_unused_result))

/** Longest digit sequence of a written number (E.164 is at most 15 digits, plus prefixes). */
#define DSR_PHONE_MAX_DIGITS 24

/** The ways a stored column may hold a number (dsr-policy(5): identities "format"). */
enum dsr_phone_format {
  DSR_PHONE_FMT_NONE,     /**< not declared: compared as the identity's normalize says */
  DSR_PHONE_FMT_E164,     /**< "+34699507918" */
  DSR_PHONE_FMT_DIGITS,   /**< country code and number, digits only: "34699507918" */
  DSR_PHONE_FMT_NATIONAL, /**< national digits of one region, trunk prefix included: "030123456" */
  DSR_PHONE_FMT_ANY       /**< written any way: separators ignored, every form (dsr_phone_forms) */
};

/** One digit sequence a written form of the number reduces to. */
struct dsr_phone_digits {
  char digits[DSR_PHONE_MAX_DIGITS + 1];
  /**
   * True for national sequences (no country code): they match only where
   * no "+" or digit comes before them, so that "+44 699 507 918" is not
   * taken for the Spanish national "699 507 918".
   */
  bool national;
};

/**
 * Every written form of one number. Strings and arrays are owned by the
 * struct; free with dsr_phone_forms_free().
 */
struct dsr_phone_forms {
  char e164[DSR_PHONE_MAX_DIGITS + 2]; /**< "+34699507918" */
  char region[4];                      /**< the number's region ("ES"), "" when none (e.g. +800) */
  int country_code;                    /**< 34 */
  char national_digits[DSR_PHONE_MAX_DIGITS + 1]; /**< "699507918"; DE: "030123456" (trunk prefix) */
  /** Written forms: E.164, international with spaces, dashes, dots and
   * brackets, "00" + country code, the default region's own international
   * prefix, national (with its trunk prefix) when the number is of the
   * default region, digits only. NUL-terminated strings, no duplicates. */
  char **written;
  size_t nwritten;
  /** The distinct digit sequences of the written forms, longest first. */
  struct dsr_phone_digits *digits;
  size_t ndigits;
};

/**
 * Parses @p number (any written form; "+" or "00" international, or
 * national under @p default_region, an ISO 3166 alpha-2 code or NULL) and
 * fills @p out with every written form. National forms are included only
 * when the number belongs to @p default_region (elsewhere the same digits
 * are another number). Returns false, with a reason in @p why (static
 * text, never the number), when the input is not a possible phone number or
 * on allocation failure; @p out is then empty (safe to free).
 */
DSR_PHONE_MUST_USE bool dsr_phone_parse(const char *number, const char *default_region,
                                  struct dsr_phone_forms *out, const char **why);
void dsr_phone_forms_free(struct dsr_phone_forms *f);

/**
 * @p number parsed with @p default_region, in the stored format @p fmt (for
 * DSR_PHONE_FMT_NATIONAL, the national digits of @p fmt_region: NULL when
 * the number is not of that region's country code). DSR_PHONE_FMT_ANY and
 * NONE give E.164. Returns a new string (caller frees) or NULL when the
 * input is not a possible number (or on allocation failure).
 */
DSR_PHONE_MUST_USE char *dsr_phone_format(const char *number, const char *default_region,
                                    enum dsr_phone_format fmt, const char *fmt_region);

/** E.164 of @p number parsed with @p default_region, or NULL (caller frees). */
DSR_PHONE_MUST_USE char *dsr_phone_e164(const char *number, const char *default_region);

/** Whether @p region is a region code libphonenumber knows ("ES", "DE"; upper case). */
bool dsr_phone_region_valid(const char *region);

/**
 * Parses a declared stored format: "e164", "digits", "any", or
 * "national:XX" with XX a known region (copied into @p region, 3 bytes).
 * Returns false for anything else.
 */
bool dsr_phone_format_parse(const char *s, enum dsr_phone_format *fmt, char region[3]);

#ifdef __cplusplus
}
#endif

#endif
