// Residents' accounts (issue 4 item 3: P7, P9) as a person uses them in
// Chromium: register, sign in, report while signed in and find the report
// under "My requests", see and download everything held about me (a real
// download), remove my details from a request, delete my account; the one
// cookie as Chromium stored it, with "keep me signed in" ticked and not;
// axe on every account page and state; the pages without JavaScript and
// at 320px.
//
// tests/api/test_accounts.py checks the same over HTTP (the store, the
// audit log, CSRF, lockout, the generic answers); these check what the
// browser does: labels, buttons, redirects, the cookie jar, the download.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { preloadAxe } from './harness.mjs';
import {
  clickAndWait, escapeRe, facts, fillAndReview, mainText, sampleReport, send, sidewaysScroll,
} from './site.mjs';

const KEEP_SECONDS = 30 * 86400;

/** A field's label as a screen reader reads it: its text, then
 * "(required)" for a required one. */
function field(text) {
  return new RegExp(`^${escapeRe(text)}( \\(required\\))?$`);
}

/** A new account's details, unique to this test. */
function newAccount() {
  const n = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  return { email: `resident.${n}@example.org`, name: `Resident ${n.slice(-5)}`,
           password: `walnut lantern ${n.slice(-7)}` };
}

async function axeNow(t, page, what) {
  try {
    await t.axeCheck(page);
  } catch (e) {
    e.message = `${what} at ${JSON.stringify(page.viewportSize())}:\n${e.message}`;
    throw e;
  }
}

/** From any page: the header's "Sign in", then "create an account", the
 * form filled and sent; lands on "My account". */
async function register(t, page, a, { audit = false } = {}) {
  await page.goto(t.url('/'));
  await clickAndWait(page, page.getByRole('navigation', { name: 'Account' })
    .getByRole('link', { name: 'Sign in' }));
  await clickAndWait(page, page.getByRole('link', { name: 'create an account' }));
  await page.getByRole('heading', { level: 1, name: 'Create an account' }).waitFor();
  if (audit)
    await axeNow(t, page, 'the registration form');
  await page.getByLabel(field('Email')).fill(a.email);
  await page.getByLabel('Your name (optional)').fill(a.name);
  await page.getByLabel(field('Password')).fill(a.password);
  await page.getByLabel(field('The same password again')).fill(a.password);
  await clickAndWait(page, page.getByRole('button', { name: 'Create my account' }));
  assert.equal(new URL(page.url()).pathname, '/account', `registering: at ${page.url()}: ` +
                                                         `${await mainText(page)}`);
  await page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();
}

async function signIn(t, page, a, keep = false) {
  await page.goto(t.url('/account/signin'));
  await page.getByLabel(field('Email')).fill(a.email);
  await page.getByLabel(field('Password')).fill(a.password);
  if (keep)
    await page.getByLabel('Keep me signed in for 30 days').check();
  return clickAndWait(page, page.getByRole('button', { name: 'Sign in' }));
}

async function signOut(page) {
  await page.goto(new URL('/account', page.url()).href);
  await clickAndWait(page, page.getByRole('button', { name: 'Sign out' }));
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  assert.match(await mainText(page), /You are signed out\./);
}

function theCookie(cookies, where) {
  assert.equal(cookies.length, 1, `${where}: want one cookie, got ${JSON.stringify(cookies)}`);
  const [c] = cookies;
  assert.equal(c.name, 'c311', where);
  assert.equal(c.httpOnly, true, `${where}: not HttpOnly`);
  assert.equal(c.sameSite, 'Lax', where);
  assert.equal(c.secure, false, `${where}: Secure over plain http`);
  assert.equal(c.path, '/', where);
  return c;
}

