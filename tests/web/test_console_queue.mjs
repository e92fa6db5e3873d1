// The agency flow in the staff console (issue 5 item 4: W3, W4) as a member
// of an agency's staff works it in Chromium: signs in with a TOTP code
// computed here, opens the agency queue, finds a request filed a moment
// ago through Open311, opens it, acknowledges it, closes it with a
// resolution, is refused a close "not fixed" without a reason, reopens it,
// and reads the reporter's contact details with a purpose; axe on every
// page and state, each page at 320px, and the same flow without JavaScript.
//
// tests/api/test_console_queue.py checks the rest over HTTP (agency
// isolation, filters, stale changes, bulk, transfer, merge, audit, CSRF).

import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { childEnv, cli, fetchRaw } from './harness.mjs';
import { clickAndWait, escapeRe, mainText, sidewaysScroll, totp } from './site.mjs';

/** A member of DOT's staff by `civic311 staff add`: { login, password, secret }. */
function addStaff(t, role = 'agency_staff', agencies = 'DOT') {
  const n = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const m = { login: `q${n.slice(-9)}`, password: `copper kettle ${n.slice(-7)}` };
  const p = spawnSync(t.server.binary, ['staff', 'add', '--data', t.server.data, '--login',
                                        m.login, '--role', role, '--agency', agencies,
                                        '--actor', 'webtests'],
                      { env: childEnv(), encoding: 'utf8', input: `${m.password}\n` });
  assert.equal(p.status, 0, p.stderr);
  assert.doesNotMatch(p.stderr, /AddressSanitizer|runtime error:|LeakSanitizer/);
  m.secret = /^secret: ([A-Z2-7]{32})$/m.exec(p.stdout)[1];
  return m;
}

let apiKeyValue = null;

