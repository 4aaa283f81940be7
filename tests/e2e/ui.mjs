// End-to-end checks of the staff UI (/ui/) in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core). Builds a small sample
// platform on a fresh state directory, runs dsrd on it with the CallOrbit
// policy (so discovery finds real data) in demo mode, creates staff users with
// dsrctl, and walks a request from the public form to a decision in the
// browser, then checks every staff page at 390 and 1280 px and with axe-core
// (WCAG 2.1 A and AA). Screenshots go to OUT_DIR; prints "e2e: N passed, M failed".
//
// Usage: DSRD=path/to/dsrd DSRCTL=path/to/dsrctl OUT_DIR=build node tests/e2e/ui.mjs
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assert, check, freePort, openBrowser, results, summary, teardown, until } from './lib.mjs';

const dsrdBin = process.env.DSRD || 'build/default/dsrd';
const dsrctlBin = process.env.DSRCTL || path.join(path.dirname(dsrdBin), 'dsrctl');
const outDir = process.env.OUT_DIR || 'build';
const top = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const axeSource = fs.readFileSync(path.join(top, 'tests/e2e/node_modules/axe-core/axe.min.js'), 'utf8');

// axe-core's WCAG 2.x level A and AA rules on the page now shown: the violations, as text.
async function axeViolations(page) {
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  return found;
}
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

const browserContext = () => openBrowser(contexts, profiles);

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

// A request of `type` filed on the public form for `who` (an email or a phone number; with
// `alsoPhone`, also that number) and left unverified; returns its id.
async function fileUnverified(page, who, type = 'erasure', alsoPhone = null) {
  await page.goto(`${base}/requests/new`);
  await page.check(`#type-${type}`);
  await page.selectOption('#jurisdiction', 'gdpr');
  await page.fill(who.startsWith('+') ? '#phone' : '#email', who);
  if (alsoPhone) await page.fill('#phone', alsoPhone);
  await Promise.all([page.waitForURL(/\/verify$/), page.click('button[type=submit]')]);
  return page.url().match(/requests\/([0-9a-f-]{36})\/verify/)[1];
}

