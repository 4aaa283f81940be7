// End-to-end checks of the staff UI (/ui/) in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core). Builds a small sample
// platform on a fresh state directory, runs dsrd on it with the CallOrbit
// policy (so discovery finds real data) in demo mode, creates staff users with
// dsrctl, and walks a request from the public form to a decision in the
// browser. Screenshots go to OUT_DIR; prints "e2e: N passed, M failed".
//
// Usage: DSRD=path/to/dsrd DSRCTL=path/to/dsrctl OUT_DIR=build node tests/e2e/ui.mjs
import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assert, check, freePort, results, summary, until } from './lib.mjs';

const dsrdBin = process.env.DSRD || 'build/default/dsrd';
const dsrctlBin = process.env.DSRCTL || path.join(path.dirname(dsrdBin), 'dsrctl');
const outDir = process.env.OUT_DIR || 'build';
const top = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
fs.mkdirSync(outDir, { recursive: true });

const state = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-e2e-ui-'));
fs.chmodSync(state, 0o755); // the embedded cluster's user must be able to enter it
const env = {
  ...process.env,
  DSR_PLATFORM_DSN: `host=${state}/pg/run port=5432 user=dsrd dbname=platform`,
  DSR_MEDIA_ROOT: `${state}/media`,
  DSR_MEDIA_BACKUP_ROOT: `${state}/backups`,
  DSRD_WEBHOOK_ALLOW_HTTP: 'true',
  DSRD_WEBHOOK_ALLOW_PRIVATE: 'true',
};

