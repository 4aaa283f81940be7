/**
 * @file pgembed.h
 * @brief The embedded PostgreSQL cluster used when no database_url is set.
 *
 * Lives under STATE_DIR/pg: data/ (initdb'd once, atomically), run/ (the Unix
 * socket; no TCP listener), postgres.log. When the process runs as root the
 * cluster runs as the unprivileged pg_user. Processes sharing a state
 * directory share one cluster: each holds a shared flock on pg.users while it
 * uses it, starts and stops happen under an exclusive flock on pg.lock, and
 * the last user out stops the cluster. A process killed with -9 drops its
 * locks with it, so the next start finds the running cluster (or recovers a
 * dead one through pg_ctl).
 */
#ifndef DSR_PGEMBED_H
#define DSR_PGEMBED_H

#include "dsr/config.h"

struct dsr_pgembed;

/** Initialises (first use), starts or joins the cluster. Caller ends with dsr_pgembed_release(). */
struct dsr_pgembed *dsr_pgembed_acquire(const struct dsr_config *cfg, char *err, size_t errlen);
/** libpq conninfo for database @p dbname in the cluster; caller frees. */
char *dsr_pgembed_conninfo(const struct dsr_pgembed *pg, const char *dbname);
/** Creates database @p dbname if it does not exist yet. */
DSR_MUST_USE bool dsr_pgembed_ensure_db(const struct dsr_pgembed *pg, const char *dbname,
                                        char *err, size_t errlen);
/** Leaves the cluster; the last user stops it (fast shutdown). Frees @p pg. */
void dsr_pgembed_release(struct dsr_pgembed *pg);

#endif
