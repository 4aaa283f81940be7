/** @file error.c @brief Lookups into the error-code registry of error.h. */
#include "config.h"
#include "dsr/error.h"

static const struct {
  const char *code;
  unsigned int status;
  const char *title;
} registry[] = {
#define DSR_X_ROW(e, code, status, title) {code, status, title},
    DSR_ERROR_CODES(DSR_X_ROW)
#undef DSR_X_ROW
};

const char *dsr_ec_code(enum dsr_ec ec)
{
  return (unsigned)ec < DSR_EC_COUNT ? registry[ec].code : "internal";
}

unsigned int dsr_ec_status(enum dsr_ec ec)
{
  return (unsigned)ec < DSR_EC_COUNT ? registry[ec].status : 500;
}

const char *dsr_ec_title(enum dsr_ec ec)
{
  return (unsigned)ec < DSR_EC_COUNT ? registry[ec].title : "Internal error";
}