// Files request `type` for `who` (an email address or a phone number) on the public form
// and confirms it with the code read from the dev inbox.
// With `alsoPhone`, the form also gives that number, which nobody verifies.
async function fileAndVerify(page, staffPage, type, who, alsoPhone) {
  const id = await fileUnverified(page, who, type, alsoPhone);
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
    '--drp-business-id=E2E_CB_001', `--drp-agents-file=${path.join(state, 'drp-agents.json')}`,
    '--rate-intake-per-address=100000', '--rate-intake-per-identity=100000'],
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
      // A tab in the background draws no frames, so its capture waits for ever: the subject's
      // page of the same browser is often the one in front.
      await p.bringToFront();
      await p.screenshot({ path: file, fullPage, timeout: 60000 });
    } catch (e) {
      console.log(`note: full-page screenshot ${name} failed (${e.message.split('\n')[0]}); viewport only`);
      await p.screenshot({ path: file, timeout: 60000 }).catch(() => {});
    }
  };
  let erasureId;
  let otherId;
  let drpId;
  let reportView = '/ui/report/view'; /* the report the form showed (its period in the query) */

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
    /* Approving is irreversible: the first click asks, saying what will happen. */
    await Promise.all([admin.waitForSelector('#confirm-box'), admin.click('#approve')]);
    assert((await admin.textContent('#confirm-box')).includes('cannot be undone'), 'the confirmation says what happens');
    await pageOk(admin, 'approve confirmation');
    await shot(admin, 'confirm-approve');
    assert(await admin.textContent('#request-status') === 'in_progress', 'nothing done before confirming');
    await Promise.all([admin.waitForURL(/done=approve$/), admin.click('#confirm-yes')]);
    assert((await admin.textContent('.notice')).includes('Approved'), 'notice');
    assert(await admin.$('#approve') === null, 'nothing left to approve');
    /* The worker executes the approved part; the customer's part still waits for its decision. */
    await until('the controller part done', async () => {
      await admin.goto(`${base}/ui/requests/${erasureId}`);
      const states = await admin.$$eval('.part h3 .st', (els) => els.map((e) => e.textContent));
      return states[0] === 'done';
    }, 120000);
    assert(await admin.$('.receipt'), 'the erasure receipt is shown');
    assert(await admin.locator('.receipt table.grid tbody tr').count() > 0, 'the receipt is a table of collections');
    assert(!(await admin.textContent('.receipt')).includes('{'), 'no JSON in the receipt');
    const tl = await admin.textContent('.timeline');
    assert(tl.includes('part.approved') && tl.includes('erasure.receipt'), 'timeline events');
    assert(tl.includes('E2E admin approved the erasure'), 'the timeline in words, with the name');
    assert(!tl.includes('staff:'), 'no staff ids in the timeline');
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
    await Promise.all([appr.waitForSelector('#confirm-box'), appr.click('#deny')]);
    assert((await appr.textContent('#confirm-box')).includes('manifestly_unfounded'), 'the reason is repeated');
    await pageOk(appr, 'deny confirmation');
    await Promise.all([appr.waitForURL(/done=deny$/), appr.click('#confirm-yes')]);
    assert(await appr.textContent('#request-status') === 'denied', 'denied');
    assert((await appr.textContent('main')).includes('manifestly_unfounded'), 'reason shown');
    await pageOk(appr, 'denied');
  });

  await check('ui: the queue finds a request by the subject\'s email, phone or id prefix; subjects are masked', async () => {
    await admin.goto(`${base}/ui/`);
    const body = await admin.textContent('main');
    assert(!body.includes(subject), 'no email in clear on the queue');
    assert(/s\*+@e\*+\.org/.test(await admin.textContent('table.queue')), 'masked subject column');
    await admin.fill('#f-q', 'Sam.UI@Example.org');
    await Promise.all([admin.waitForURL(/q=Sam\.UI%40Example\.org/), admin.click('form.filters button')]);
    let ids = await admin.$$eval('table.queue tbody a', (as) => as.map((a) => a.getAttribute('href')));
    assert(ids.includes(`/ui/requests/${erasureId}`) && !ids.includes(`/ui/requests/${otherId}`), `by email: ${ids}`);
    await pageOk(admin, 'search');
    await admin.goto(`${base}/ui/?q=${encodeURIComponent('+1 555-010-0777')}`);
    ids = await admin.$$eval('table.queue tbody a', (as) => as.map((a) => a.getAttribute('href')));
    assert(ids.includes(`/ui/requests/${otherId}`) && !ids.includes(`/ui/requests/${erasureId}`), `by phone: ${ids}`);
    await admin.goto(`${base}/ui/?q=${erasureId.slice(0, 8).toUpperCase()}`);
    ids = await admin.$$eval('table.queue tbody a', (as) => as.map((a) => a.getAttribute('href')));
    assert(ids.length >= 1 && ids.every((h) => h.startsWith(`/ui/requests/${erasureId.slice(0, 8)}`)), `by id prefix: ${ids}`);
    await admin.goto(`${base}/ui/?q=nobody.at.all%40example.com`);
    assert(await admin.$('#no-match'), 'an unknown email finds nothing');
    await admin.goto(`${base}/ui/?q=hello`);
    assert(await admin.$('.error'), 'a search that is neither is explained');
  });

  await check('ui: requests waiting for verification are hidden by default, shown on request; before verification only verify, deny as unverifiable, assign', async () => {
    const pendingId = await fileUnverified(subjectPage, 'waiting.one@example.net');
    await admin.goto(`${base}/ui/`);
    assert(await admin.locator(`a[href="/ui/requests/${pendingId}"]`).count() === 0, 'hidden by default');
    await Promise.all([admin.waitForURL(/pending=1/), admin.click('#show-pending')]);
    assert(await admin.locator(`a[href="/ui/requests/${pendingId}"]`).count() === 1, 'shown on request');
    await admin.goto(`${base}/ui/?status=needs_action`);
    await pageOk(admin, 'needs action');
    await admin.goto(`${base}/ui/requests/${pendingId}`);
    assert(await admin.$('#extend-reason') === null && await admin.$('#hold-reason') === null, 'no extend or hold');
    const reasons = await admin.$$eval('#deny-reason option', (os) => os.map((o) => o.value).filter(Boolean));
    assert(reasons.join() === 'identity_not_verified', `deny reasons: ${reasons}`);
    assert(await admin.$('#verify-note'), 'verify by hand offered');
    const csrf = await admin.inputValue('form.who input[name=csrf]');
    admin.expected = [409];
    const r = await post(admin, `${base}/ui/requests/${pendingId}/actions`, { csrf, action: 'extend', reason: 'busy', confirm: 'yes' });
    assert(r.status() === 409 && (await r.text()).includes('before the requester is verified'), `forged extend: ${r.status()}`);
    const r2 = await post(admin, `${base}/ui/requests/${pendingId}/actions`, { csrf, action: 'hold', reason: 'x' });
    assert(r2.status() === 409, `forged hold: ${r2.status()}`);
    admin.expected = [];
    await admin.goto(`${base}/ui/requests/${pendingId}`);
    await Promise.all([admin.waitForURL(/done=assign$/), admin.click('#assign-me')]);
    assert(await admin.textContent('#assigned-to') === 'E2E admin', `assigned to ${await admin.textContent('#assigned-to')}`);
    assert((await admin.textContent('.timeline')).includes('E2E admin assigned the request to E2E admin'), 'assignment in words');
    await pageOk(admin, 'assigned');
    await admin.goto(`${base}/ui/?assignee=me&pending=1`);
    assert(await admin.locator(`a[href="/ui/requests/${pendingId}"]`).count() === 1, 'in "assigned to me"');
    await admin.goto(`${base}/ui/requests/${pendingId}`);
    await admin.selectOption('#deny-reason', 'identity_not_verified');
    await Promise.all([admin.waitForSelector('#confirm-box'), admin.click('#deny')]);
    await Promise.all([admin.waitForURL(/done=deny$/), admin.click('#confirm-yes')]);
    assert(await admin.textContent('#request-status') === 'denied', 'denied as unverifiable');
  });

  await check('ui: internal notes are added as plain text, shown to staff, recorded in the timeline', async () => {
    await admin.goto(`${base}/ui/requests/${erasureId}`);
    const text = 'Called back on the number given.\n<b>*not* markdown</b>';
    await admin.fill('#note-text', text);
    await Promise.all([admin.waitForURL(/done=note$/), admin.click('#note-add')]);
    const shown = await admin.textContent('.note-text');
    assert(shown === text, `note shown as typed: ${JSON.stringify(shown)}`);
    assert(await admin.$('.note-text b') === null, 'no markup rendered');
    assert((await admin.textContent('.timeline')).includes('E2E admin added an internal note'), 'in the timeline');
    const stored = spawnSync('/usr/lib/postgresql/15/bin/psql', [`host=${state}/pg/run port=5432 user=dsrd dbname=dsrd`, '-Atc',
      "SELECT count(*), count(*) FILTER (WHERE position(convert_to('Called back', 'UTF8') in body_sealed) > 0) FROM dsr_request_notes"],
    { encoding: 'utf8' });
    assert(stored.status === 0 && stored.stdout.trim() === '1|0', `sealed at rest: ${stored.stdout}${stored.stderr}`);
    await pageOk(admin, 'notes');
    const aud = await browserContext();
    await login(aud, 'approver');
    await aud.goto(`${base}/ui/requests/${erasureId}`);
    assert((await aud.textContent('#notes')).includes('Called back'), 'other staff see the note');
  });

  await check('ui: staff withdraw a request for the requester (they phoned in), after a confirmation; the reason is an internal note', async () => {
    const id = await fileUnverified(subjectPage, 'phoned.in@example.net');
    await admin.goto(`${base}/ui/requests/${id}`);
    assert(await admin.$('#withdraw'), 'withdraw offered before verification (the default policy)');
    await admin.fill('#withdraw-reason', 'Phoned in, asked to stop');
    await Promise.all([admin.waitForSelector('#confirm-box'), admin.click('#withdraw')]);
    assert((await admin.textContent('#confirm-box')).includes('closed as withdrawn'), 'the confirmation says what happens');
    assert(await admin.textContent('#request-status') !== 'withdrawn', 'nothing done before confirming');
    await pageOk(admin, 'withdraw confirmation');
    await Promise.all([admin.waitForURL(/done=withdraw$/), admin.click('#confirm-yes')]);
    assert(await admin.textContent('#request-status') === 'withdrawn', 'withdrawn');
    assert((await admin.textContent('.timeline')).includes("E2E admin withdrew the request on the requester's behalf"), 'in words, with who');
    assert((await admin.textContent('#notes')).includes('Phoned in, asked to stop'), 'the reason is an internal note');
    assert(await admin.$('#withdraw') === null, 'no second withdrawal');
    await pageOk(admin, 'withdrawn');
    await shot(admin, 'withdrawn');
  });

  await check('ui: a form sent after the session ended leads to sign-in and can be sent again; a page comes back after sign-in', async () => {
    const p = await browserContext();
    await login(p, 'approver');
    await p.goto(`${base}/ui/requests/${erasureId}`);
    const text = 'Written while the session ran out';
    await p.fill('#note-text', text);
    /* The session ends elsewhere (idle timeout, sign-out in another tab); this browser keeps its cookie. */
    const cookie = (await p.context().cookies()).find((k) => k.name === 'dsr_ui').value;
    const csrf = await p.inputValue('form.who input[name=csrf]');
    const out = await fetch(`${base}/ui/logout`, { method: 'POST', redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `dsr_ui=${cookie}` }, body: `csrf=${csrf}` });
    assert(out.status === 303, `signed out elsewhere: ${out.status}`);
    p.expected = [401];
    await Promise.all([p.waitForSelector('#password'), p.click('#note-add')]);
    assert((await p.textContent('.error')).includes('session has ended'), 'says why');
    await pageOk(p, 'session ended');
    await shot(p, 'session-ended');
    p.expected = [];
    await p.fill('#email', users.approver.email);
    await p.fill('#password', users.approver.password);
    await Promise.all([p.waitForSelector('#resume-form'), p.click('button[type=submit]')]);
    assert((await p.textContent('#resume-form')).includes(text), 'the form is kept');
    await pageOk(p, 'send again');
    await Promise.all([p.waitForURL(/done=note$/), p.click('#resume-send')]);
    assert((await p.textContent('#notes')).includes(text), 'sent with the new session');
    /* A page asked for without a session: sign-in, then that page. */
    const q = await browserContext();
    await q.goto(`${base}/ui/requests/${erasureId}`);
    assert(q.url().startsWith(`${base}/ui/login?next=`), `at ${q.url()}`);
    await q.fill('#email', users.approver.email);
    await q.fill('#password', users.approver.password);
    await Promise.all([q.waitForURL(`${base}/ui/requests/${erasureId}`), q.click('button[type=submit]')]);
    await q.goto(`${base}/ui/customers`);
    assert(!(await q.$('#password')), 'signed in');
  });

  await check('ui: bulk assign and deny on ticked requests, each confirmed and recorded per request; CSV export of the view', async () => {
    const ids = [];
    for (const who of ['bulk.a@example.net', 'bulk.b@example.net']) {
      await subjectPage.goto(`${base}/requests/new`);
      await subjectPage.check('#type-erasure');
      await subjectPage.selectOption('#jurisdiction', 'gdpr');
      await subjectPage.fill('#email', who);
      await Promise.all([subjectPage.waitForURL(/\/verify$/), subjectPage.click('button[type=submit]')]);
      ids.push(subjectPage.url().match(/requests\/([0-9a-f-]{36})\/verify/)[1]);
    }
    const tick = async () => {
      await admin.goto(`${base}/ui/?status=pending_verification`);
      for (const id of ids) await admin.check(`input[type=checkbox][value="${id}"]`);
    };
    await tick();
    await pageOk(admin, 'queue with bulk form');
    await shot(admin, 'queue');
    await admin.selectOption('#b-action', 'assign');
    const me = await admin.$eval('#b-assignee option:text-matches("\\(me\\)")', (o) => o.value);
    await admin.selectOption('#b-assignee', me);
    await Promise.all([admin.waitForSelector('#confirm-box'), admin.click('#bulk-apply')]);
    assert((await admin.textContent('#confirm-box')).includes('2 request(s)'), 'confirmation names the count');
    await pageOk(admin, 'bulk confirmation');
    await Promise.all([admin.waitForSelector('#bulk-summary'), admin.click('#confirm-yes')]);
    assert((await admin.textContent('#bulk-summary')).includes('2 of 2'), await admin.textContent('#bulk-summary'));
    await tick();
    await admin.selectOption('#b-action', 'deny');
    await admin.selectOption('#b-reason', 'identity_not_verified');
    await Promise.all([admin.waitForSelector('#confirm-box'), admin.click('#bulk-apply')]);
    assert((await admin.textContent('#confirm-box')).includes('identity_not_verified'), 'the one reason is shown');
    await Promise.all([admin.waitForSelector('#bulk-summary'), admin.click('#confirm-yes')]);
    assert((await admin.textContent('#bulk-summary')).includes('2 of 2'), await admin.textContent('#bulk-summary'));
    await pageOk(admin, 'bulk results');
    for (const id of ids) {
      await admin.goto(`${base}/ui/requests/${id}`);
      assert(await admin.textContent('#request-status') === 'denied', `${id} denied`);
      const tl = await admin.textContent('.timeline');
      assert(tl.includes('E2E admin denied the request (identity_not_verified)') && tl.includes('E2E admin assigned the request to E2E admin'), `timeline of ${id}`);
    }
    await admin.goto(`${base}/ui/?type=erasure&sort=due`);
    const href = await admin.getAttribute('#csv-link', 'href');
    assert(href.startsWith('/ui/queue.csv?') && href.includes('type=erasure') && href.includes('sort=due'), `csv link ${href}`);
    const csv = await admin.request.get(`${base}${href}`);
    assert(csv.status() === 200 && csv.headers()['content-type'].startsWith('text/csv'), `csv: ${csv.status()}`);
    const text = await csv.text();
    assert(text.startsWith('request_id,subject,type,'), 'CSV header');
    assert(text.includes(erasureId) && !text.includes(subject), 'the view, subjects masked');
    assert(text.trim().split('\r\n').slice(1).every((l) => l.split(',')[2] === 'erasure'), 'only the filtered rows');
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

  await check('ui: admins add, edit, disable, enable customers, see deliveries and send failed messages again; all audited', async () => {
    await admin.goto(`${base}/ui/customers`);
    await admin.fill('#c-name', 'Beta Voice');
    await admin.fill('#c-tenant', '2');
    await admin.fill('#c-url', 'http://127.0.0.1:9/beta-hook');
    await Promise.all([admin.waitForSelector('#shown-once'), admin.click('#c-add')]);
    const key = await admin.textContent('#new-key'), secret = await admin.textContent('#new-secret');
    assert(/^dsrk_/.test(key) && /^whsec_/.test(secret), 'key and secret shown once');
    await pageOk(admin, 'customer added');
    await admin.goto(`${base}/ui/customers`);
    const listed = await admin.content();
    assert(listed.includes('Beta Voice') && !listed.includes(key) && !listed.includes(secret), 'listed, secrets not again');
    assert((await admin.textContent('#customers')).includes('open'), 'open parts column');
    /* the new key works on the customer API */
    const r = await fetch(`${base}/v1/customer/requests`, { headers: { Authorization: `Bearer ${key}` } });
    assert(r.status === 200, `customer API with the new key: ${r.status}`);
    await Promise.all([admin.waitForURL(/\/ui\/customers\/[0-9a-f-]{36}$/), admin.click('#customers a:text("Beta Voice")')]);
    const custUrl = admin.url();
    await pageOk(admin, 'customer page');
    await admin.fill('#c-url', 'http://127.0.0.1:9/beta-hook-2');
    await Promise.all([admin.waitForURL(/done=endpoint$/), admin.click('#c-save-url')]);
    assert(await admin.textContent('#c-endpoint') === 'http://127.0.0.1:9/beta-hook-2', 'endpoint changed');
    await Promise.all([admin.waitForURL(/done=disabled$/), admin.click('#c-disable')]);
    assert(await admin.textContent('#c-status') === 'disabled', 'disabled');
    await Promise.all([admin.waitForURL(/done=enabled$/), admin.click('#c-enable')]);
    assert(await admin.textContent('#c-status') === 'enabled', 'enabled again');
    await Promise.all([admin.waitForLoadState('load'), admin.click('#c-rotate-key')]);
    assert(/^dsrk_/.test(await admin.textContent('#new-key')), 'a new API key, once');
    const old = await fetch(`${base}/v1/customer/requests`, { headers: { Authorization: `Bearer ${key}` } });
    assert(old.status === 401, `the old key stops: ${old.status}`);
    /* Acme Calls: its messages, one made "failed" as after a 410 or used-up retries, sent again */
    await admin.goto(`${base}/ui/customers`);
    await Promise.all([admin.waitForURL(/\/ui\/customers\/[0-9a-f-]{36}$/), admin.click('#customers a:text("Acme Calls")')]);
    const acme = admin.url().split('/').pop();
    assert(await admin.locator('#deliveries tbody tr').count() > 0, 'delivery history');
    const psql = spawnSync('/usr/lib/postgresql/15/bin/psql', [`host=${state}/pg/run port=5432 user=dsrd dbname=dsrd`,
      '-Atc', `UPDATE dsr_webhook_outbox SET state = 'failed' WHERE customer_id = '${acme}' RETURNING id`], { encoding: 'utf8' });
    assert(psql.status === 0 && psql.stdout.trim(), `psql: ${psql.stderr}`);
    await admin.goto(`${base}/ui/customers/${acme}?state=failed`);
    const failedRows = await admin.locator('#deliveries tbody tr').count();
    assert(failedRows > 0 && (await admin.$$eval('#deliveries td.d-state', (t) => t.every((x) => x.textContent === 'failed'))), 'filtered by state');
    await pageOk(admin, 'deliveries filtered');
    await shot(admin, 'customer');
    await Promise.all([admin.waitForURL(/done=replayed$/), admin.click('#replay-all')]);
    await admin.goto(`${base}/ui/customers/${acme}?state=failed`);
    assert(await admin.locator('#deliveries tbody tr').count() === 0, 'none failed after sending again');
    await admin.goto(custUrl);
    /* audited: the audit API lists the customer events with the staff user as actor */
    const want = ['customer.added', 'customer.endpoint_changed', 'customer.disabled', 'customer.enabled', 'customer.key_rotated', 'customer.messages_replayed'];
    await until('the customer events in the audit trail', async () => {
      let text = '';
      for (let after = 0, i = 0; i < 50; i++) {
        const page = await (await admin.request.get(`${base}/v1/admin/audit?limit=1000&after=${after}`)).json();
        text += JSON.stringify(page.entries);
        if (!page.next_after || page.entries.length === 0) break;
        after = page.next_after;
      }
      return want.every((k) => text.includes(k));
    }, 30000);
  });

  await check('ui: admins invite staff (one-time link), change roles, end sessions, reset and disable accounts', async () => {
    await admin.goto(`${base}/ui/staff`);
    await pageOk(admin, 'staff');
    await admin.fill('#i-email', 'nia@example.org');
    await admin.fill('#i-name', 'E2E Nia');
    await admin.selectOption('#i-role', 'triager');
    await Promise.all([admin.waitForSelector('#shown-once'), admin.click('#i-send')]);
    const link = await admin.textContent('#password-link');
    assert(link.includes('/ui/password/'), `link ${link}`);
    await admin.goto(`${base}/ui/staff`);
    assert(!(await admin.content()).includes(link.split('/').pop()), 'the link is not shown again');
    const nia = await browserContext();
    await nia.goto(link);
    await pageOk(nia, 'set password');
    const pwd = pw();
    await nia.fill('#pw1', pwd);
    await nia.fill('#pw2', pwd);
    await Promise.all([nia.waitForURL(`${base}/ui/login`), nia.click('#pw-set')]);
    nia.expected = [410];
    await nia.goto(link);
    assert(await nia.$('#pw1') === null, 'the link works once');
    nia.expected = [];
    await nia.goto(`${base}/ui/login`);
    await nia.fill('#email', 'nia@example.org');
    await nia.fill('#password', pwd);
    await Promise.all([nia.waitForURL(`${base}/ui/`), nia.click('button[type=submit]')]);
    assert(!(await nia.$('nav a[href="/ui/staff"]')), 'no Staff page for a triager');
    assert((await nia.request.get(`${base}/ui/staff`, { maxRedirects: 0 })).status() === 403, 'staff page refused');
    /* the admin sees the session, changes the role, ends the session */
    await admin.goto(`${base}/ui/staff`);
    const row = admin.locator('#staff tr[data-email="nia@example.org"]');
    assert(await row.locator('form[action$="/sessions"]').count() === 1, 'one session listed');
    await row.locator('select[name=role]').selectOption('approver');
    await Promise.all([admin.waitForURL(/done=role$/), row.locator('form[action$="/role"] button').click()]);
    assert(await admin.locator('#staff tr[data-email="nia@example.org"] select[name=role]').inputValue() === 'approver', 'role changed');
    await Promise.all([admin.waitForURL(/done=sessions$/), admin.locator('#staff tr[data-email="nia@example.org"] form[action$="/sessions"] button').click()]);
    await nia.goto(`${base}/ui/customers`);
    assert(nia.url().startsWith(`${base}/ui/login`), `session ended: at ${nia.url()}`);
    /* reset: a new link, the old password stops */
    await Promise.all([admin.waitForSelector('#shown-once'), admin.locator('#staff tr[data-email="nia@example.org"] form[action$="/reset"] button').click()]);
    assert((await admin.textContent('#shown-once')).includes('reset'), 'reset link shown');
    nia.expected = [401];
    await nia.goto(`${base}/ui/login`);
    await nia.fill('#email', 'nia@example.org');
    await nia.fill('#password', pwd);
    await nia.click('button[type=submit]');
    await nia.waitForSelector('.error');
    nia.expected = [];
    /* disable; and an admin cannot disable themselves */
    await admin.goto(`${base}/ui/staff`);
    await Promise.all([admin.waitForURL(/done=disabled$/), admin.locator('#staff tr[data-email="nia@example.org"] form[action$="/status"] button').click()]);
    assert((await admin.textContent('#staff tr[data-email="nia@example.org"]')).includes('disabled'), 'disabled');
    admin.expected = [409];
    await admin.locator(`#staff tr[data-email="${users.admin.email}"] form[action$="/status"] button`).click();
    await admin.waitForSelector('.error');
    assert((await admin.textContent('.error')).includes('cannot disable your own'), 'self-disable refused');
    admin.expected = [];
    await pageOk(admin, 'staff after changes');
    await shot(admin, 'staff');
  });

  await check('ui: the compliance report page shows the report for a period', async () => {
    await admin.goto(`${base}/ui/report`);
    await pageOk(admin, 'report form');
    const [resp] = await Promise.all([admin.waitForNavigation(), admin.click('form.filters button')]);
    assert(resp.status() === 200, `status ${resp.status()}`);
    assert((await admin.content()).toLowerCase().includes('compliance'), 'report');
    reportView = new URL(admin.url()).pathname + new URL(admin.url()).search;
    assert(reportView.startsWith('/ui/report/view'), `report at ${reportView}`);
  });

  await check('ui: no page scrolls sideways at 390 px or 1280 px (tables scroll in their box)', async () => {
    const pagesToMeasure = [['queue', '/ui/'], ['request', `/ui/requests/${erasureId}`],
      ['denied', `/ui/requests/${otherId}`], ['plan', `/ui/requests/${erasureId}/plan`],
      ['customers', '/ui/customers'], ['staff', '/ui/staff'], ['report', '/ui/report'],
      ['report-view', reportView], ['inbox', '/ui/inbox']];
    const wide = [];
    for (const width of [390, 1280]) {
      await admin.setViewportSize({ width, height: 844 });
      for (const [name, url] of pagesToMeasure) {
        await admin.goto(`${base}${url}`);
        const w = await admin.evaluate(() => document.documentElement.scrollWidth);
        if (w > width) wide.push(`${name}@${width}: ${w}px`);
        if (width === 390 && name !== 'inbox') await shot(admin, `${name}-390`, false);
      }
    }
    await admin.setViewportSize({ width: 1280, height: 900 });
    assert(wide.length === 0, `wider than the viewport: ${wide.join(', ')}`);
  });

  await check('ui: axe-core finds no WCAG 2.1 A or AA violation on any staff page', async () => {
    const listing = await (await admin.request.get(`${base}/ui/customers`)).text();
    const acme = (listing.match(/href="\/ui\/customers\/([0-9a-f-]{36})"/) || [])[1];
    assert(acme, 'a customer page to scan');
    const urls = ['/ui/', '/ui/?pending=1&sort=due', `/ui/requests/${erasureId}`, `/ui/requests/${otherId}`,
      `/ui/requests/${erasureId}/plan`, '/ui/customers', `/ui/customers/${acme}`, '/ui/staff', '/ui/report',
      reportView, '/ui/inbox'];
    const bad = [];
    for (const width of [1280, 390]) {
      await admin.setViewportSize({ width, height: 844 });
      for (const u of urls) {
        await admin.goto(`${base}${u}`);
        for (const v of await axeViolations(admin)) bad.push(`${u}@${width}: ${v}`);
      }
    }
    await admin.setViewportSize({ width: 1280, height: 900 });
    await admin.goto(`${base}/ui/requests/${erasureId}`);
    const anon = await browserContext();
    await anon.goto(`${base}/ui/login`);
    for (const v of await axeViolations(anon)) bad.push(`/ui/login: ${v}`);
    assert(bad.length === 0, bad.join(' | '));
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
    drpId = st.request_id;
    await admin.goto(`${base}/ui/requests/${st.request_id}`);
    const who = await admin.textContent('#request-agent');
    assert(who.includes('E2E_AGENT') && who.includes('E2E Rights App') && who.includes('e2e-1'),
      `agent line: ${who}`);
    assert((await admin.textContent('#request-callbacks')).includes('attempt'), 'callbacks listed');
    await pageOk(admin, 'agent request');
    await shot(admin, 'agent-request');
  });

  await check('ui: the queue filters by agent and by customer, and the URL keeps them', async () => {
    const listed = async (id) => admin.locator(`a[href="/ui/requests/${id}"]`).count();
    await admin.goto(`${base}/ui/`);
    await admin.selectOption('#f-agent', 'E2E_AGENT');
    await Promise.all([admin.waitForURL(/agent=E2E_AGENT/), admin.click('form.filters button')]);
    /* the agent's request still waits for verification: one click shows it, the filter stays */
    await Promise.all([admin.waitForURL(/agent=E2E_AGENT&pending=1/), admin.click('#show-pending')]);
    assert(await listed(drpId) === 1, 'the request the agent filed is listed');
    assert(await listed(erasureId) === 0, 'a request from the public form is not');
    assert((await admin.getAttribute('#csv-link', 'href')).includes('agent=E2E_AGENT'), 'the CSV keeps the filter');
    assert(await admin.inputValue('#f-agent') === 'E2E_AGENT', 'the form shows the filter');
    await pageOk(admin, 'queue by agent');
    await shot(admin, 'queue-agent');
    await admin.setViewportSize({ width: 390, height: 844 });
    await pageOk(admin, 'queue by agent at 390 px');
    await shot(admin, 'queue-agent-390');
    await admin.setViewportSize({ width: 1280, height: 900 });
    await admin.goto(`${base}/ui/?agent=any&pending=1&sort=oldest`);
    assert(await listed(drpId) === 1, 'any authorized agent');
    const ui = (await admin.context().cookies()).find((k) => k.name === 'dsr_ui').value;
    const bad = await fetch(`${base}/ui/?agent=NOBODY`, { headers: { Cookie: `dsr_ui=${ui}` } });
    assert(bad.status === 400, `an agent not in the directory: ${bad.status}`);
    await admin.goto(`${base}/ui/`);
    await admin.selectOption('#f-customer', { label: 'Acme Calls' });
    await Promise.all([admin.waitForURL(/customer=/), admin.click('form.filters button')]);
    assert(await listed(erasureId) === 1, 'the request with a part forwarded to Acme Calls');
    assert(await listed(drpId) === 0, 'the agent\'s request has no part at Acme Calls');
  });

  await check('ui: a queue of 500 requests: a subject found by email in one step, a whole page ticked by one link and assigned in one confirmed action', async () => {
    const n = 500;
    let t = Date.now();
    for (let i = 0; i < n; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, k) => fetch(`${base}/v1/requests`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'erasure', jurisdiction: 'gdpr', subject: { email: `queue${i + k}@example.org` } }),
      }).then((r) => assert(r.status === 202, `request ${i + k}: ${r.status}`))));
    }
    const filedMs = Date.now() - t;
    t = Date.now();
    await admin.goto(`${base}/ui/?q=${encodeURIComponent('Queue377@Example.org')}&pending=1`);
    const searchMs = Date.now() - t;
    const found = await admin.$$eval('table.queue tbody tr', (rows) => rows.length);
    assert(found === 1, `the search by email shows ${found} rows`);
    t = Date.now();
    await admin.goto(`${base}/ui/?status=pending_verification&pending=1`);
    const queueMs = Date.now() - t;
    await Promise.all([admin.waitForURL(/tick=all/), admin.click('#tick-all')]);
    const ticked = await admin.$$eval('input[type=checkbox][name^=id]:checked', (l) => l.length);
    assert(ticked === 25, `${ticked} requests ticked by the link`);
    await pageOk(admin, 'queue, every request of the page ticked');
    await shot(admin, 'queue-ticked', false);
    await admin.selectOption('#b-action', 'assign');
    const me = await admin.$eval('#b-assignee option:text-matches("\\(me\\)")', (o) => o.value);
    await admin.selectOption('#b-assignee', me);
    await Promise.all([admin.waitForSelector('#confirm-box'), admin.click('#bulk-apply')]);
    assert((await admin.textContent('#confirm-box')).includes('25 request(s)'), 'confirmation names the count');
    t = Date.now();
    await Promise.all([admin.waitForSelector('#bulk-summary'), admin.click('#confirm-yes')]);
    const bulkMs = Date.now() - t;
    assert((await admin.textContent('#bulk-summary')).includes('25 of 25'), await admin.textContent('#bulk-summary'));
    console.log(`ui: ${n} requests filed in ${filedMs} ms; search by email ${searchMs} ms; queue page ${queueMs} ms; bulk assign of a page ${bulkMs} ms`);
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
  await teardown({ contexts, profiles, dsrd, state });
}
process.exit(summary());
