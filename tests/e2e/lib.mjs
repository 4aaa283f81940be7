// Helpers shared by the e2e scripts (pages.mjs, ui.mjs, subject.mjs): a free loopback
// port, polling for a condition, named checks and their summary line, a browser of its own
// per device, and the teardown.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function until(what, fn, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100)); // polling for a condition, not a race
  }
}

export const results = [];
export async function check(name, fn) {
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name}`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${e.message}`);
  }
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// Prints "e2e: N passed, M failed" and returns the exit status.
export function summary() {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

// The decoded text/plain part of the oldest unread mail (or SMS) to `to` in STATE/maildir whose
// text includes `needle` (any when null); marks it read (moves it to cur/).
export function readMail(state, to, needle) {
  const dir = path.join(state, 'maildir', 'new');
  if (!fs.existsSync(dir)) return null;
  for (const f of fs.readdirSync(dir).sort()) {
    const raw = fs.readFileSync(path.join(dir, f), 'utf8');
    if (!raw.includes(`To: ${to}\r\n`)) continue;
    const m = raw.match(/Content-Type: text\/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n(--|$)/);
    if (!m) continue;
    const text = Buffer.from(m[1].replace(/\r\n/g, ''), 'base64').toString('utf8');
    if (needle && !text.includes(needle)) continue;
    fs.renameSync(path.join(dir, f), path.join(state, 'maildir', 'cur', f));
    const sub = raw.match(/^Subject: =\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=\r$/m);
    return Object.assign(new String(text), {
      subject: sub ? Buffer.from(sub[1], 'base64').toString('utf8') : '',
    });
  }
  return null;
}

// axe-core (npm) run in the page now shown: the WCAG 2.x level A and AA rules. Returns the
// violations as "rule: target" lines (empty when clean). The script goes in through the
// DevTools protocol, so the pages' Content-Security-Policy stays as it is.
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export const axeScanned = [];
export async function axeViolations(page, where) {
  await page.evaluate(axeSource);
  const r = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
  }));
  axeScanned.push(where);
  return r.violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')}`));
}

// Fails with the list when the page now shown has any axe violation of level A or AA.
export async function assertAccessible(page, where) {
  const v = await axeViolations(page, where);
  if (v.length) throw new Error(`${where}: ${v.length} accessibility violations: ${v.join(' | ')}`);
}

// The end of a run: closes the browsers, removes their profiles, stops dsrd and removes its
// state directory (kept with DSR_KEEP_TMP), whatever happened before.
export async function teardown({ contexts = [], profiles = [], dsrd, state }) {
  for (const c of contexts) await c.close().catch(() => {});
  for (const p of profiles) fs.rmSync(p, { recursive: true, force: true });
  if (dsrd) {
    dsrd.kill('SIGTERM');
    await new Promise((r) => (dsrd.exitCode !== null ? r() : dsrd.on('exit', r)));
  }
  if (state && !process.env.DSR_KEEP_TMP) fs.rmSync(state, { recursive: true, force: true });
}

// A browser of its own: a fresh profile (another device, no cookies of the others), recorded in
// @p contexts and @p profiles for teardown(). Console errors and page errors collect in
// page.errors, except Chromium's network line for an answer whose status is in page.expected
// (a form deliberately shown again with its error); a dialog is an error too.
export async function openBrowser(contexts, profiles, width = 1280) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-chromium-'));
  profiles.push(profile);
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width, height: 900 },
    acceptDownloads: true,
  });
  contexts.push(ctx);
  const page = ctx.pages()[0] || await ctx.newPage();
  page.expected = [];
  page.errors = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const t = m.text();
    if (page.expected.some((code) => t.includes(`status of ${code}`))) return;
    page.errors.push(t);
  });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('dialog', (d) => { page.errors.push(`dialog opened: ${d.message()}`); d.dismiss(); });
  return page;
}
