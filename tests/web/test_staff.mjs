// The staff console's frame (issue 5 item 1: P3, W3) as a member of staff
// uses it in Chromium: an administrator made with `civic311 staff add`
// signs in with the password and a code computed here from the printed
// secret (RFC 6238, node's crypto, as an authenticator app does), sees the
// console home and the staff accounts page, and signs out; the console's
// cookie as Chromium stored it; axe on every console page and state; the
// pages at 320px and without JavaScript.
//
// tests/api/test_staff.py checks the rest over HTTP (refusals, lock,
// replay, expiry, roles, CSRF, the store and the logs).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { childEnv } from './harness.mjs';
import { clickAndWait, escapeRe, mainText, sidewaysScroll, totp } from './site.mjs';

function field(text) {
  return new RegExp(`^${escapeRe(text)}( \\(required\\))?$`);
}

/** `civic311 staff add`, the password on stdin: { login, password, secret }.
 * Its output (the secret) is kept out of cli.log on purpose. */
function addStaff(t, role) {
  const n = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const m = { login: `w${n.slice(-9)}`, password: `copper kettle ${n.slice(-7)}` };
  const p = spawnSync(t.server.binary, ['staff', 'add', '--data', t.server.data, '--login',
                                        m.login, '--role', role, '--actor', 'webtests'],
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

/** From /staff/: sent to the sign-in page, login and password, then the
 * code; lands on the console home. */
async function signIn(t, page, m, { audit = false } = {}) {
  t.expectConsoleError(/sign-in\/code: Failed to load resource: .* status of 400/);
  await page.goto(t.url('/staff/'));
  assert.equal(new URL(page.url()).pathname, '/staff/sign-in');
  await page.getByRole('heading', { level: 1, name: 'Staff sign-in' }).waitFor();
  if (audit)
    await axeNow(t, page, 'the staff sign-in page');
  await page.getByLabel(field('Login')).fill(m.login);
  await page.getByLabel(field('Password')).fill(m.password);
  await clickAndWait(page, page.getByRole('button', { name: 'Continue' }));
  await page.getByRole('heading', { level: 1, name: 'Your code' }).waitFor();
  if (audit)
    await axeNow(t, page, 'the code page');
  // A wrong code first: the one answer, the form again.
  const code = totp(m.secret, Date.now() / 1000);
  await page.getByLabel(field('6-digit code')).fill(code === '000000' ? '000001' : '000000');
  let res = await clickAndWait(page, page.getByRole('button', { name: 'Sign in' }));
  assert.equal(res.status(), 400);
  assert.match(await page.getByRole('alert').innerText(), /not right/);
  if (audit)
    await axeNow(t, page, 'the code page, refused');
  await page.getByLabel(field('6-digit code')).fill(code);
  res = await clickAndWait(page, page.getByRole('button', { name: 'Sign in' }));
  assert.equal(new URL(page.url()).pathname, '/staff/', `at ${page.url()}: ` +
                                                        `${await mainText(page)}`);
  await page.getByRole('heading', { level: 1, name: 'Console home' }).waitFor();
}

export async function test_admin_signs_in_sees_the_console_and_signs_out(t) {
  const m = addStaff(t, 'admin');
  const page = t.page;
  await signIn(t, page, m, { audit: true });
  await axeNow(t, page, 'the console home');
  const header = await page.locator('header').innerText();
  assert.match(header, new RegExp(`Signed in as ${m.login}`));
  assert.match(header, /Administrator/);
  // The cookie: the console's own, HttpOnly, Strict, gone with the browser.
  const cookies = await t.context.cookies();
  const staff = cookies.find((c) => c.name === 'c311staff');
  assert.ok(staff, JSON.stringify(cookies));
  assert.equal(staff.httpOnly, true);
  assert.equal(staff.sameSite, 'Strict');
  assert.equal(staff.expires, -1);
  assert.ok(!cookies.some((c) => c.name === 'c311'), 'no resident cookie from the console');

  // What the role can do: the staff accounts page, from the home page.
  await clickAndWait(page, page.getByRole('main').getByRole('link', { name: 'Staff accounts' }));
  await page.getByRole('heading', { level: 1, name: 'Staff accounts' }).waitFor();
  assert.match(await page.getByRole('table').innerText(), new RegExp(m.login));
  await axeNow(t, page, 'the staff accounts page');
  // A refused form, the fields marked, still accessible.
  await page.getByLabel(field('Login')).fill('Not A Login');
  await page.getByLabel(field('First password')).fill('short');
  t.expectConsoleError(/staff\/admin\/add: Failed to load resource: .* status of 400/);
  let res = await clickAndWait(page, page.getByRole('button', { name: 'Add' }));
  assert.equal(res.status(), 400);
  assert.equal(await page.getByLabel(field('Login')).getAttribute('aria-invalid'), 'true');
  await axeNow(t, page, 'the staff accounts page, refused');

  // At 320px, the same session: no sideways scroll on any console page.
  const narrow = await t.newPage({ viewport: { width: 320, height: 640 } });
  await narrow.context().addCookies(await t.context.cookies());
  for (const path of ['/staff/', '/staff/admin']) {
    await narrow.goto(t.url(path));
    assert.equal(new URL(narrow.url()).pathname, path);
    const { scroll, inner } = await sidewaysScroll(narrow);
    assert.ok(scroll <= inner, `${path} scrolls sideways at 320px: ${scroll} > ${inner}`);
    await axeNow(t, narrow, path);
  }

  // Signing out: back at the sign-in page, and the console is closed.
  await clickAndWait(page, page.getByRole('button', { name: 'Sign out' }));
  assert.equal(new URL(page.url()).pathname, '/staff/sign-in');
  assert.match(await page.getByRole('status').innerText(), /You are signed out/);
  await axeNow(t, page, 'signed out');
  res = await page.goto(t.url('/staff/admin'));
  assert.equal(new URL(page.url()).pathname, '/staff/sign-in');
}

export async function test_an_agent_sees_no_admin_page(t) {
  const m = addStaff(t, 'agent');
  const page = t.page;
  t.expectConsoleError(/staff\/admin: Failed to load resource: .* status of 403/);
  await signIn(t, page, m);
  assert.equal(await page.getByRole('link', { name: 'Staff accounts' }).count(), 0);
  const res = await page.goto(t.url('/staff/admin'));
  assert.equal(res.status(), 403);
  await page.getByRole('heading', { level: 1, name: 'Not for your role' }).waitFor();
  await axeNow(t, page, 'the 403 page');
}

export async function test_console_without_javascript(t) {
  const ctx = await t.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  const m = addStaff(t, 'records_officer');
  await signIn(t, page, m);
  assert.match(await page.locator('header').innerText(), /Records officer/);
  await clickAndWait(page, page.getByRole('button', { name: 'Sign out' }));
  assert.equal(new URL(page.url()).pathname, '/staff/sign-in');
}
