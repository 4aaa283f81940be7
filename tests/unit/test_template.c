/** @file test_template.c @brief The mustache-style renderer: escaping, sections, partials, errors. */
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "dsr/embedded.h"
#include "dsr/template.h"
#include "dsr/timefmt.h"
#include "dsr/words.h"
#include "suites.h"

/* Renders @p text with the JSON context @p ctx_json; returns the output or NULL (err filled). */
static char *render(const char *text, const char *ctx_json, char *err, size_t errlen)
{
  json_t *ctx = ctx_json ? json_loads(ctx_json, 0, NULL) : NULL;
  ck_assert(ctx_json == NULL || ctx != NULL);
  char *out = NULL;
  bool ok = dsr_template_render_text("test", text, "en", ctx, &out, err, errlen);
  json_decref(ctx);
  return ok ? out : NULL;
}

static void expect(const char *text, const char *ctx, const char *want)
{
  char err[256] = "";
  char *out = render(text, ctx, err, sizeof err);
  ck_assert_msg(out != NULL, "render failed: %s", err);
  ck_assert_str_eq(out, want);
  free(out);
}

static void expect_error(const char *text, const char *needle)
{
  char err[256] = "";
  char *out = render(text, "{\"a\":[1],\"b\":true}", err, sizeof err);
  ck_assert_msg(out == NULL, "\"%s\" rendered as \"%s\"", text, out ? out : "");
  ck_assert_msg(strstr(err, needle) != NULL, "error \"%s\" lacks \"%s\"", err, needle);
}

START_TEST(escapes_every_html_special)
{
  expect("<p>{{x}}</p>", "{\"x\":\"a&b<c>d\\\"e'f\"}", "<p>a&amp;b&lt;c&gt;d&quot;e&#39;f</p>");
  expect("{{{x}}}|{{&x}}", "{\"x\":\"<b>&'\\\"\"}", "<b>&'\"|<b>&'\"");
  expect("{{ x }}", "{\"x\":\"<script>\"}", "&lt;script&gt;");
}
END_TEST

START_TEST(values_and_missing_keys)
{
  expect("[{{nope}}][{{n}}][{{r}}][{{t}}][{{f}}][{{z}}][{{o}}]",
         "{\"n\":42,\"r\":1.5,\"t\":true,\"f\":false,\"z\":null,\"o\":{\"k\":1}}",
         "[][42][1.5][true][][][]");
  expect("no tags at all", NULL, "no tags at all");
  expect("{{a.b.c}}/{{a.x.c}}/{{a.b}}", "{\"a\":{\"b\":{\"c\":\"deep\"}}}", "deep//");
  expect("", "{}", "");
}
END_TEST

START_TEST(sections_lists_objects_booleans)
{
  expect("{{#list}}<{{name}}>{{/list}}", "{\"list\":[{\"name\":\"a\"},{\"name\":\"b\"}]}",
         "<a><b>");
  expect("{{#list}}{{.}},{{/list}}", "{\"list\":[1,\"x\",true]}", "1,x,true,");
  expect("{{#o}}{{k}}{{/o}}", "{\"o\":{\"k\":\"v\"}}", "v");
  expect("{{#t}}yes{{/t}}{{#f}}no{{/f}}{{#e}}empty{{/e}}{{#s}}str{{/s}}",
         "{\"t\":true,\"f\":false,\"e\":[],\"s\":\"\"}", "yes");
  expect("{{^e}}none{{/e}}{{^t}}hidden{{/t}}{{^missing}}missing{{/missing}}",
         "{\"t\":true,\"e\":[]}", "nonemissing");
}
END_TEST

START_TEST(nesting_and_outer_lookup)
{
  expect("{{#a}}{{#b}}{{x}}{{y}}{{/b}}{{/a}}", "{\"y\":\"Y\",\"a\":{\"b\":[{\"x\":1},{\"x\":2}]}}",
         "1Y2Y");
  /* the same section name nested inside itself */
  expect("{{#a}}[{{#a}}{{v}}{{/a}}]{{/a}}", "{\"a\":{\"v\":\"in\",\"a\":{\"v\":\"deep\"}}}",
         "[deep]");
  expect("{{#list}}{{#ok}}+{{/ok}}{{^ok}}-{{/ok}}{{/list}}",
         "{\"list\":[{\"ok\":true},{\"ok\":false}]}", "+-");
}
END_TEST

START_TEST(comments_and_standalone_lines)
{
  expect("a{{! a comment with }} braces }}b", NULL, "a braces }}b");
  expect("a{{! note }}b", NULL, "ab");
  expect("line1\n{{#t}}\nin\n{{/t}}\nline2\n", "{\"t\":true}", "line1\nin\nline2\n");
  expect("  {{! standalone }}\nx\n", NULL, "x\n");
  expect("a {{#t}}b{{/t}} c\n", "{\"t\":true}", "a b c\n");
}
END_TEST

