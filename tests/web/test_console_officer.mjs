// The officers' console pages (issue 5 items 7 and 8: P4 and the figures)
// in Chromium: a records officer records a court order naming two requests
// filed with personal data; a privacy officer, in a browser without
// JavaScript, approves it; the records officer exports and the browser
// saves the file, which holds exactly those requests' contact details and
// whose SHA-256 the order's page then shows; the second officer exports
// and closes without JavaScript too. axe on every page and state (in the
// browser with JavaScript: axe runs as a script), no sideways scroll at
// 320px; the figures page as a supervisor, with and without JavaScript.
//
// tests/api/test_console_officer.py checks the rest over HTTP (refusals,
// roles, the audit log, the figures against `civic311 stats`).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { childEnv, cli, fetchRaw } from './harness.mjs';
import { clickAndWait, escapeRe, mainText, sidewaysScroll, totp } from './site.mjs';

function field(text) {
  return new RegExp(`^${escapeRe(text)}( \\(required\\))?$`);
}

/** `civic311 staff add`: { login, password, secret } (kept out of cli.log). */
function addStaff(t, role, agencies) {
  const n = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const m = { login: `o${n.slice(-9)}`, password: `brass lantern ${n.slice(-7)}` };
  const args = ['staff', 'add', '--data', t.server.data, '--login', m.login, '--role', role,
                '--actor', 'webtests'];
  if (agencies)
    args.push('--agency', agencies);
  const p = spawnSync(t.server.binary, args,
                      { env: childEnv(), encoding: 'utf8', input: `${m.password}\n` });
  assert.equal(p.status, 0, p.stderr);
  assert.doesNotMatch(p.stderr, /AddressSanitizer|runtime error:|LeakSanitizer/);
  m.secret = /^secret: ([A-Z2-7]{32})$/m.exec(p.stdout)[1];
  return m;
}

async function axeNow(t, page, what) {
  try {
    await t.axeCheck(page);
  } catch (e) {
    e.message = `${what} at ${JSON.stringify(page.viewportSize())}:\n${e.message}`;
    throw e;
  }
}

/** Signs m in from /staff/ (login and password, then the code). */
async function signIn(t, page, m) {
  await page.goto(t.url('/staff/'));
  assert.equal(new URL(page.url()).pathname, '/staff/sign-in');
  await page.getByLabel(field('Login')).fill(m.login);
  await page.getByLabel(field('Password')).fill(m.password);
  await clickAndWait(page, page.getByRole('button', { name: 'Continue' }));
  await page.getByLabel(field('6-digit code')).fill(totp(m.secret, Date.now() / 1000));
  await clickAndWait(page, page.getByRole('button', { name: 'Sign in' }));
  assert.equal(new URL(page.url()).pathname, '/staff/', await mainText(page));
}

