// End-to-end checks of the data subject's whole experience in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core): an access request with only an email,
// answered from the email alone and saying so (the package's summary rendered at 1280 and
// 390 px); an access request that needs two confirmations (email and SMS), approved by staff, answered with a download page that a
// link scanner cannot use up, opened on another device; the status page offering the
// download. Builds a small sample platform on a fresh state directory and runs dsrd on it
// with the CallOrbit policy; mail and SMS land in STATE/maildir. Screenshots go to OUT_DIR
// at 1280 and 390 px; prints "e2e: N passed, M failed".
//
// Usage: DSRD=path/to/dsrd DSRCTL=path/to/dsrctl OUT_DIR=build node tests/e2e/subject.mjs
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assert, axeViolations, check, freePort, openBrowser, readMail, results, summary, teardown, until } from './lib.mjs';

const dsrdBin = process.env.DSRD || 'build/default/dsrd';
const dsrctlBin = process.env.DSRCTL || path.join(path.dirname(dsrdBin), 'dsrctl');
const outDir = process.env.OUT_DIR || 'build';
const top = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
fs.mkdirSync(outDir, { recursive: true });

const state = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-e2e-subject-'));
fs.chmodSync(state, 0o755); // the embedded cluster's user must be able to enter it
const env = {
  ...process.env,
  DSR_PLATFORM_DSN: `host=${state}/pg/run port=5432 user=dsrd dbname=platform`,
  DSR_MEDIA_ROOT: `${state}/media`,
  DSR_MEDIA_BACKUP_ROOT: `${state}/backups`,
};
const email = 'sam.subject@example.org';
const phone = '+15550100777';

function dsrctl(args) {
  const r = spawnSync(dsrctlBin, [`--state-dir=${state}`, ...args],
    { env, input: '', encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`dsrctl ${args[0]} ${args[1] || ''}: ${r.stderr}`);
  return r.stdout;
}

let dsrd;
const contexts = [];
const profiles = [];
const port = await freePort();
const base = `http://127.0.0.1:${port}`;

// A browser of its own (a fresh profile: another device, no cookies of the others).
const device = (width = 1280) => openBrowser(contexts, profiles, width);

// Screenshots of the page now shown at 1280 and 390 px wide (for people), and an axe-core scan
// of it at each width (WCAG 2 A/AA; the last check sums up).
const a11y = [];
async function shots(page, name) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    a11y.push(...(await axeViolations(page, `${name}@${width}`)).map((v) => `${name}@${width}: ${v}`));
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(outDir, `e2e-subject-${name}-${width}.png`), fullPage: true, timeout: 60000 })
      .catch((e) => console.log(`note: screenshot ${name} failed: ${e.message.split('\n')[0]}`));
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

function clean(page, where) {
  assert(page.errors.length === 0, `${where}: console: ${page.errors.join(' | ')}`);
}

async function api(method, p, token, body) {
  const r = await fetch(`${base}${p}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: await r.json().catch(() => null) };
}

// Sends the form already filled in on `page` and confirms the request with the email code sent
// to `who`; returns the request's id.
async function sendAndConfirm(page, who) {
  await Promise.all([page.waitForURL(/\/verify$/), page.click('button[type=submit]')]);
  const id = page.url().match(/requests\/([0-9a-f-]{36})\/verify/)[1];
  const mail = await until('the code mail', () => readMail(state, who, 'code'), 30000);
  await page.fill('#code', mail.match(/^ {4}(\d{6})$/m)[1]);
  await Promise.all([page.waitForURL(/\/status$/), page.click('form[action$="/verify"] button[type=submit]')]);
  return id;
}

// The staff's view of request `id` once discovery has split it into parts.
async function discovered(id, token) {
  let last = null;
  return until('discovery', async () => {
    const r = await api('GET', `/v1/admin/requests/${id}`, token);
    last = r.json;
    return r.status === 200 && (r.json.parts || []).length > 0 && r.json;
  }, 90000).catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(last).slice(0, 600)}`); });
}