/** Files a pothole through Open311 with contact details; returns its number. */
async function file(t, email) {
  if (apiKeyValue === null) {
    const { stdout } = cli(t.server.binary, ['apikey', 'create', '--data', t.server.data,
                                             '--name', 'queue'],
                           path.join(path.dirname(t.server.data), 'cli.log'));
    apiKeyValue = stdout.trim();
  }
  const body = new URLSearchParams([
    ['api_key', apiKeyValue], ['service_code', 'DOT-POTHOLE'],
    ['lat', (-60 + Math.random() * 120).toFixed(5)],
    ['long', (-170 + Math.random() * 340).toFixed(5)],
    ['description', 'A deep hole by the curb'], ['attribute[LOCATION]', 'ROADWAY'],
    ['email', email], ['first_name', 'Ana']]).toString();
  const r = await fetchRaw(t.url('/open311/v2/requests.json'), {
    method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(r.status, 201, r.text());
  return JSON.parse(r.text())[0].service_request_id;
}

async function axeNow(t, page, what) {
  try {
    await t.axeCheck(page);
  } catch (e) {
    e.message = `${what} at ${JSON.stringify(page.viewportSize())}:\n${e.message}`;
    throw e;
  }
}

async function signIn(t, page, m) {
  await page.goto(t.url('/staff/'));
  assert.equal(new URL(page.url()).pathname, '/staff/sign-in');
  await page.getByLabel(/^Login/).fill(m.login);
  await page.getByLabel(/^Password/).fill(m.password);
  await clickAndWait(page, page.getByRole('button', { name: 'Continue' }));
  await page.getByLabel(/^6-digit code/).fill(totp(m.secret, Date.now() / 1000));
  await clickAndWait(page, page.getByRole('button', { name: 'Sign in' }));
  assert.equal(new URL(page.url()).pathname, '/staff/', await mainText(page));
}

/** The value of a dl.facts term on the page. */
async function fact(page, term) {
  const dts = await page.locator('main dl.facts > dt').allInnerTexts();
  const dds = await page.locator('main dl.facts > dd').allInnerTexts();
  const i = dts.findIndex((d) => d.trim() === term);
  assert.ok(i >= 0, `no ${term} on the page`);
  return dds[i].trim();
}

/** Queue, open, acknowledge, close, refused close, reopen (audit: axe each state). */
async function agencyFlow(t, page, rid, { audit }) {
  await clickAndWait(page, page.getByRole('link', { name: 'Agency queue' }).first());
  await page.getByRole('heading', { level: 1, name: 'Agency queue' }).waitFor();
  // The newest first: today's request is on the first page.
  await page.getByLabel('Order').selectOption('newest');
  await clickAndWait(page, page.getByRole('button', { name: 'Show' }));
  assert.match(page.url(), /sort=newest/);
  if (audit)
    await axeNow(t, page, 'the agency queue');
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: rid,
                                                                             exact: true }) });
  assert.match(await row.innerText(), /Pothole/);
  assert.match(await row.innerText(), /Received/);
  await clickAndWait(page, row.getByRole('link', { name: rid, exact: true }));
  await page.getByRole('heading', { level: 1, name: `Request ${rid}` }).waitFor();
  assert.equal(await fact(page, 'Status'), 'Received');
  assert.equal(await fact(page, 'Agency'), 'Department of Transportation');
  if (audit)
    await axeNow(t, page, 'a request page');

  await clickAndWait(page, page.getByRole('button', { name: 'Acknowledge' }));
  assert.match(await page.getByRole('status').first().innerText(), /The change is saved/);
  assert.equal(await fact(page, 'Status'), 'Seen by the agency');
  assert.equal(await page.getByRole('button', { name: 'Acknowledge' }).count(), 0,
               'an action the lifecycle does not permit is not offered');

  // Closed but not fixed, without saying why: refused, the rule said.
  t.expectConsoleError(/Failed to load resource: .* status of 400/);
  await page.getByLabel('Resolution').selectOption('not_fixed');
  let res = await clickAndWait(page, page.getByRole('button', { name: 'Close the request' }));
  assert.equal(res.status(), 400);
  assert.match(await page.getByRole('alert').innerText(), /needs a public note/);
  assert.equal(await fact(page, 'Status'), 'Seen by the agency');
  if (audit)
    await axeNow(t, page, 'a refused close');

  await page.getByLabel('Resolution').selectOption('fixed');
  await page.getByLabel('Public note', { exact: true }).fill('Filled this morning');
  await clickAndWait(page, page.getByRole('button', { name: 'Close the request' }));
  assert.match(await fact(page, 'Status'), /^Closed \(Fixed\)/);
  assert.match(await page.locator('#history + ol').innerText(), /Filled this morning/);
  if (audit)
    await axeNow(t, page, 'a closed request');

  await page.getByLabel('Why it is reopened').fill('The hole is back');
  await page.locator('form').filter({ has: page.getByLabel('Why it is reopened') })
    .getByLabel('Internal: staff only').check();
  await clickAndWait(page, page.getByRole('button', { name: 'Reopen the request' }));
  assert.equal(await fact(page, 'Status'), 'Reopened');
  assert.match(await page.locator('#history + ol').innerText(),
               /Internal note \(staff only\): The hole is back/);
  if (audit)
    await axeNow(t, page, 'a reopened request');
}

export async function test_agency_flow_queue_acknowledge_close_reopen(t) {
  const email = `ana.${Date.now()}@example.org`;
  const rid = await file(t, email);
  const m = addStaff(t);
  const page = t.page;
  await signIn(t, page, m);
  await agencyFlow(t, page, rid, { audit: true });
  // The reporter's contact details: not on the page until asked, with a purpose.
  assert.doesNotMatch(await page.content(), new RegExp(escapeRe(email)));
  await page.getByLabel('Purpose').selectOption('address_request');
  await clickAndWait(page, page.getByRole('button', { name: 'Show contact details' }));
  assert.match(await mainText(page), new RegExp(escapeRe(email)));
  assert.match(await mainText(page), /recorded in the audit log/);
  await axeNow(t, page, 'the contact details read');

  // At 320px, the same session: no sideways scroll, axe-clean.
  const narrow = await t.newPage({ viewport: { width: 320, height: 640 } });
  await narrow.context().addCookies(await t.context.cookies());
  for (const p of ['/staff/queue?sort=newest', `/staff/requests/${rid}`]) {
    await narrow.goto(t.url(p));
    assert.equal(new URL(narrow.url()).pathname, p.split('?')[0]);
    const { scroll, inner } = await sidewaysScroll(narrow);
    assert.ok(scroll <= inner, `${p} scrolls sideways at 320px: ${scroll} > ${inner}`);
    await axeNow(t, narrow, p);
  }
}

export async function test_agency_flow_without_javascript(t) {
  const rid = await file(t, `ben.${Date.now()}@example.org`);
  const ctx = await t.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await signIn(t, page, addStaff(t));
  await agencyFlow(t, page, rid, { audit: false });
}
