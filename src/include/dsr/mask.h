/**
 * @file mask.h
 * @brief Masking identities for staff views: "a***@e***.com", "+49******78".
 */
#ifndef DSR_MASK_H
#define DSR_MASK_H

#include <stddef.h>

/**
 * Masks @p value of identity @p kind ("email", "phone", "account_id", "name")
 * into @p out. Never reveals more than the first character of each email
 * part, the top-level domain, and the first three and last two characters of
 * a phone number.
 */
void dsr_mask_identity(const char *kind, const char *value, char *out, size_t outlen);

#endif
