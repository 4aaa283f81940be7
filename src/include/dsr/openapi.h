/**
 * @file openapi.h
 * @brief docs/openapi.json, compiled into the programs (GET /openapi.json).
 */
#ifndef DSR_OPENAPI_H
#define DSR_OPENAPI_H

#include "dsr/embedded.h"

/** One row: {"openapi.json", its text}, then the {NULL, NULL} row. */
extern const struct dsr_embedded_file dsr_openapi_doc[];

#endif