try {
  dsrctl(['sample', 'generate', '--subjects', '20', '--seed', '1', '--media', `${state}/media`,
    '--backup-sets', '1', '--backup-dir', `${state}/backups`, '--subject-email', email,
    '--subject-phone', phone]);
  const staffToken = (dsrctl(['staff', 'token', 'create', '--role', 'admin', '--name', 'e2e'])
    .match(/^token: (\S+)$/m) || [])[1];
  assert(staffToken, 'dsrctl staff token create printed a token');
  dsrd = spawn(dsrdBin, [`--state-dir=${state}`, `--port=${port}`, '--log-level=warn',
    `--policy-file=${path.join(top, 'policies/callorbit.json')}`],
  { env, stdio: ['ignore', 'ignore', fs.openSync(path.join(state, 'dsrd.log'), 'a')] });
  await until('dsrd', async () => {
    try { return (await fetch(`${base}/healthz`)).ok; } catch { return false; }
  }, 120000);

  const laptop = await device();
  let requestId;
  let downloadLink;

  await check('subject: access with only an email is answered from the email alone, and says so', async () => {
    await laptop.goto(`${base}/requests/new`);
    const accessLabel = await laptop.textContent('label[for=type-access]');
    assert(accessLabel.includes('If you give us only an email address or only a phone number, we answer with the data we find with the one you confirm'),
      `the form tells of the partial answer: ${accessLabel}`);
    await laptop.check('#type-access');
    await laptop.selectOption('#jurisdiction', 'gdpr');
    await laptop.fill('#email', email);
    await Promise.all([laptop.waitForURL(/\/verify$/), laptop.click('button[type=submit]')]);
    const id = laptop.url().match(/requests\/([0-9a-f-]{36})\/verify/)[1];
    const steps = await laptop.textContent('ul.steps');
    assert(steps.includes('Still needed: the code sent by email') && !steps.includes('SMS'),
      `the email code is all that is asked: ${steps}`);
    const code = await until('the code mail', () => readMail(state, email, 'code'), 30000);
    await laptop.fill('#code', code.match(/^ {4}(\d{6})$/m)[1]);
    await Promise.all([laptop.waitForURL(/\/status$/), laptop.click('form[action$="/verify"] button[type=submit]')]);
    const confirmed = await laptop.textContent('main');
    assert(!confirmed.includes('Waiting'), `confirmed by the email alone: ${confirmed}`);
    assert(confirmed.includes('Our answer covers only the data we found with what you confirmed: your email address.') &&
      confirmed.includes('make a new request and confirm your mobile phone number as well'), `status page: ${confirmed}`);
    await discovered(id, staffToken);
    const a = await api('POST', `/v1/admin/requests/${id}/actions`, staffToken, { action: 'approve' });
    assert(a.status === 200, `approve: ${a.status} ${JSON.stringify(a.json)}`);
    await until('the export mail', () => readMail(state, email, '/downloads/'), 120000);
    const closing = await until('the closing mail', () => readMail(state, email, 'This answer covers only'), 120000);
    assert(/what you confirmed:\nyour email address\./.test(closing), `closing mail: ${closing}`);
    for (let m = readMail(state, email, null); m; m = readMail(state, email, null)); // nothing left for the next steps
    await laptop.reload();
    const text = await laptop.textContent('main');
    assert(text.includes('Downloads left') && text.includes('Our answer covers only the data'), `completed: ${text}`);
    await shots(laptop, 'status-partial');
    const [download] = await Promise.all([
      laptop.waitForEvent('download'),
      laptop.click('section.download button[type=submit]'),
    ]);
    const zip = path.join(state, 'partial.zip');
    fs.copyFileSync(await download.path(), zip);
    const html = spawnSync('unzip', ['-p', zip, 'summary.html'], { encoding: 'utf8' }).stdout;
    assert(html.includes('This answer covers only the data we found with what you confirmed: your email address.'),
      'the package says the answer is partial');
    assert(html.includes('<ol class="records">') && !/<dd>\{/.test(html), 'the records themselves, arrays as lists');
    assert(!/\d{4}-\d\d-\d\d[ T]\d\d:\d\d/.test(html), 'no raw timestamps');
    const file = path.resolve(outDir, 'e2e-subject-package-summary.html'); // kept for people to read
    fs.writeFileSync(file, html);
    await laptop.goto(`file://${file}`);
    await shots(laptop, 'package-summary');
    await laptop.setViewportSize({ width: 390, height: 900 });
    const overflow = await laptop.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 0, `summary.html fits 390 px (overflows by ${overflow} px)`);
    await laptop.setViewportSize({ width: 1280, height: 900 });
    clean(laptop, 'partial access');
  });

  await check('subject: access with email and phone, both confirmed, reaches the staff', async () => {
    await laptop.goto(`${base}/requests/new`);
    // before sending: the form says what each kind of request will ask for
    const accessLabel = await laptop.textContent('label[for=type-access]');
    assert(accessLabel.includes('We will ask you for a code we email you and a code we text to your phone'),
      `access asks: ${accessLabel}`);
    assert((await laptop.textContent('label[for=type-erasure]')).includes('a code we email you, or a code we text'),
      'erasure asks for one of them');
    // the phone is optional (access without it is answered from the email alone, as the form says)
    assert((await laptop.textContent('label[for=phone]')).includes('optional'), 'the phone is optional');
    await shots(laptop, 'form');
    await laptop.check('#type-access');
    await laptop.selectOption('#jurisdiction', 'gdpr');
    await laptop.fill('#email', email);
    await laptop.fill('#phone', phone);
    await Promise.all([laptop.waitForURL(/\/verify$/), laptop.click('button[type=submit]')]);
    requestId = laptop.url().match(/requests\/([0-9a-f-]{36})\/verify/)[1];
    const mail = await until('the code mail', () => readMail(state, email, null), 30000);
    const sms = await until('the code SMS', () => readMail(state, phone, null), 30000);
    const steps0 = await laptop.textContent('ul.steps');
    assert(steps0.includes('Still needed: the code sent by email') && steps0.includes('Still needed: the code sent by SMS'), `steps: ${steps0}`);
    await laptop.fill('#code', mail.match(/^ {4}(\d{6})$/m)[1]);
    await Promise.all([laptop.waitForURL(/\/verify$/), laptop.click('form[action$="/verify"] button[type=submit]')]);
    // one of two: the page says what is done and what remains, and offers the SMS code
    const steps = await laptop.textContent('ul.steps');
    assert(steps.includes('Done: the code sent by email') && steps.includes('Still needed: the code sent by SMS'), `steps: ${steps}`);
    assert(await laptop.isChecked('#channel-sms'), 'the SMS channel is chosen');
    await shots(laptop, 'verify-one-of-two');
    await laptop.fill('#code', sms.match(/(\d{6})/)[1]);
    await Promise.all([laptop.waitForURL(/\/status$/), laptop.click('form[action$="/verify"] button[type=submit]')]);
    assert(!(await laptop.textContent('dl.status')).includes('Waiting'), 'confirmed after both codes');
    clean(laptop, 'verify');
  });

  await check('subject: once approved, the mail names the organisation and links a download page', async () => {
    await discovered(requestId, staffToken);
    const a = await api('POST', `/v1/admin/requests/${requestId}/actions`, staffToken, { action: 'approve' });
    assert(a.status === 200, `approve: ${a.status} ${JSON.stringify(a.json)}`);
    const mail = await until('the export mail', () => readMail(state, email, '/downloads/'), 120000);
    assert(mail.subject.startsWith('CallOrbit: '), `subject "${mail.subject}"`);
    assert(mail.includes('you asked CallOrbit for'), 'body names the organisation');
    assert(/\nCallOrbit <privacy@callorbit\.tech>/.test(mail), 'signature');
    assert(!/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/.test(mail), 'no raw timestamp in the mail');
    downloadLink = mail.match(/http:\/\/\S+\/downloads\/[0-9a-f-]{36}\?token=[A-Za-z0-9_-]+/)[0]
      .replace(/^http:\/\/[^/]+/, base);
  });

  await check('subject: opening the download link (as a scanner does) uses up nothing; the button downloads', async () => {
    const phoneBrowser = await device(390);
    for (let i = 0; i < 3; i++) { // a mail scanner, a preview, the subject
      const r = await fetch(downloadLink);
      assert(r.status === 200 && (r.headers.get('content-type') || '').startsWith('text/html'), `GET ${r.status}`);
    }
    await phoneBrowser.goto(downloadLink);
    const dl = await phoneBrowser.textContent('dl.status');
    assert(/Downloads left\s*5 of 5/.test(dl), `downloads left: ${dl}`);
    await shots(phoneBrowser, 'download-page');
    const [download] = await Promise.all([
      phoneBrowser.waitForEvent('download'),
      phoneBrowser.click('button[type=submit]'),
    ]);
    const file = await download.path();
    const head = fs.readFileSync(file).subarray(0, 2).toString('latin1');
    assert(head === 'PK', `a ZIP file (${head})`);
    await phoneBrowser.goto(downloadLink);
    assert(/Downloads left\s*4 of 5/.test(await phoneBrowser.textContent('dl.status')), 'one download counted');
    clean(phoneBrowser, 'download page');
  });

  await check('subject: the status page of the completed access request offers the download', async () => {
    await laptop.goto(`${base}/requests/${requestId}/status`);
    const text = await laptop.textContent('main');
    assert(text.includes('Downloads left: 4 of 5'), `offer: ${text}`);
    await shots(laptop, 'status-download');
    const [download] = await Promise.all([
      laptop.waitForEvent('download'),
      laptop.click('section.download button[type=submit]'),
    ]);
    assert(fs.statSync(await download.path()).size > 100, 'package downloaded from the status page');
    clean(laptop, 'status');
  });
  await check('subject: rectification takes field-level corrections; without one it waits for staff', async () => {
    const fileRect = async (withCorrection) => {
      await laptop.goto(`${base}/requests/new`);
      await laptop.check('#type-rectification');
      await laptop.selectOption('#jurisdiction', 'gdpr');
      await laptop.fill('#email', email);
      if (!withCorrection) await laptop.fill('#details', 'My surname is spelled Subjekt, with a k.');
      if (withCorrection) {
        const options = await laptop.$$eval('#correction_field_1 option', (os) => os.map((o) => o.value));
        assert(options.includes('users.full_name'), `rectifiable fields offered: ${options}`);
        await laptop.selectOption('#correction_field_1', 'users.full_name');
        // a value without its field is shown next to the field, with the others kept
        await laptop.fill('#correction_value_2', 'orphan value');
        await laptop.fill('#correction_value_1', 'Sam Q. Subject');
        laptop.expected = [400];
        await laptop.click('button[type=submit]');
        await laptop.waitForSelector('#correction_field_2-error');
        assert(await laptop.getAttribute('#correction_field_2', 'aria-invalid') === 'true', 'aria-invalid on the row');
        assert(await laptop.inputValue('#correction_value_1') === 'Sam Q. Subject', 'values kept');
        await shots(laptop, 'form-rectification-error');
        laptop.expected = [];
        await laptop.fill('#correction_value_2', '');
        await laptop.fill('#email', email);
      }
      return discovered(await sendAndConfirm(laptop, email), staffToken);
    };
    const bare = await fileRect(false);
    assert(bare.parts.every((p) => p.state === 'pending'), `without corrections: waits for staff (${bare.parts.map((p) => p.state)})`);
    assert(bare.status !== 'completed', 'not fulfilled by itself');
    assert(bare.details === 'My surname is spelled Subjekt, with a k.', `staff see the subject's words: ${bare.details}`);
    await laptop.goto(`${base}/requests/${bare.id}/status`); // withdrawn: the next is no duplicate
    await Promise.all([laptop.waitForURL(/\/status$/), laptop.click('button.link')]);
    const withOne = await fileRect(true);
    assert(withOne.status !== 'completed', `with a correction: staff decide it first (${withOne.status})`);
    clean(laptop, 'rectification');
  });

  await check('subject: an erasure ends with a message saying what was erased, what was kept and why', async () => {
    await laptop.goto(`${base}/requests/new`);
    await laptop.check('#type-erasure');
    await laptop.selectOption('#jurisdiction', 'gdpr');
    await laptop.fill('#email', email);
    const id = await sendAndConfirm(laptop, email);
    await discovered(id, staffToken);
    const a = await api('POST', `/v1/admin/requests/${id}/actions`, staffToken, { action: 'approve' });
    assert(a.status === 200, `approve: ${a.status}`);
    const done = await until('the closing mail', () => readMail(state, email, 'What we erased'), 180000);
    assert(done.subject === 'CallOrbit: your privacy request is done', `subject ${done.subject}`);
    assert(/What we kept, and why:\n(  - .+: .+\n)+/.test(done), `kept with reasons: ${done}`);
    assert(/complain to a data protection authority/.test(done), 'how to complain');
    assert(!/CallOrbit §/.test(done), 'no internal policy text');
    const sms = await until('the closing SMS', () => readMail(state, phone, 'is done'), 60000).catch(() => null);
    if (sms) assert(sms.includes('CallOrbit:'), 'SMS names the organisation');
    await laptop.goto(`${base}/requests/${id}/status`);
    const main = await laptop.textContent('main');
    assert(main.includes('What we erased') && main.includes('What we kept, and why'), `status page: ${main}`);
    await shots(laptop, 'status-erasure-done');
    clean(laptop, 'erasure done');
  });
  await check('subject: a request that finds no data ends with the law\'s wording, by mail and on the status page', async () => {
    const nobody = `nobody.${Date.now()}@example.org`;
    const other = await device();
    await other.goto(`${base}/requests/new`);
    await other.check('#type-erasure');
    await other.selectOption('#jurisdiction', 'gdpr');
    await other.fill('#email', nobody);
    await sendAndConfirm(other, nobody);
    const mail = await until('the closing mail', () => readMail(state, nobody, 'we have finished your request'), 90000);
    assert(mail.includes('We searched all systems and hold no personal data about you.'), `no-data wording: ${mail}`);
    assert(/\/requests\/[0-9a-f-]{36}\/status\?k=/.test(mail), 'a status link in the mail');
    await other.reload();
    const main = await other.textContent('main');
    assert(main.includes('Completed') && main.includes('hold no personal data'), `status page: ${main}`);
    assert(!main.includes('We answer by'), 'no deadline on a closed request');
    assert(!/\d{4}-\d\d-\d\dT\d\d/.test(main), 'dates in words');
    assert(!/\b(erasure|gdpr|pending_verification)\b/.test(main), 'no internal codes');
    await shots(other, 'status-no-data');
    clean(other, 'no data');
  });
  await check('subject: axe-core finds no WCAG A/AA violation on any page above', async () => {
    assert(a11y.length === 0, `${a11y.length} violations: ${a11y.join(' | ')}`);
  });
} catch (e) {
  results.push({ name: 'setup', ok: false });
  console.log(`FAIL setup: ${e.message}`);
} finally {
  await teardown({ contexts, profiles, dsrd, state });
}
process.exit(summary());