// The whole story, with JavaScript on: register, report while signed in,
// find it under "My requests", see and download my data, remove my details
// from the request, delete the account.
export async function test_register_report_see_download_and_delete(t) {
  t.expectConsoleError(/status of 400/);
  const page = t.page;
  await preloadAxe(t.context);
  const a = newAccount();
  await register(t, page, a, { audit: true });
  assert.match(await page.getByRole('status').innerText(), /Your account is ready/);
  await page.getByRole('navigation', { name: 'Account' })
    .getByRole('link', { name: 'My account' }).waitFor();
  await axeNow(t, page, 'my account, empty');

  // A report while signed in, then "My requests" lists it.
  await page.goto(t.url('/report/DOT-POTHOLE'));
  const r = sampleReport('DOT-POTHOLE');
  await fillAndReview(page, r);
  const id = await send(page);
  assert.ok(id, 'no request number');
  await clickAndWait(page, page.getByRole('navigation', { name: 'Account' })
    .getByRole('link', { name: 'My account' }));
  const mine = page.getByRole('region', { name: 'My requests' });
  await mine.getByRole('link', { name: `Request ${id}`, exact: true }).waitFor();
  assert.deepEqual((await facts(page)).slice(0, 2), [['Service', 'Pothole'],
                                                     ['Status', 'Received']]);
  await axeNow(t, page, 'my account, with a request');

  // Everything held about me, as a page.
  await clickAndWait(page, page.getByRole('link', { name: 'See everything we hold about you' }));
  await page.getByRole('heading', { level: 1, name: 'Everything we hold about you' }).waitFor();
  const text = await mainText(page);
  for (const v of [a.email, a.name, r.email, r.lastName, `Request ${id}`])
    assert.ok(text.includes(v), `my data does not show ${v}`);
  await axeNow(t, page, 'my data');

  // The download, as Chromium saves it.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download it (JSON)' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'civic311-my-data.json');
  const doc = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.equal(doc.account.email, a.email);
  assert.equal(doc.account.display_name, a.name);
  const req = doc.requests.find((x) => x.service_request_id === id);
  assert.ok(req, `request ${id} not in the download: ${JSON.stringify(doc.requests)}`);
  assert.equal(req.personal.email, r.email);
  assert.equal(req.personal.last_name, r.lastName);
  assert.equal(req.description, r.description);

  // Remove my details from the request: asked first, then done.
  await page.goto(t.url('/account'));
  await clickAndWait(page, page.getByRole('button',
                                          { name: `Remove my details from request ${id}` }));
  await page.getByRole('heading', { level: 1,
                                    name: 'Remove your details from this request?' }).waitFor();
  await axeNow(t, page, 'removing details, the question');
  await clickAndWait(page, page.getByRole('button', { name: 'Remove my details', exact: true }));
  assert.match(await page.getByRole('status').innerText(),
               new RegExp(`Your details were removed from request ${id}\\.`));
  assert.equal(await page.getByRole('link', { name: `Request ${id}`, exact: true }).count(), 0);
  // The request itself stays public.
  await page.goto(t.url(`/requests/${id}`));
  await page.getByRole('heading', { level: 1, name: `Request ${id}` }).waitFor();

  // Delete the account: the page explains what stays; a wrong password
  // first, then the right one.
  await page.goto(t.url('/account'));
  await clickAndWait(page, page.getByRole('link', { name: 'Delete my account' }));
  await page.getByRole('heading', { level: 2, name: 'What is kept, and why' }).waitFor();
  await axeNow(t, page, 'deleting the account');
  await page.getByLabel(field('Your password')).fill(`${a.password} typo`);
  let res = await clickAndWait(page, page.getByRole('button', { name: 'Delete my account' }));
  assert.equal(res.status(), 400);
  assert.match(await page.getByRole('alert').innerText(), /The password is not right/);
  assert.equal(await page.getByLabel(field('Your password')).getAttribute('aria-invalid'), 'true');
  await axeNow(t, page, 'deleting the account, a wrong password');
  await page.getByLabel(field('Your password')).fill(a.password);
  res = await clickAndWait(page, page.getByRole('button', { name: 'Delete my account' }));
  assert.equal(res.status(), 200);
  await page.getByRole('heading', { level: 1, name: 'Your account was deleted' }).waitFor();
  await axeNow(t, page, 'the account deleted');
  await page.getByRole('navigation', { name: 'Account' })
    .getByRole('link', { name: 'Sign in' }).waitFor();

  // Signing in again fails, with the answer any unknown email gets.
  res = await signIn(t, page, a);
  assert.equal(res.status(), 400);
  assert.match(await page.getByRole('alert').innerText(),
               /The email or the password is not right/);
  await axeNow(t, page, 'signing in, refused');
}