START_TEST(malformed_templates_fail_clearly)
{
  expect_error("hello {{name", "unclosed tag");
  expect_error("{{#a}}never closed", "never closed");
  expect_error("{{#a}}x{{/b}}", "closes section");
  expect_error("x{{/a}}", "not open");
  expect_error("{{}}", "empty tag name");
  expect_error("{{ }}", "empty tag name");
  expect_error("{{=<% %>=}}", "delimiters");
  expect_error("{{a b}}", "invalid character");
  expect_error("{{> no_such_partial.txt}}", "no partial");
  expect_error("{{{raw}}", "unclosed tag");
  expect_error("line\n\n{{#b}}", "line 3");
}
END_TEST

START_TEST(deep_nesting_is_an_error_not_a_crash)
{
  char text[4096] = "";
  for (int i = 0; i < 40; i++)
    strcat(text, "{{#o}}");
  for (int i = 0; i < 40; i++)
    strcat(text, "{{/o}}");
  char err[256];
  char *out = render(text, "{\"o\":{\"o\":1}}", err, sizeof err);
  ck_assert_ptr_null(out);
  ck_assert(strstr(err, "nested too deeply") != NULL);
}
END_TEST

START_TEST(notices_say_what_happened)
{
  json_t *ctx = json_pack("{s:{s:s}, s:s, s:s, s:b, s:s, s:s}", "org", "name", "CallOrbit",
                          "type", "erasure", "request_id", "r-1", "extended", 1, "reason",
                          "<many> systems", "due_at", "2027-03-01T00:00:00Z");
  char *out = NULL;
  char err[256];
  ck_assert_msg(dsr_template_render("email_notice.html", "en", ctx, &out, err, sizeof err), "%s",
                err);
  ck_assert(strstr(out, "we will answer by <strong>2027-03-01T00:00:00Z</strong>") != NULL);
  ck_assert(strstr(out, "&lt;many&gt; systems") != NULL); /* the staff text is escaped */
  ck_assert(strstr(out, "cannot carry out") == NULL);
  free(out);
  json_object_del(ctx, "extended");
  json_object_set_new(ctx, "denied", json_true());
  json_object_set_new(ctx, "reason", json_string("excessive"));
  ck_assert(dsr_template_render("sms_notice.txt", "en", ctx, &out, err, sizeof err));
  ck_assert_str_eq(out, "CallOrbit: we cannot carry out your privacy request, because excessive.\n");
  free(out);
  json_decref(ctx);
}
END_TEST

/* Staff see which agent filed a request and its status callbacks (issue 18). */
START_TEST(request_page_names_the_agent_and_its_callbacks)
{
  json_t *ctx = json_pack(
      "{s:{s:s}, s:s, s:s, s:{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:b, s:[{s:s, s:i, s:s, s:s}]}}}",
      "org", "name", "CallOrbit", "title", "Request", "nav", "/ui/", "r", "id", "r-1",
      "status", "verified", "type", "erasure", "agent", "agent_id", "TEST_AGENT_001",
      "agent_name", "Test <Agent>", "exercise", "deletion", "regime", "ccpa",
      "agent_request_id", "ar-9", "status_callback", 1, "callbacks", "state", "delivered",
      "attempts", 2, "created_at", "2027-01-01T00:00:00Z", "delivered_at",
      "2027-01-01T00:00:05Z");
  char *out = NULL;
  char err[256];
  ck_assert_msg(dsr_template_render("ui_request.html", "en", ctx, &out, err, sizeof err), "%s",
                err);
  ck_assert(strstr(out, "<code>TEST_AGENT_001</code> (Test &lt;Agent&gt;)") != NULL);
  ck_assert(strstr(out, "agent's id <code>ar-9</code>") != NULL);
  ck_assert(strstr(out, "delivered · 2 attempt(s)") != NULL);
  free(out);
  json_object_del(json_object_get(ctx, "r"), "agent");
  ck_assert(dsr_template_render("ui_request.html", "en", ctx, &out, err, sizeof err));
  ck_assert(strstr(out, "Filed by agent") == NULL);
  free(out);
  json_decref(ctx);
}
END_TEST

