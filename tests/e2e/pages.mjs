// End-to-end checks of dsrd's public pages in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core). Starts its own dsrd on a
// fresh state directory (embedded PostgreSQL) and a free loopback port,
// reads the verification mail from STATE_DIR/maildir, saves screenshots into
// OUT_DIR, and prints "e2e: N passed, M failed".
//
// Usage: DSRD=path/to/dsrd OUT_DIR=build node tests/e2e/pages.mjs
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assert, axeViolations, check, freePort, readMail, results, summary, until } from './lib.mjs';

const dsrdBin = process.env.DSRD || 'build/default/dsrd';
const outDir = process.env.OUT_DIR || 'build';
fs.mkdirSync(outDir, { recursive: true });

const state = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-e2e-'));
fs.chmodSync(state, 0o755); // the embedded cluster's user must be able to enter it
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const dsrd = spawn(dsrdBin, [`--state-dir=${state}`, `--port=${port}`, '--log-level=warn'],
  { stdio: ['ignore', 'ignore', fs.openSync(path.join(state, 'dsrd.log'), 'a')] });
let browser;
let profile;
try {
  await until('dsrd', async () => {
    try { return (await fetch(`${base}/healthz`)).ok; } catch { return false; }
  }, 120000);
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-chromium-'));
  // A fresh profile: playwright passes it to Chromium as --user-data-dir.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1000, height: 900 },
  });
  const page = browser.pages()[0] || await browser.newPage();
  // Console errors fail the run, except the network line Chromium logs for a page that is
  // deliberately answered with a 4xx (a form shown again with its error).
  let expected = [];
  const errors = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const t = m.text();
    if (expected.some((code) => t.includes(`status of ${code}`))) return;
    errors.push(t);
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => { errors.push(`dialog opened: ${d.message()}`); d.dismiss(); });
  const noErrors = (where) => assert(errors.length === 0, `${where}: ${errors.join(' | ')}`);
  // Every page that is shot is also scanned with axe-core (WCAG 2 A/AA); the last check sums up.
  const a11y = [];
  const shot = async (name) => {
    a11y.push(...(await axeViolations(page, name)).map((v) => `${name}: ${v}`));
    await page.screenshot({ path: path.join(outDir, `e2e-${name}.png`), fullPage: true });
  };

  await check('request form renders with labels and security headers', async () => {
    const resp = await page.goto(`${base}/requests/new`);
    assert(resp.status() === 200, `status ${resp.status()}`);
    const h = resp.headers();
    assert(h['content-security-policy'].includes("default-src 'none'"), 'CSP');
    assert(h['x-frame-options'] === 'DENY', 'XFO');
    assert(h['x-content-type-options'] === 'nosniff', 'nosniff');
    const unlabeled = await page.$$eval('input:not([type=hidden]), select, textarea',
      (els) => els.filter((e) => !e.labels || e.labels.length === 0).map((e) => e.name));
    assert(unlabeled.length === 0, `unlabeled: ${unlabeled}`);
    assert((await page.title()).includes('Make a privacy request'), 'title');
    assert(await page.$eval('link[rel=stylesheet]', (l) => !!l.sheet), 'stylesheet loaded');
    await shot('form');
    noErrors('form');
  });

  await check('keyboard: Tab reaches the skip link, then the form', async () => {
    await page.goto(`${base}/requests/new`);
    await page.keyboard.press('Tab');
    assert(await page.evaluate(() => document.activeElement.className) === 'skip', 'skip link first');
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => `${document.activeElement.tagName}:${document.activeElement.type}`);
    assert(first === 'INPUT:radio', `focus on ${first}`);
    await page.keyboard.press('Space'); // choose the first type from the keyboard
    assert(await page.isChecked('#type-access'), 'radio chosen by keyboard');
    await page.keyboard.press('Tab');
    const next = await page.evaluate(() => document.activeElement.id);
    assert(next === 'jurisdiction', `then ${next}`);
    noErrors('keyboard');
  });

  await check('invalid input is shown again, escaped', async () => {
    expected = [400];
    await page.goto(`${base}/requests/new`);
    await page.check('#type-erasure');
    await page.fill('#email', 'not-an-email');
    await page.fill('#phone', '"><script>alert(1)</script>');
    await page.fill('#details', '<b>bold</b> & "quotes"');
    await page.click('button[type=submit]');
    await page.waitForSelector('.error');
    assert((await page.textContent('.error')).includes('email'), 'error names the field');
    // every problem at once, each next to its field, announced to assistive technology
    const listed = await page.$$eval('#form-error li', (els) => els.length);
    assert(listed === 2, `${listed} problems listed (email and phone)`);
    for (const f of ['email', 'phone']) {
      assert(await page.getAttribute(`#${f}`, 'aria-invalid') === 'true', `${f} aria-invalid`);
      const by = await page.getAttribute(`#${f}`, 'aria-describedby');
      assert(by.split(' ').includes(`${f}-error`), `${f} described by its error (${by})`);
      assert((await page.textContent(`#${f}-error`)).length > 10, `${f} error text`);
    }
    assert(await page.getAttribute('#details', 'aria-invalid') === null, 'details is fine');
    assert(await page.$('script') === null, 'no script element');
    assert(await page.inputValue('#details') === '<b>bold</b> & "quotes"', 'value kept verbatim');
    await shot('form-error');
    noErrors('form error');
    expected = [];
  });

  const email = `e2e.${Date.now()}@example.org`;
  let requestUrl;
  await check('making a request leads to the verify page', async () => {
    await page.goto(`${base}/`);
    await page.check('#type-access');
    await page.selectOption('#jurisdiction', 'ccpa');
    await page.fill('#email', email);
    await page.fill('#details', 'Calls from last spring, please.');
    await Promise.all([page.waitForURL(/\/requests\/[0-9a-f-]{36}\/verify$/), page.click('button[type=submit]')]);
    requestUrl = page.url().replace(/\/verify$/, '');
    assert((await page.textContent('h1')).includes('Confirm'), 'verify heading');
    await shot('verify');
    noErrors('verify');
  });

  await check('a wrong code says how many attempts are left', async () => {
    expected = [422];
    const text = await until('the code mail', () => readMail(state, email, null), 30000);
    const code = text.match(/^ {4}(\d{6})$/m)[1];
    const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
    await page.fill('#code', wrong);
    await page.click('form[action$="/verify"] button[type=submit]');
    await page.waitForSelector('.error');
    assert((await page.textContent('.error')).includes('4 attempts left'), 'attempts left');
    await shot('verify-wrong');
    noErrors('wrong code');
    expected = [];
    await page.fill('#code', code);
    await Promise.all([page.waitForURL(/\/status$/), page.click('form[action$="/verify"] button[type=submit]')]);
    assert((await page.textContent('dl.status')).includes('Confirmed'), 'status confirmed');
    await shot('status');
    noErrors('status');
  });

  await check('the one-click link confirms after a button press', async () => {
    const email2 = `e2e.link.${Date.now()}@example.org`;
    await page.goto(`${base}/requests/new`);
    await page.check('#type-erasure');
    await page.fill('#email', email2);
    await Promise.all([page.waitForURL(/\/verify$/), page.click('button[type=submit]')]);
    const text = await until('the link mail', () => readMail(state, email2, null), 30000);
    const link = text.match(/http:\/\/\S+\/verify\?t=[A-Za-z0-9_-]+/)[0];
    await page.goto(link.replace(/^http:\/\/[^/]+/, base));
    await shot('link');
    await Promise.all([page.waitForURL(/\/status(\?k=[A-Za-z0-9_-]+)?$/), page.click('button[type=submit]')]);
    assert((await page.textContent('dl.status')).includes('Confirmed'), 'confirmed by link');
    noErrors('link');
  });

  await check('withdraw from the status page', async () => {
    await page.goto(`${requestUrl}/status`);
    await Promise.all([page.waitForURL(/\/status$/), page.click('button.link')]);
    assert((await page.textContent('dl.status')).includes('Withdrawn'), 'withdrawn');
    await shot('withdrawn');
    noErrors('withdraw');
  });

  await check('the mailed link works on another device, also after confirming', async () => {
    const email3 = `e2e.device.${Date.now()}@example.org`;
    await page.goto(`${base}/requests/new`);
    await page.check('#type-erasure');
    await page.fill('#email', email3);
    await Promise.all([page.waitForURL(/\/verify$/), page.click('button[type=submit]')]);
    const text = await until('the link mail', () => readMail(state, email3, null), 30000);
    const link = text.match(/http:\/\/\S+\/verify\?t=[A-Za-z0-9_-]+/)[0].replace(/^http:\/\/[^/]+/, base);
    await browser.clearCookies(); // the phone that reads the mail: no cookie of the form's browser
    await page.goto(link);
    await Promise.all([page.waitForURL(/\/status\?k=/), page.click('button[type=submit]')]);
    assert((await page.textContent('dl.status')).includes('Confirmed'), 'confirmed on the other device');
    await shot('link-other-device');
    // the same link again, after confirming: the status page, never a 404
    const again = await page.goto(link);
    assert(again.status() === 200, `status ${again.status()}`);
    assert(/\/status\?k=/.test(page.url()), `landed on ${page.url()}`);
    assert((await page.textContent('dl.status')).includes('Confirmed'), 'status again');
    // a forged capability is not a status page
    expected = [404];
    const forged = await page.goto(page.url().replace(/k=[^&]+/, 'k=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'));
    assert(forged.status() === 404, `forged capability: ${forged.status()}`);
    expected = [];
    // withdrawing works from the link's page too
    await page.goBack();
    await page.goto(link);
    await Promise.all([page.waitForURL(/\/status\?k=/), page.click('button.link')]);
    assert((await page.textContent('dl.status')).includes('Withdrawn'), 'withdrawn by link');
    const mail = await until('the withdrawal mail', () => readMail(state, email3, 'you withdrew'), 60000);
    assert(mail.subject.endsWith('your privacy request is withdrawn'), `subject ${mail.subject}`);
    noErrors('other device');
  });

  await check('an unknown page is an HTML page for a browser, problem+json for an API client', async () => {
    expected = [404, 405];
    const resp = await page.goto(`${base}/no/such/page`);
    assert(resp.status() === 404, `status ${resp.status()}`);
    assert(resp.headers()['content-type'].startsWith('text/html'), resp.headers()['content-type']);
    assert(await page.$('a[href="/requests/new"]'), 'a way back to the form');
    await shot('not-found');
    const api = await fetch(`${base}/no/such/page`, { headers: { Accept: 'application/json' } });
    assert(api.status === 404 && api.headers.get('content-type').startsWith('application/problem+json'), 'API: problem+json');
    const plain = await fetch(`${base}/no/such/page`);
    assert(plain.headers.get('content-type').startsWith('application/problem+json'), 'no Accept: problem+json');
    const m = await fetch(`${base}/healthz`, { method: 'DELETE', headers: { Accept: 'text/html,*/*;q=0.8' } });
    assert(m.status === 405 && m.headers.get('content-type').startsWith('text/html'), `405 for a browser: ${m.status}`);
    noErrors('not found');
    expected = [];
  });

  await check('German and Brazilian Portuguese: pages and mails in the browser\'s language', async () => {
    for (const [lang, h1, hello, status] of [
      ['de-DE,de;q=0.9,en;q=0.5', 'Eine Datenschutzanfrage stellen', 'Guten Tag', 'Ihre Anfrage'],
      ['pt-BR,pt;q=0.9', 'Fazer um pedido de privacidade', 'Olá', 'O seu pedido'],
    ]) {
      await page.setExtraHTTPHeaders({ 'Accept-Language': lang });
      const who = `e2e.${lang.slice(0, 2)}.${Date.now()}@example.org`;
      await page.goto(`${base}/requests/new`);
      assert((await page.textContent('h1')) === h1, `${lang}: form heading`);
      const htmlLang = await page.getAttribute('html', 'lang');
      assert(htmlLang === lang.split(',')[0].replace('de-DE', 'de'), `html lang ${htmlLang}`);
      await shot(`form-${htmlLang}`);
      await page.check('#type-erasure');
      await page.fill('#email', who);
      await Promise.all([page.waitForURL(/\/verify$/), page.click('button[type=submit]')]);
      const mail = await until('the code mail', () => readMail(state, who, null), 30000);
      assert(mail.startsWith(hello), `${lang}: mail "${mail.slice(0, 20)}"`);
      assert(!/\d{4}-\d\d-\d\dT/.test(mail), `${lang}: times in words`);
      await shot(`verify-${htmlLang}`);
      await page.fill('#code', mail.match(/^ {4}(\d{6})$/m)[1]);
      await Promise.all([page.waitForURL(/\/status$/), page.click('form[action$="/verify"] button[type=submit]')]);
      assert((await page.textContent('h1')) === status, `${lang}: status heading`);
      await shot(`status-${htmlLang}`);
    }
    await page.setExtraHTTPHeaders({});
    noErrors('languages');
  });

  await check('axe-core: every public page shown has no WCAG A/AA violation', async () => {
    assert(a11y.length === 0, `${a11y.length} violations: ${a11y.join(' | ')}`);
  });

  await check('a forged form post is refused (CSRF)', async () => {
    const r = await fetch(`${base}/requests/new`, {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'csrf=forged&type=erasure&email=victim%40example.org',
    });
    assert(r.status === 403, `status ${r.status}`);
  });
} catch (e) {
  results.push({ name: 'setup', ok: false });
  console.log(`FAIL setup: ${e.message}`);
} finally {
  if (browser) await browser.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
  dsrd.kill('SIGTERM');
  await new Promise((r) => (dsrd.exitCode !== null ? r() : dsrd.on('exit', r)));
  if (!process.env.DSR_KEEP_TMP) fs.rmSync(state, { recursive: true, force: true });
}
process.exit(summary());
