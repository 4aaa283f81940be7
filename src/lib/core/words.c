/** @file words.c @brief Words for codes, per language (see words.h). */
#include "config.h"
#include "dsr/words.h"
#include "dsr/template.h"

#include <stdio.h>
#include <string.h>

/* The text of "@p group.@p key=" in @p file into @p out; false when absent. */
static bool find_in(const char *file, const char *group, const char *key, char *out,
                    size_t outlen)
{
  size_t gl = strlen(group), kl = strlen(key);
  for (const char *p = file; p && *p;) {
    size_t n = strcspn(p, "\n");
    if (n > gl + kl + 1 && !strncmp(p, group, gl) && p[gl] == '.' &&
        !strncmp(p + gl + 1, key, kl) && p[gl + 1 + kl] == '=') {
      size_t off = gl + kl + 2;
      snprintf(out, outlen, "%.*s", (int)(n - off), p + off);
      return true;
    }
    p += n + (p[n] ? 1 : 0);
  }
  return false;
}

/* The words file of exactly @p lang (no fallback to another language), or NULL. */
static const char *exact_file(const char *lang)
{
  const char *chosen = NULL;
  const char *text = dsr_template_find("words.txt", lang, &chosen);
  char want[48];
  snprintf(want, sizeof want, "words.%s.txt", lang ? lang : "en");
  return text && chosen && !strcmp(chosen, want) ? text : NULL;
}

bool dsr_words_has(const char *group, const char *key, const char *lang)
{
  char tmp[8];
  const char *f = exact_file(lang);
  return f && find_in(f, group, key, tmp, sizeof tmp);
}

const char *dsr_words_get(const char *group, const char *key, const char *lang, char *out,
                          size_t outlen)
{
  if (!key)
    key = "";
  if (find_in(dsr_template_find("words.txt", lang, NULL), group, key, out, outlen) ||
      find_in(dsr_template_find("words.txt", "en", NULL), group, key, out, outlen))
    return out;
  snprintf(out, outlen, "%s", key);
  return out;
}
