/**
 * @file ctl_config.c
 * @brief dsrctl config show [--json]: the effective configuration (the one
 *        dsrd would run with, from the same file, environment and flags),
 *        each value with its source; secrets are never printed.
 */
#include "config.h"
#include "ctl.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_USAGE "usage: dsrctl config show [--json]"

static int show(const struct dsr_config *cfg, bool as_json)
{
  const struct dsr_config_key *keys = dsr_config_keys();
  json_t *doc = as_json ? json_object() : NULL, *settings = as_json ? json_object() : NULL;
  int rc = 1;
  if (as_json && (!doc || !settings))
    goto cleanup;
  if (!as_json)
    printf("# configuration file: %s\n", cfg->config_file ? cfg->config_file : "(none)");
  for (const struct dsr_config_key *k = keys; k->name; k++) {
    char *v = dsr_config_value_text(cfg, k);
    const char *src = dsr_config_source_name((enum dsr_cfg_source)cfg->source[k - keys]);
    if (as_json)
      json_object_set_new(settings, k->name,
                          json_pack("{s:o, s:s}", "value", v ? json_string(v) : json_null(),
                                    "source", src));
    else
      printf("%-28s = %-32s # %s\n", k->name, v ? v : "(unset)", src);
    free(v);
  }
  if (as_json) {
    json_object_set_new(doc, "config_file",
                        cfg->config_file ? json_string(cfg->config_file) : json_null());
    json_object_set(doc, "settings", settings);
    if (json_dumpf(doc, stdout, JSON_INDENT(2)) != 0)
      goto cleanup;
    fputc('\n', stdout);
  }
  rc = fflush(stdout) == 0 ? 0 : 1;
cleanup:
  json_decref(settings);
  json_decref(doc);
  return rc;
}

int ctl_config(const struct dsr_config *cfg, int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "show")) {
    ctl_error("config: expected a subcommand (%s)", CONFIG_USAGE);
    return 2;
  }
  bool as_json = false;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--json")) {
      as_json = true;
    } else {
      ctl_error("config show: unknown argument %s (%s)", argv[i], CONFIG_USAGE);
      return 2;
    }
  }
  return show(cfg, as_json);
}
