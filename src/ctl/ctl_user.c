/**
 * @file ctl_user.c
 * @brief dsrctl user add --role R --email E [--name N] and dsrctl user passwd
 *        --email E: staff UI accounts. The password is read from standard
 *        input (one line) or, on a terminal, prompted twice without echo; it
 *        is never taken from the command line.
 */
#include "config.h"
#include "ctl.h"
#include "dsr/ui_auth.h"
#include "dsr/validate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Reads one line into @p buf without its newline; false on EOF or an over-long line. */
static bool read_line(FILE *in, char *buf, size_t len)
{
  if (!fgets(buf, (int)len, in))
    return false;
  size_t n = strcspn(buf, "\r\n");
  bool whole = buf[n] != '\0' || feof(in);
  buf[n] = '\0';
  return whole;
}

/* Prompts on the terminal with echo off. */
static bool prompt(const char *what, char *buf, size_t len)
{
  struct termios old, quiet;
  bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  fprintf(stderr, "%s: ", what);
  fflush(stderr);
  bool ok = read_line(stdin, buf, len);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
  }
  return ok;
}

/* The new password into @p buf: two matching prompts on a terminal, one line otherwise. */
static bool get_password(char *buf, size_t len)
{
  if (!isatty(STDIN_FILENO)) {
    if (!read_line(stdin, buf, len)) {
      ctl_error("expected the password as one line on standard input");
      return false;
    }
    return true;
  }
  char again[DSR_PASSWORD_MAX + 2];
  bool ok = prompt("New password", buf, len) && prompt("Repeat it", again, sizeof again);
  if (ok && strcmp(buf, again) != 0) {
    ctl_error("the passwords differ");
    ok = false;
  }
  sodium_memzero(again, sizeof again);
  return ok;
}

static int usage(void)
{
  ctl_error("user: expected add --role R --email E [--name N] or passwd --email E "
            "(see dsrctl user --help)");
  return 2;
}

int ctl_user(const struct dsr_config *cfg, int argc, char **argv)
{
  if (argc < 2)
    return usage();
  bool add = !strcmp(argv[1], "add");
  if (!add && strcmp(argv[1], "passwd") != 0)
    return usage();
  const char *email = ctl_opt(argc, argv, "--email");
  const char *name = ctl_opt(argc, argv, "--name");
  /* "--role" is dsrd's process role too: the shared parser put it in cfg->role (see ctl_staff.c). */
  const char *role_s = ctl_opt(argc, argv, "--role");
  if (!role_s)
    role_s = cfg->role;
  const char *why = NULL;
  if (!email || !dsr_valid_email(email, &why)) {
    ctl_error("--email must be an email address");
    return 2;
  }
  enum dsr_role role = DSR_ROLE_AUDITOR;
  if (add && !dsr_role_parse(role_s, &role)) {
    ctl_error("--role must be admin, triager, approver or auditor");
    return 2;
  }
  char pw[DSR_PASSWORD_MAX + 2];
  if (!get_password(pw, sizeof pw))
    return 1;
  int rc = 1;
  if (strlen(pw) < DSR_PASSWORD_MIN) {
    ctl_error("the password must have at least %d characters", DSR_PASSWORD_MIN);
    goto cleanup;
  }
  struct ctl_session s;
  if (!ctl_session_open(cfg, &s))
    goto cleanup;
  char id[40];
  enum dsr_ec ec = add ? dsr_ui_user_add(s.db, email, name, role, pw, id)
                       : dsr_ui_user_passwd(s.db, email, pw);
  ctl_session_close(&s);
  if (ec == DSR_OK) {
    if (add)
      printf("staff_id: %s\nemail: %s\nrole: %s\n", id, email, dsr_role_name(role));
    else
      printf("password changed; the user's sessions are ended\n");
    rc = 0;
  } else if (ec == DSR_E_CONFLICT) {
    ctl_error("a staff user with this email or name exists");
  } else if (ec == DSR_E_NOT_FOUND) {
    ctl_error("no staff user has this email");
  } else {
    ctl_error("%s", dsr_ec_title(ec));
  }
cleanup:
  sodium_memzero(pw, sizeof pw);
  return rc;
}
