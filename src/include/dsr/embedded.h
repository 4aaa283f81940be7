/** @file embedded.h @brief Text files compiled into the programs (scripts/embed-files.sh). */
#ifndef DSR_EMBEDDED_H
#define DSR_EMBEDDED_H

/** One file: its base name and its whole text. Arrays end with a {NULL, NULL} row. */
struct dsr_embedded_file {
  const char *name;
  const char *text;
};

/** migrations/NNNN_name.sql, in order. */
extern const struct dsr_embedded_file dsr_migrations[];
/** templates/NAME.LANG.EXT (template.h). */
extern const struct dsr_embedded_file dsr_templates[];

/** docs/export.schema.json: put into every access and portability package. */
extern const struct dsr_embedded_file dsr_export_schema_doc[];

#endif
