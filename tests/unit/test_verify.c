#include <check.h>
Suite *suite_verify_unit(void);
Suite *suite_verify_unit(void) { return suite_create("verify_unit"); }
