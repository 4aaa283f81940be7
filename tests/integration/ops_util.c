/** @file ops_util.c @brief Running dsrctl with captured output, small file helpers. */
#include "ops_util.h"

#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void ops_run(struct ops_run *r, const char *cwd, const char *const *argv)
{
  char dir[256], outp[300], errp[300];
  h_tmpdir(dir, sizeof dir, "ops-run");
  snprintf(outp, sizeof outp, "%s/out", dir);
  snprintf(errp, sizeof errp, "%s/err", dir);
  char *prog = h_program(argv[0]);
  pid_t pid = fork();
  H_REQUIRE1(pid >= 0);
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || o < 0 || e < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 ||
        (cwd && chdir(cwd) != 0))
      _exit(126);
    execv(prog, (char *const *)argv);
    _exit(127);
  }
  free(prog);
  int st = 0;
  H_REQUIRE1(waitpid(pid, &st, 0) == pid);
  r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r->out = h_slurp(outp, NULL);
  r->err = h_slurp(errp, NULL);
  unlink(outp);
  unlink(errp);
  rmdir(dir);
}

void ops_run_free(struct ops_run *r)
{
  free(r->out);
  free(r->err);
  r->out = r->err = NULL;
}

void ops_write(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  H_REQUIRE(f != NULL, "cannot write %s", path);
  H_REQUIRE1(fputs(text, f) >= 0);
  H_REQUIRE1(fclose(f) == 0);
}

char *ops_replace(const char *text, const char *from, const char *to)
{
  size_t fl = strlen(from), tl = strlen(to), n = 0;
  for (const char *p = strstr(text, from); p; p = strstr(p + fl, from))
    n++;
  char *out = malloc(strlen(text) + n * tl + 1), *w = out;
  H_REQUIRE1(out != NULL);
  for (const char *p = text;;) {
    const char *q = strstr(p, from);
    size_t k = q ? (size_t)(q - p) : strlen(p);
    memcpy(w, p, k);
    w += k;
    if (!q)
      break;
    memcpy(w, to, tl);
    w += tl;
    p = q + fl;
  }
  *w = '\0';
  return out;
}