/** A request with a reporter's contact details, through Open311. */
async function fileWithContact(t, key, who) {
  const body = new URLSearchParams([
    ['api_key', key], ['service_code', 'DOT-POTHOLE'], ['lat', '40.7128'], ['long', '-74.006'],
    ['attribute[LOCATION]', 'ROADWAY'], ['description', 'Pothole, officer test'],
    ['first_name', who.first], ['last_name', who.last], ['email', who.email]]).toString();
  const r = await fetchRaw(t.url('/open311/v2/requests.json'), {
    method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(r.status, 201, r.text());
  return JSON.parse(r.text())[0].service_request_id;
}

function someone() {
  const n = crypto.randomBytes(4).toString('hex');
  return { first: `Ada${n}`, last: `Quill${n}`, email: `ada.${n}@example.org` };
}

async function noSidewaysScroll(t, ctx, paths) {
  const narrow = await t.newPage({ viewport: { width: 320, height: 640 } });
  await narrow.context().addCookies(await ctx.cookies());
  for (const p of paths) {
    await narrow.goto(t.url(p));
    assert.equal(new URL(narrow.url()).pathname + new URL(narrow.url()).search, p);
    const { scroll, inner } = await sidewaysScroll(narrow);
    assert.ok(scroll <= inner, `${p} scrolls sideways at 320px: ${scroll} > ${inner}`);
    await axeNow(t, narrow, p);
  }
}

export async function test_officers_record_approve_and_export(t) {
  const dir = path.dirname(t.server.data);
  const key = cli(t.server.binary, ['apikey', 'create', '--data', t.server.data, '--name',
                                    'officer'], path.join(dir, 'cli.log')).stdout.trim();
  const [p1, p2, p3] = [someone(), someone(), someone()];
  const r1 = await fileWithContact(t, key, p1);
  const r2 = await fileWithContact(t, key, p2);
  await fileWithContact(t, key, p3);

  const alice = addStaff(t, 'records_officer');
  const actx = await t.newContext();
  const apage = await actx.newPage();
  await signIn(t, apage, alice);
  await clickAndWait(apage, apage.getByRole('main').getByRole('link',
                                                               { name: 'Disclosure register' }));
  await apage.getByRole('heading', { level: 1, name: 'Disclosure register' }).waitFor();
  await axeNow(t, apage, 'the register');

  // A form with a mistake first: refused, the field marked, accessible.
  const reference = `2026-CV-${crypto.randomBytes(3).toString('hex')}`;
  await apage.getByLabel(field('Who asks')).fill('Supreme Court of the State of New York');
  await apage.getByLabel(field('Their reference')).fill(reference);
  await apage.getByLabel(field('Legal basis')).fill('CPLR 2301 subpoena duces tecum');
  await apage.getByLabel(field('Date received')).fill('2026-01-05');
  await apage.getByLabel(field('Request numbers')).fill(`${r1}, ${r1}`);
  t.expectConsoleError(/staff\/register: Failed to load resource: .* status of 400/);
  let res = await clickAndWait(apage, apage.getByRole('button', { name: 'Record the order' }));
  assert.equal(res.status(), 400);
  assert.match(await apage.getByRole('alert').innerText(), /twice/);
  assert.equal(await apage.getByLabel(field('Request numbers')).getAttribute('aria-invalid'),
               'true');
  await axeNow(t, apage, 'the register, refused');
  await apage.getByLabel(field('Request numbers')).fill(`${r2}, ${r1}`);
  await clickAndWait(apage, apage.getByRole('button', { name: 'Record the order' }));
  const orderPath = new URL(apage.url()).pathname;
  assert.match(orderPath, /^\/staff\/register\/\d+$/);
  assert.match(await apage.getByRole('status').innerText(), /The order is recorded/);
  await axeNow(t, apage, 'the order, recorded');

  // Approving one's own order: refused, in words.
  t.expectConsoleError(/approve: Failed to load resource: .* status of 403/);
  res = await clickAndWait(apage, apage.getByRole('button', { name: 'Approve the order' }));
  assert.equal(res.status(), 403);
  assert.match(await apage.getByRole('alert').innerText(), /may not also approve it/);
  await axeNow(t, apage, 'the order, self-approval refused');

  // A second officer, without JavaScript, approves it.
  const bob = addStaff(t, 'privacy_officer');
  const bpage = await (await t.newContext({ javaScriptEnabled: false })).newPage();
  await signIn(t, bpage, bob);
  await clickAndWait(bpage, bpage.getByRole('link', { name: 'Disclosure register' }).first());
  await clickAndWait(bpage, bpage.getByRole('link', { name: new RegExp(
    `^Order ${escapeRe(orderPath.split('/').pop())}$`) }));
  await clickAndWait(bpage, bpage.getByRole('button', { name: 'Approve the order' }));
  assert.match(await bpage.getByRole('status').innerText(), /The order is approved/);

  // The export: the browser saves the file the POST answers.
  await apage.goto(t.url(orderPath));
  await axeNow(t, apage, 'the order, open for exports');
  const [download] = await Promise.all([
    apage.waitForEvent('download'),
    apage.getByRole('button', { name: 'Export and download' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^civic311-order-\d+-export-\d+\.json$/);
  const saved = await download.path();
  const raw = fs.readFileSync(saved);
  const doc = JSON.parse(raw.toString('utf8'));
  assert.equal(doc.order.reference, reference);
  const got = Object.fromEntries(doc.requests.map((q) => [String(q.request), q.fields]));
  assert.deepEqual(Object.keys(got).sort(), [String(r1), String(r2)].sort());
  assert.equal(got[String(r1)].email, p1.email);
  assert.equal(got[String(r2)].last_name, p2.last);
  assert.ok(!raw.toString('utf8').includes(p3.email), 'a request outside the order stays out');
  assert.ok(!apage.url().includes(p1.email));

  // The order's page shows the export and the digest of the file saved.
  await apage.goto(t.url(orderPath));
  const digest = crypto.createHash('sha256').update(raw).digest('hex');
  assert.match(await mainText(apage), new RegExp(digest));
  await axeNow(t, apage, 'the order, exported');
  await noSidewaysScroll(t, actx, ['/staff/register', orderPath]);

  // Without JavaScript: an export of one request, then closing.
  await bpage.goto(t.url(orderPath));
  await bpage.getByLabel(field('Request numbers')).fill(String(r2));
  const [second] = await Promise.all([
    bpage.waitForEvent('download'),
    bpage.getByRole('button', { name: 'Export and download' }).click(),
  ]);
  const doc2 = JSON.parse(fs.readFileSync(await second.path(), 'utf8'));
  assert.deepEqual(doc2.requests.map((q) => String(q.request)), [String(r2)]);
  await bpage.goto(t.url(orderPath));
  await clickAndWait(bpage, bpage.getByRole('button', { name: 'Close the order' }));
  assert.match(await bpage.getByRole('status').innerText(), /The order is closed/);
  assert.equal(await bpage.getByRole('button', { name: 'Export and download' }).count(), 0);
  await apage.goto(t.url(orderPath));
  assert.equal((await mainText(apage)).match(/[0-9a-f]{64}/g).length, 2, 'two exports shown');
  await axeNow(t, apage, 'the order, closed');
}

export async function test_figures_for_a_supervisor(t) {
  const sup = addStaff(t, 'supervisor', 'DOT');
  const ctx = await t.newContext();
  const page = await ctx.newPage();
  await signIn(t, page, sup);
  await clickAndWait(page, page.getByRole('main').getByRole('link', { name: 'Figures' }));
  await page.getByRole('heading', { level: 1, name: 'Figures' }).waitFor();
  assert.ok(await page.getByRole('table').count() >= 1);
  await axeNow(t, page, 'the figures');
  await page.getByLabel('Figures by').selectOption('agency');
  await clickAndWait(page, page.getByRole('button', { name: 'Show the figures' }));
  assert.match(page.url(), /by=agency/);
  assert.equal(await page.getByRole('table').count(), 1);
  // The last day before the first: refused, said, the field marked.
  await page.getByLabel('First day filed').fill('2026-05-02');
  await page.getByLabel('Last day filed').fill('2026-05-01');
  t.expectConsoleError(/staff\/figures\?.*Failed to load resource: .* status of 400/);
  let res = await clickAndWait(page, page.getByRole('button', { name: 'Show the figures' }));
  assert.equal(res.status(), 400);
  assert.match(await page.getByRole('alert').innerText(), /must not come before the first/);
  assert.equal(await page.getByLabel('Last day filed').getAttribute('aria-invalid'), 'true');
  await axeNow(t, page, 'the figures, refused');
  await noSidewaysScroll(t, ctx, ['/staff/figures']);

  // Without JavaScript: the form is a GET, the CSV a link.
  const nojs = await (await t.newContext({ javaScriptEnabled: false })).newPage();
  await signIn(t, nojs, addStaff(t, 'agency_staff', 'DOT'));
  await nojs.goto(t.url('/staff/figures'));
  assert.match(await mainText(nojs), /Requests routed to your agencies only: DOT/);
  await nojs.getByLabel('Figures by').selectOption('service');
  await clickAndWait(nojs, nojs.getByRole('button', { name: 'Show the figures' }));
  assert.match(nojs.url(), /by=service/);
  const href = await nojs.getByRole('link', { name: 'Download as CSV' }).getAttribute('href');
  assert.match(href, /^\/staff\/figures\.csv\?from=\d{4}-\d\d-\d\d&to=\d{4}-\d\d-\d\d&by=service$/);
}