/* The end of an erasure: what was erased, what was kept and why, and where to complain. */
START_TEST(closing_notice_says_what_was_erased_and_kept)
{
  json_t *ctx = json_pack(
      "{s:{s:s}, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:[{s:s}], s:[{s:s, s:s}], s:{s:s, s:s},"
      " s:s}",
      "org", "name", "CallOrbit", "type", "erasure of your personal data", "request_id", "r-1",
      "completed", 1, "is_erasure", 1, "has_erased", 1, "has_kept", 1, "complain", 1, "erased",
      "what", "Call recordings", "kept", "what", "Billing", "why", "we must keep invoices for tax",
      "authority", "name", "Berlin DPA", "url", "https://dpa.example", "status_link",
      "https://x.example/requests/r-1/status?k=abc");
  char *out = NULL;
  char err[256];
  ck_assert_msg(dsr_template_render("email_notice.txt", "en", ctx, &out, err, sizeof err), "%s",
                err);
  ck_assert_msg(strstr(out, "What we erased:\n  - Call recordings\n") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "  - Billing: we must keep invoices for tax\n") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "Berlin DPA (https://dpa.example)") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "status?k=abc") != NULL, "%s", out);
  free(out);
  ck_assert(dsr_template_render("email_notice_subject.txt", "en", ctx, &out, err, sizeof err));
  ck_assert_str_eq(out, "CallOrbit: your privacy request is done\n");
  free(out);
  json_decref(ctx);
}
END_TEST

/* Dates in words per language; codes as words, with English and then the code as fallbacks. */
START_TEST(times_and_words_per_language)
{
  char buf[128];
  time_t t = 1794122487; /* 2026-11-08T07:21:27Z */
  dsr_time_human(t, "en", true, buf, sizeof buf);
  ck_assert_str_eq(buf, "8 November 2026, 07:21 UTC");
  dsr_time_human(t, "de", false, buf, sizeof buf);
  ck_assert_str_eq(buf, "8. November 2026");
  dsr_time_human(t, "pt-BR", true, buf, sizeof buf);
  ck_assert_str_eq(buf, "8 de novembro de 2026, 07:21 (UTC)");
  dsr_time_human_str("2026-11-08 07:21:27.5+00", "de-AT", true, buf, sizeof buf);
  ck_assert_str_eq(buf, "8. November 2026, 07:21 Uhr (UTC)");
  dsr_time_human_str("2026-11-08T07:21:27Z", "en", false, buf, sizeof buf);
  ck_assert_str_eq(buf, "8 November 2026");
  dsr_time_human_str("not a time", "en", false, buf, sizeof buf);
  ck_assert_str_eq(buf, "not a time");
  ck_assert_str_eq(dsr_words_get("status", "pending_verification", "en", buf, sizeof buf),
                   "Waiting for you to confirm it is you");
  ck_assert_str_eq(dsr_words_get("status", "completed", "pt-BR", buf, sizeof buf), "Concluída");
  ck_assert_str_eq(dsr_words_get("status", "completed", "fr", buf, sizeof buf), "Completed");
  ck_assert_str_eq(dsr_words_get("status", "no_such_code", "de", buf, sizeof buf),
                   "no_such_code");
  ck_assert(dsr_words_has("reason", "excessive", "de"));
  ck_assert(!dsr_words_has("reason", "no_such_code", "en"));
}
END_TEST

START_TEST(embedded_set_language_fallback_and_partials)
{
  json_t *ctx = json_pack("{s:{s:s}, s:s, s:s, s:s, s:s, s:s}", "org", "name", "Acme <Ltd>",
                          "code", "123456", "link", "https://x.invalid/v?t=a&b", "expires_at",
                          "2026-01-01T00:10:00Z", "type", "erasure", "request_id", "rid");
  char err[256];
  char *out = NULL;
  const char *chosen = NULL;
  ck_assert_ptr_nonnull(dsr_template_find("email_code.txt", "fr", &chosen));
  ck_assert_str_eq(chosen, "email_code.en.txt");
  ck_assert_ptr_nonnull(dsr_template_find("email_code.txt", "pt", &chosen));
  ck_assert_str_eq(chosen, "email_code.en.txt"); /* "pt" alone is not "pt-BR" */
  ck_assert_ptr_nonnull(dsr_template_find("email_code.txt", "pt-BR", &chosen));
  ck_assert_str_eq(chosen, "email_code.pt-BR.txt");
  ck_assert_ptr_nonnull(dsr_template_find("email_code.txt", "de-AT", &chosen));
  ck_assert_str_eq(chosen, "email_code.de.txt");
  ck_assert_ptr_null(dsr_template_find("nonexistent.txt", "en", NULL));
  ck_assert(dsr_template_render("email_code.txt", "de", ctx, &out, err, sizeof err));
  ck_assert(strstr(out, "Guten Tag") != NULL);
  ck_assert(strstr(out, "123456") != NULL);
  free(out);
  ck_assert(dsr_template_render("email_code.html", "de", ctx, &out, err, sizeof err));
  ck_assert(strstr(out, "Acme &lt;Ltd&gt;") != NULL); /* escaped */
  ck_assert(strstr(out, "Guten Tag") != NULL);
  ck_assert(strstr(out, "href=\"https://x.invalid/v?t=a&amp;b\"") != NULL);
  free(out);
  ck_assert(dsr_template_render_text("p", "[{{> email_code_subject.txt}}]", "de", ctx, &out, err,
                                     sizeof err));
  ck_assert_str_eq(out, "[Acme <Ltd>: Bestätigen Sie Ihre Datenschutzanfrage\n]");
  free(out);
  ck_assert(!dsr_template_render("nonexistent.txt", "en", ctx, &out, err, sizeof err));
  ck_assert(strstr(err, "no template") != NULL);
  json_decref(ctx);
}
END_TEST

