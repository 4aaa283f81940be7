/**
 * @file validate.h
 * @brief Validators for identities and small values, with pcre2 patterns
 *        compiled once. All follow dsr_jvalidator.
 */
#ifndef DSR_VALIDATE_H
#define DSR_VALIDATE_H

#include "dsr/util.h"

/** Compiles the patterns; call once before threads start. */
DSR_MUST_USE bool dsr_validate_init(void);
void dsr_validate_done(void);

bool dsr_valid_email(const char *s, const char **why);
/** E.164: "+" then 8 to 15 digits, no leading zero. */
bool dsr_valid_phone(const char *s, const char **why);
/**
 * A phone number as a person writes it ("+49 151 1234-5678", "(030) 123456"):
 * the shape only; dsr_phone_e164() decides whether it is a possible number.
 */
bool dsr_valid_phone_written(const char *s, const char **why);
bool dsr_valid_account_id(const char *s, const char **why);
/** BCP 47-like language tag ("en", "pt-BR"). */
bool dsr_valid_language(const char *s, const char **why);
/** Canonical textual UUID. */
bool dsr_valid_uuid(const char *s, const char **why);
/** A name: printable text without control characters. */
bool dsr_valid_text(const char *s, const char **why);

/** Normalises an email for hashing (lower-case). Caller frees. */
char *dsr_normalize_email(const char *s);

#endif