// The cookie as Chromium keeps it: a session cookie when signed in
// without the box (and after signing out), 30 days with it.
export async function test_cookie_with_and_without_keep_me_signed_in(t) {
  const a = newAccount();
  await register(t, t.page, a);
  const registered = theCookie(await t.context.cookies(), 'after registering');
  assert.equal(registered.expires, -1, 'registering must not keep anyone signed in');
  await signOut(t.page);
  const out = theCookie(await t.context.cookies(), 'after signing out');
  assert.equal(out.expires, -1);
  assert.notEqual(out.value, registered.value, 'signing out keeps the signed-in id');

  // Not ticked: a session cookie, and a new id (no fixation).
  let res = await signIn(t, t.page, a);
  assert.equal(new URL(t.page.url()).pathname, '/account', await mainText(t.page));
  const plain = theCookie(await t.context.cookies(), 'signed in, not kept');
  assert.equal(plain.expires, -1, `not a session cookie: expires ${plain.expires}`);
  assert.notEqual(plain.value, out.value, 'the session id must change at sign-in');
  assert.equal(res.status(), 200);

  // Ticked, in another browser: 30 days.
  const page2 = await t.newPage();
  const before = Date.now() / 1000;
  res = await signIn(t, page2, a, true);
  assert.equal(new URL(page2.url()).pathname, '/account');
  const kept = theCookie(await page2.context().cookies(), 'signed in, kept');
  assert.ok(kept.expires >= before + KEEP_SECONDS - 60 &&
            kept.expires <= Date.now() / 1000 + KEEP_SECONDS + 60,
            `kept: expires ${kept.expires}, want about ${before + KEEP_SECONDS}`);
  // The language switch keeps both the session and its 30 days.
  await clickAndWait(page2, page2.getByRole('link', { name: 'Español' }));
  const es = theCookie(await page2.context().cookies(), 'kept, after the switch');
  assert.equal(es.value, `${kept.value}~es`);
  assert.ok(es.expires > before + KEEP_SECONDS - 60, `the switch lost the 30 days: ${es.expires}`);
  await page2.getByRole('navigation', { name: 'Cuenta' })
    .getByRole('link', { name: 'Mi cuenta' }).waitFor();
  // Signing out there turns it back into a session cookie.
  await page2.goto(t.url('/lang/en?next=/account'));
  await signOut(page2);
  assert.equal(theCookie(await page2.context().cookies(), 'kept, signed out').expires, -1);
  // The first browser is still signed in (its own session).
  await t.page.goto(t.url('/account'));
  await t.page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();
}

// Without JavaScript: register, sign out, a refused sign-in keeps the
// email, sign in; every account form is a plain POST.
export async function test_accounts_without_javascript(t) {
  t.expectConsoleError(/status of 400/);
  const page = await t.newPage({ javaScriptEnabled: false });
  const a = newAccount();
  await register(t, page, a);
  await signOut(page);
  let res = await signIn(t, page, { ...a, password: `${a.password}!` });
  assert.equal(res.status(), 400);
  assert.equal(await page.getByLabel(field('Email')).inputValue(), a.email);
  assert.equal(await page.getByLabel(field('Password')).inputValue(), '',
               'a password written back into the page');
  res = await signIn(t, page, a);
  assert.equal(res.status(), 200);
  await page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();
}

// axe on every account page and state not audited above, at phone size,
// and no sideways scrolling at 320px.
export async function test_axe_and_reflow_on_account_pages(t) {
  t.expectConsoleError(/status of 400/);
  const ctx = await t.newContext({ viewport: 'phone' });
  await preloadAxe(ctx);
  const page = await ctx.newPage();
  for (const path of ['/account/signin', '/account/register', '/account/signin?out=1']) {
    await page.goto(t.url(path));
    await axeNow(t, page, path);
  }
  // Refusals: a short password (the field marked), passwords that differ.
  const a = newAccount();
  await page.goto(t.url('/account/register'));
  await page.getByLabel(field('Email')).fill(a.email);
  await page.getByLabel(field('Password')).fill('short');
  await page.getByLabel(field('The same password again')).fill('short');
  let res = await clickAndWait(page, page.getByRole('button', { name: 'Create my account' }));
  assert.equal(res.status(), 400);
  assert.match(await page.getByRole('alert').innerText(), /at least 10 characters/);
  assert.equal(await page.getByLabel(field('Password')).getAttribute('aria-invalid'),
               'true');
  await axeNow(t, page, 'registering, a short password');
  await page.getByLabel(field('Password')).fill(a.password);
  await page.getByLabel(field('The same password again')).fill(`${a.password}x`);
  res = await clickAndWait(page, page.getByRole('button', { name: 'Create my account' }));
  assert.equal(res.status(), 400);
  await axeNow(t, page, 'registering, two passwords');
  await page.goto(t.url('/account/signin'));
  await page.getByLabel(field('Email')).fill(a.email);
  await page.getByLabel(field('Password')).fill(a.password);
  res = await clickAndWait(page, page.getByRole('button', { name: 'Sign in' }));
  assert.equal(res.status(), 400);
  await axeNow(t, page, 'signing in, refused');

  // Signed in, the pages of the account, at 320px too.
  await register(t, page, a);
  const narrow = await t.newPage({ viewport: { width: 320, height: 640 } });
  await narrow.context().addCookies(await ctx.cookies());
  for (const path of ['/account', '/account/data', '/account/delete', '/account/signin',
                      '/account/register']) {
    await page.goto(t.url(path));
    await axeNow(t, page, path);
    await narrow.goto(t.url(path));
    const { scroll, inner } = await sidewaysScroll(narrow);
    assert.ok(scroll <= inner, `${path} scrolls sideways at 320px: ${scroll} > ${inner}`);
  }
}