/* Whether template file @p name ("page_form.en.html") is one a data subject reads. */
static bool subject_facing(const char *name)
{
  static const char *const staff[] = {"ui", "report_", "compliance_report", "style.", "icon."};
  for (size_t i = 0; i < sizeof staff / sizeof *staff; i++)
    if (!strncmp(name, staff[i], strlen(staff[i])))
      return false;
  return true;
}

/*
 * Every subject-facing page, mail and SMS exists in English, German and
 * Brazilian Portuguese: a template in one language and not in another fails,
 * and so does a word (words.LANG.txt) missing from one language.
 */
START_TEST(every_subject_template_in_every_language)
{
  static const char *const langs[] = {"en", "de", "pt-BR"};
  int checked = 0;
  for (const struct dsr_embedded_file *f = dsr_templates; f->name; f++) {
    if (!subject_facing(f->name))
      continue;
    const char *dot1 = strchr(f->name, '.'), *dot2 = strrchr(f->name, '.');
    ck_assert_msg(dot1 && dot2 > dot1, "%s is not NAME.LANG.EXT", f->name);
    for (size_t i = 0; i < sizeof langs / sizeof *langs; i++) {
      char want[128];
      snprintf(want, sizeof want, "%.*s.%s%s", (int)(dot1 - f->name), f->name, langs[i], dot2);
      bool found = false;
      for (const struct dsr_embedded_file *g = dsr_templates; g->name && !found; g++)
        found = !strcmp(g->name, want);
      ck_assert_msg(found, "%s exists but %s does not", f->name, want);
    }
    checked++;
  }
  ck_assert_int_ge(checked, 60);
  /* the words: every key of every language in the others */
  for (size_t l = 0; l < sizeof langs / sizeof *langs; l++) {
    char name[32];
    snprintf(name, sizeof name, "words.%s.txt", langs[l]);
    const char *text = dsr_template_find("words.txt", langs[l], NULL);
    ck_assert_ptr_nonnull(text);
    for (const char *p = text; *p;) {
      size_t n = strcspn(p, "\n");
      const char *eq = memchr(p, '=', n), *dot = memchr(p, '.', n);
      if (*p != '#' && eq && dot && dot < eq) {
        char group[64], key[64];
        snprintf(group, sizeof group, "%.*s", (int)(dot - p), p);
        snprintf(key, sizeof key, "%.*s", (int)(eq - dot - 1), dot + 1);
        for (size_t m = 0; m < sizeof langs / sizeof *langs; m++)
          ck_assert_msg(dsr_words_has(group, key, langs[m]), "%s.%s is in %s but not in words.%s.txt",
                        group, key, name, langs[m]);
      }
      p += n + (p[n] ? 1 : 0);
    }
  }
}
END_TEST

Suite *suite_template(void)
{
  Suite *s = suite_create("template");
  TCase *tc = tcase_create("render");
  tcase_add_test(tc, escapes_every_html_special);
  tcase_add_test(tc, values_and_missing_keys);
  tcase_add_test(tc, sections_lists_objects_booleans);
  tcase_add_test(tc, nesting_and_outer_lookup);
  tcase_add_test(tc, comments_and_standalone_lines);
  tcase_add_test(tc, malformed_templates_fail_clearly);
  tcase_add_test(tc, deep_nesting_is_an_error_not_a_crash);
  tcase_add_test(tc, embedded_set_language_fallback_and_partials);
  tcase_add_test(tc, notices_say_what_happened);
  tcase_add_test(tc, request_page_names_the_agent_and_its_callbacks);
  tcase_add_test(tc, closing_notice_says_what_was_erased_and_kept);
  tcase_add_test(tc, times_and_words_per_language);
  tcase_add_test(tc, every_subject_template_in_every_language);
  suite_add_tcase(s, tc);
  return s;
}