function dsrctl(args, input) {
  const r = spawnSync(dsrctlBin, [`--state-dir=${state}`, ...args],
    { env, input: input ?? '', encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`dsrctl ${args[0]} ${args[1] || ''}: ${r.stderr}`);
  return r.stdout;
}

const pw = () => crypto.randomBytes(18).toString('base64url');
const users = {
  admin: { email: 'ada@example.org', password: pw() },
  triager: { email: 'tom@example.org', password: pw() },
  approver: { email: 'pia@example.org', password: pw() },
};
const subject = 'sam.ui@example.org';
// Another person's number, given on the same form and never verified by its owner.
const stranger = '+442079460999';

// An authorized agent (DRP 1.0) with its own Ed25519 key, in the directory dsrd reads.
const agentKeys = crypto.generateKeyPairSync('ed25519');
const agentVerifyKey = Buffer.from(agentKeys.publicKey.export({ format: 'jwk' }).x, 'base64url')
  .toString('base64');
fs.writeFileSync(path.join(state, 'drp-agents.json'), JSON.stringify([{
  id: 'E2E_AGENT', name: 'E2E Rights App', verify_key: agentVerifyKey,
  web_url: 'https://agent.example', technical_contact: 'tech@agent.example',
}]));
// A DRP signed body: base64 of the signature followed by the message.
function drpSign(claims) {
  const msg = Buffer.from(JSON.stringify(claims));
  return Buffer.concat([crypto.sign(null, msg, agentKeys.privateKey), msg]).toString('base64');
}
function drpClaims(extra) {
  const now = Date.now();
  return { 'agent-id': 'E2E_AGENT', 'business-id': 'E2E_CB_001',
    'issued-at': new Date(now).toISOString(), 'expires-at': new Date(now + 600000).toISOString(),
    'drp.version': '1.0', jti: crypto.randomBytes(8).toString('hex'), ...extra };
}

let dsrd;
const contexts = [];
const profiles = [];
const port = await freePort();
const base = `http://127.0.0.1:${port}`;

async function browserContext() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-chromium-'));
  profiles.push(profile);
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  contexts.push(ctx);
  const page = ctx.pages()[0] || await ctx.newPage();
  // Console errors fail the run, except Chromium's network line for a page deliberately
  // answered with a 4xx (a form shown again with its error).
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

// Basic accessibility and hygiene of the page now shown.
async function pageOk(page, where) {
  const h1 = await page.$$eval('h1', (els) => els.length);
  assert(h1 === 1, `${where}: ${h1} h1 elements`);
  const unlabeled = await page.$$eval('input:not([type=hidden]), select, textarea',
    (els) => els.filter((e) => !e.labels || e.labels.length === 0).map((e) => e.name || e.id));
  assert(unlabeled.length === 0, `${where}: unlabeled ${unlabeled}`);
  assert(await page.$eval('link[rel=stylesheet]', (l) => !!l.sheet), `${where}: stylesheet`);
  assert(page.errors.length === 0, `${where}: console: ${page.errors.join(' | ')}`);
}

async function login(page, who) {
  await page.goto(`${base}/ui/login`);
  await page.fill('#email', users[who].email);
  await page.fill('#password', users[who].password);
  await Promise.all([page.waitForURL(`${base}/ui/`), page.click('button[type=submit]')]);
}

// The code of the newest verification mail to `to`, read in the browser from the dev inbox.
async function codeFromInbox(page, to) {
  return until(`the code mail to ${to}`, async () => {
    await page.goto(`${base}/ui/inbox`);
    const texts = await page.$$eval('article.mail', (els) => els.map((e) => e.textContent));
    const mail = texts.find((t) => t.includes(`To ${to}`));
    const m = mail && mail.match(/(?:^ {4}|code is )(\d{6})\b/m);
    return m && m[1];
  }, 30000);
}

// Files request `type` for `who` (an email address or a phone number) on the public form
// and confirms it with the code read from the dev inbox.
// With `alsoPhone`, the form also gives that number, which nobody verifies.
async function fileAndVerify(page, staffPage, type, who, alsoPhone) {
  await page.goto(`${base}/requests/new`);
  await page.check(`#type-${type}`);
  await page.selectOption('#jurisdiction', 'gdpr');
  await page.fill(who.startsWith('+') ? '#phone' : '#email', who);
  if (alsoPhone) await page.fill('#phone', alsoPhone);
  await Promise.all([page.waitForURL(/\/verify$/), page.click('button[type=submit]')]);
  const id = page.url().match(/requests\/([0-9a-f-]{36})\/verify/)[1];
  const code = await codeFromInbox(staffPage, who);
  await page.goto(`${base}/requests/${id}/verify`);
  if (who.startsWith('+')) await page.check('#channel-sms');
  await page.fill('#code', code);
  await Promise.all([page.waitForURL(/\/status$/), page.click('form[action$="/verify"] button[type=submit]')]);
  return id;
}

// Waits until discovery has run: the request detail lists a part or says it completed.
async function discovered(page, id) {
  return until(`discovery of ${id}`, async () => {
    await page.goto(`${base}/ui/requests/${id}`);
    return (await page.$('.part')) || (await page.textContent('#request-status')) === 'completed';
  }, 60000);
}

// A form POST from the page's own context (its cookies), for forged requests.
async function post(page, url, form) {
  return page.request.post(url, { form, maxRedirects: 0 });
}

try {
  dsrctl(['sample', 'generate', '--subjects', '20', '--seed', '1', '--media', `${state}/media`,
    '--backup-sets', '1', '--backup-dir', `${state}/backups`, '--subject-email', subject,
    '--subject-phone', '+15550100777']);
  for (const [role, u] of Object.entries(users))
    dsrctl(['user', 'add', '--role', role, '--email', u.email, '--name', `E2E ${role}`], `${u.password}\n`);
  const added = dsrctl(['customer', 'add', '--name', 'Acme Calls', '--tenant', '1', '--webhook-url',
    'http://127.0.0.1:9/dsr-hook']);
  const customerKey = (added.match(/^api_key: (\S+)$/m) || [])[1];
  assert(customerKey, 'dsrctl customer add printed an API key');
  dsrd = spawn(dsrdBin, [`--state-dir=${state}`, `--port=${port}`, '--log-level=warn',
    `--policy-file=${path.join(top, 'policies/callorbit.json')}`, '--demo-mode=true',
    '--drp-business-id=E2E_CB_001', `--drp-agents-file=${path.join(state, 'drp-agents.json')}`],
  { env, stdio: ['ignore', 'ignore', fs.openSync(path.join(state, 'dsrd.log'), 'a')] });
  await until('dsrd', async () => {
    try { return (await fetch(`${base}/healthz`)).ok; } catch { return false; }
  }, 120000);

  const admin = await browserContext();
  const subjectPage = await admin.context().newPage();
  // Screenshots are for people to look at, not assertions: a capture that stalls on a loaded
  // machine is reported and retried once at viewport size instead of failing the check.
  const shot = async (p, name, fullPage = true) => {
    const file = path.join(outDir, `e2e-ui-${name}.png`);
    try {
      await p.screenshot({ path: file, fullPage, timeout: 60000 });
    } catch (e) {
      console.log(`note: full-page screenshot ${name} failed (${e.message.split('\n')[0]}); viewport only`);
      await p.screenshot({ path: file, timeout: 60000 }).catch(() => {});
    }
  };
  let erasureId;
  let otherId;

  await check('ui: without a session /ui/ leads to the login page, with security headers', async () => {
    const resp = await admin.goto(`${base}/ui/`);
    assert(admin.url() === `${base}/ui/login`, `at ${admin.url()}`);
    const h = resp.headers();
    assert(h['content-security-policy'].includes("default-src 'none'"), 'CSP');
    assert(h['x-frame-options'] === 'DENY', 'XFO');
    assert(h['referrer-policy'] === 'no-referrer', 'Referrer-Policy');
    await pageOk(admin, 'login');
    await shot(admin, 'login');
  });

  await check('ui: a wrong password is refused on the page', async () => {
    admin.expected = [401];
    await admin.fill('#email', users.admin.email);
    await admin.fill('#password', 'not-the-password');
    await admin.click('button[type=submit]');
    await admin.waitForSelector('.error');
    assert((await admin.textContent('.error')).includes('wrong'), 'error text');
    await pageOk(admin, 'login error');
    admin.expected = [];
  });

  await check('ui: admin logs in; the session cookie is HttpOnly and SameSite=Strict', async () => {
    await login(admin, 'admin');
    const c = (await admin.context().cookies()).find((k) => k.name === 'dsr_ui');
    assert(c && c.httpOnly && c.sameSite === 'Strict', JSON.stringify(c));
    assert(c.value.length === 43, 'a 256-bit id');
    await pageOk(admin, 'queue');
  });

  await check('ui: a request made on the public form is confirmed with the code from the dev inbox', async () => {
    erasureId = await fileAndVerify(subjectPage, admin, 'erasure', subject, stranger);
    assert(await discovered(admin, erasureId), 'discovered');
    await pageOk(admin, 'inbox');
  });

  await check('ui: the new verified request is in the controller queue', async () => {
    await admin.goto(`${base}/ui/`);
    await admin.selectOption('#f-queue', 'controller');
    await admin.selectOption('#f-type', 'erasure');
    await admin.selectOption('#f-jur', 'gdpr');
    await Promise.all([admin.waitForURL(/queue=controller/), admin.click('form.filters button')]);
    const link = admin.locator(`a[href="/ui/requests/${erasureId}"]`);
    assert(await link.count() === 1, 'listed');
    await pageOk(admin, 'queue filtered');
    await admin.selectOption('#f-sort', 'due');
    await Promise.all([admin.waitForURL(/sort=due/), admin.click('form.filters button')]);
    assert(await admin.locator(`a[href="/ui/requests/${erasureId}"]`).count() === 1, 'sorted by due date');
    await shot(admin, 'dashboard');
    await Promise.all([admin.waitForURL(`${base}/ui/requests/${erasureId}`), admin.locator(`a[href="/ui/requests/${erasureId}"]`).click()]);
  });

  await check('ui: request detail shows masked identities, verification, parts and deliveries', async () => {
    assert(await admin.textContent('#request-status') === 'in_progress', 'in progress');
    const body = await admin.textContent('main');
    assert(!body.includes(subject), 'the email is masked');
    assert(/s\*+@e\*+\.org/.test(body), 'masked email shown');
    assert(body.includes('Verified at'), 'verification state');
    assert(body.includes('controller part'), 'controller part');
    assert(body.includes('customer part: Acme Calls'), 'customer part');
    assert(body.includes('customer decision'), 'the customer part waits for the customer, not staff');
    await until('a webhook attempt', async () => {
      await admin.reload();
      return (await admin.textContent('main')).includes('attempt at');
    }, 30000);
    assert(await admin.$('#approve'), 'approve button for admin');
    /* the number nobody verified is marked and offered for verification by hand */
    assert(body.includes('not used'), 'the unverified phone is marked');
    assert(await admin.$('form input[name=identity][value=phone]'), 'verify-the-phone form');
    await pageOk(admin, 'detail');
    await shot(admin, 'request');
    await admin.setViewportSize({ width: 390, height: 844 });
    await shot(admin, 'request-390', false);
    await admin.setViewportSize({ width: 1280, height: 900 });
  });

  await check('ui: the plan preview lists what erasure would do', async () => {
    await Promise.all([admin.waitForURL(/\/plan$/), admin.click('#plan-link')]);
    assert(await admin.textContent('#plan-kind') === 'erasure', 'erasure plan');
    assert(await admin.locator('table.grid tbody tr').count() > 0, 'steps');
    const searched = await admin.textContent('#plan-identities');
    assert(searched.includes('email') && !searched.includes('phone'), `searched: ${searched}`);
    assert((await admin.textContent('main')).includes('Not verified, left out: phone'), 'left out');
    await pageOk(admin, 'plan');
    await shot(admin, 'plan');
    await admin.setViewportSize({ width: 390, height: 844 });
    await shot(admin, 'plan-390', false);
    await admin.setViewportSize({ width: 1280, height: 900 });
  });

  await check('ui: staff verify the other number by hand; discovery runs again', async () => {
    await admin.goto(`${base}/ui/requests/${erasureId}`);
    await admin.fill('#verify-phone-note', 'called the number back; it is the requester');
    await Promise.all([admin.waitForURL(/done=verify$/),
      admin.click('form:has(input[name=identity][value=phone]) button[type=submit]')]);
    const body = await admin.textContent('main');
    assert(!body.includes('not used'), 'every identity verified now');
    assert(body.includes('verification.manual_identity'), 'in the timeline');
    assert(body.includes('identity.verified_later'), 'discovery queued again');
    await pageOk(admin, 'verified by hand');
  });

  await check('ui: a triager sees no approve button and a forged approve is refused (403)', async () => {
    const tri = await browserContext();
    await login(tri, 'triager');
    await tri.goto(`${base}/ui/requests/${erasureId}`);
    assert(await tri.$('#approve') === null, 'no approve button');
    assert(await tri.$('#deny') === null, 'no deny button');
    assert(await tri.$('#assignee'), 'assign form shown');
    await pageOk(tri, 'triager detail');
    const csrf = await tri.inputValue('form.who input[name=csrf]');
    const r = await post(tri, `${base}/ui/requests/${erasureId}/actions`, { csrf, action: 'approve' });
    assert(r.status() === 403, `status ${r.status()}`);
    const r2 = await post(tri, `${base}/ui/customers/rotate`, { csrf, customer: 'Acme Calls' });
    assert(r2.status() === 403, `rotate as triager: ${r2.status()}`);
    const r3 = await tri.request.get(`${base}/ui/report`, { maxRedirects: 0 });
    assert(r3.status() === 403, `report as triager: ${r3.status()}`);
    await tri.goto(`${base}/ui/requests/${erasureId}`);
    assert(await tri.textContent('#request-status') === 'in_progress', 'unchanged');
  });

  await check('ui: a POST without the CSRF token is refused (403)', async () => {
    const r = await post(admin, `${base}/ui/requests/${erasureId}/actions`, { action: 'approve' });
    assert(r.status() === 403, `status ${r.status()}`);
    const r2 = await post(admin, `${base}/ui/requests/${erasureId}/actions`, { action: 'approve', csrf: 'A'.repeat(43) });
    assert(r2.status() === 403, `wrong token: ${r2.status()}`);
    await admin.goto(`${base}/ui/requests/${erasureId}`);
    assert(await admin.$('#approve'), 'still waiting for approval');
  });

  await check('ui: admin approves; the erasure runs, its receipt shows, the customer answers, the request completes', async () => {
    await admin.goto(`${base}/ui/requests/${erasureId}`);
    await Promise.all([admin.waitForURL(/done=approve$/), admin.click('#approve')]);
    assert((await admin.textContent('.notice')).includes('Approved'), 'notice');
    assert(await admin.$('#approve') === null, 'nothing left to approve');
    /* The worker executes the approved part; the customer's part still waits for its decision. */
    await until('the controller part done', async () => {
      await admin.goto(`${base}/ui/requests/${erasureId}`);
      const states = await admin.$$eval('.part h3 .st', (els) => els.map((e) => e.textContent));
      return states[0] === 'done';
    }, 120000);
    assert(await admin.$('#h-receipt'), 'the erasure receipt is shown');
    const tl = await admin.textContent('.timeline');
    assert(tl.includes('part.approved') && tl.includes('erasure.receipt'), 'timeline events');
    await pageOk(admin, 'executed');
    /* The customer answers its part through the customer API; then the request is complete. */
    const auth = { Authorization: `Bearer ${customerKey}` };
    const list = await (await fetch(`${base}/v1/customer/requests?status=forwarded`, { headers: auth })).json();
    assert(list.items.length >= 1, 'the customer sees its forwarded part');
    for (const item of list.items) {
      const r = await fetch(`${base}/v1/customer/requests/${item.part_id}/decision`, {
        method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ decision: 'handled' }) });
      assert(r.status === 200, `customer decision: ${r.status}`);
    }
    await until('request completed', async () => {
      await admin.goto(`${base}/ui/requests/${erasureId}`);
      return (await admin.textContent('#request-status')) === 'completed';
    }, 60000);
    await pageOk(admin, 'completed');
  });

  await check('ui: a request whose discovery finds no data completes', async () => {
    const id = await fileAndVerify(subjectPage, admin, 'erasure', 'nobody.here@example.net');
    await until('completion', async () => {
      await admin.goto(`${base}/ui/requests/${id}`);
      return (await admin.textContent('#request-status')) === 'completed';
    }, 60000);
    assert((await admin.textContent('main')).includes('No parts yet') || (await admin.$('.part')) === null, 'no parts');
    await pageOk(admin, 'completed');
  });

  await check('ui: approver denies another request with a reason', async () => {
    const appr = await browserContext();
    await login(appr, 'approver');
    otherId = await fileAndVerify(subjectPage, admin, 'erasure', '+15550100777');
    assert(await discovered(appr, otherId), 'discovered');
    await appr.selectOption('#deny-reason', 'manifestly_unfounded');
    await Promise.all([appr.waitForURL(/done=deny$/), appr.click('#deny')]);
    assert(await appr.textContent('#request-status') === 'denied', 'denied');
    assert((await appr.textContent('main')).includes('manifestly_unfounded'), 'reason shown');
    await pageOk(appr, 'denied');
  });

  await check('ui: customers page shows delivery health; rotating shows the whsec_ once', async () => {
    await admin.goto(`${base}/ui/customers`);
    assert((await admin.textContent('table.grid')).includes('Acme Calls'), 'listed');
    await pageOk(admin, 'customers');
    await Promise.all([admin.waitForLoadState('load'), admin.click('form[action="/ui/customers/rotate"] button')]);
    const secret = await admin.textContent('#new-secret');
    assert(/^whsec_/.test(secret), `secret ${secret}`);
    await admin.goto(`${base}/ui/customers`);
    assert(!(await admin.content()).includes(secret), 'not shown again');
  });

  await check('ui: the compliance report page shows the report for a period', async () => {
    await admin.goto(`${base}/ui/report`);
    await pageOk(admin, 'report form');
    const [resp] = await Promise.all([admin.waitForNavigation(), admin.click('form.filters button')]);
    assert(resp.status() === 200, `status ${resp.status()}`);
    assert((await admin.content()).toLowerCase().includes('compliance'), 'report');
  });

  await check('ui: repeated wrong passwords lock the account (429 with Retry-After)', async () => {
    const csrf = crypto.randomBytes(32).toString('base64url');
    const attempt = (password) => fetch(`${base}/ui/login`, {
      method: 'POST', redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `dsr_csrf=${csrf}` },
      body: new URLSearchParams({ csrf, email: users.triager.email, password }).toString(),
    });
    for (let i = 0; i < 5; i++) {
      const r = await attempt('wrong-password-here');
      assert(r.status === 401 || r.status === 429, `attempt ${i}: ${r.status}`);
    }
    const r = await attempt(users.triager.password);
    assert(r.status === 429, `right password while locked: ${r.status}`);
    assert(Number(r.headers.get('retry-after')) > 0, 'Retry-After');
  });

  await check('ui: a request filed by an authorized agent (DRP) names the agent on its page', async () => {
    const text = { 'Content-Type': 'text/plain' };
    const paired = await fetch(`${base}/drp/v1/agent/E2E_AGENT`,
      { method: 'POST', headers: text, body: drpSign(drpClaims({})) });
    assert(paired.status === 200, `pairing: ${paired.status}`);
    const { token } = await paired.json();
    const filed = await fetch(`${base}/drp/v1/data-rights-request`, {
      method: 'POST', headers: { ...text, Authorization: `Bearer ${token}` },
      body: drpSign(drpClaims({ exercise: 'deletion', regime: 'ccpa', 'agent-request-id': 'e2e-1',
        email: 'drp.e2e@example.org', email_verified: true,
        status_callback: 'http://127.0.0.1:9/drp-status' })),
    });
    assert(filed.status === 200, `exercise: ${filed.status}`);
    const st = await filed.json();
    assert(st.status === 'in_progress' && st.agent_request_id === 'e2e-1', JSON.stringify(st));
    await admin.goto(`${base}/ui/requests/${st.request_id}`);
    const who = await admin.textContent('#request-agent');
    assert(who.includes('E2E_AGENT') && who.includes('E2E Rights App') && who.includes('e2e-1'),
      `agent line: ${who}`);
    assert((await admin.textContent('#request-callbacks')).includes('attempt'), 'callbacks listed');
    await pageOk(admin, 'agent request');
    await shot(admin, 'agent-request');
  });

  await check('ui: logout ends the session; the old cookie no longer works', async () => {
    await admin.goto(`${base}/ui/`);
    const old = (await admin.context().cookies()).find((k) => k.name === 'dsr_ui').value;
    await Promise.all([admin.waitForURL(`${base}/ui/login`), admin.click('form.who button')]);
    await pageOk(admin, 'after logout');
    const r = await fetch(`${base}/ui/`, { redirect: 'manual', headers: { Cookie: `dsr_ui=${old}` } });
    assert(r.status === 303 && r.headers.get('location') === '/ui/login', `GET with old cookie: ${r.status}`);
    const csrf = crypto.randomBytes(32).toString('base64url');
    const p = await fetch(`${base}/ui/requests/${otherId}/actions`, {
      method: 'POST', redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `dsr_ui=${old}; dsr_csrf=${csrf}` },
      body: `csrf=${csrf}&action=hold`,
    });
    assert(p.status === 401, `POST with old cookie: ${p.status}`);
  });
} catch (e) {
  results.push({ name: 'setup', ok: false });
  console.log(`FAIL setup: ${e.message}`);
} finally {
  for (const c of contexts) await c.close().catch(() => {});
  for (const p of profiles) fs.rmSync(p, { recursive: true, force: true });
  if (dsrd) {
    dsrd.kill('SIGTERM');
    await new Promise((r) => (dsrd.exitCode !== null ? r() : dsrd.on('exit', r)));
  }
  if (!process.env.DSR_KEEP_TMP) fs.rmSync(state, { recursive: true, force: true });
}
process.exit(summary());
