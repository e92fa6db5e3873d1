// The one cookie (P9) as Chromium stored it, not as the header read: what
// context.cookies() returns is what the browser keeps and sends back.
// tests/api/test_web.py checks the Set-Cookie header itself.

import assert from 'node:assert/strict';
import { clickAndWait, sampleReport, fillAndReview, send } from './site.mjs';

function checkCookie(cookies, where) {
  assert.equal(cookies.length, 1,
               `${where}: want exactly one cookie, got ${JSON.stringify(cookies)}`);
  const [c] = cookies;
  assert.equal(c.name, 'c311', where);
  assert.equal(c.httpOnly, true, `${where}: not HttpOnly`);
  assert.equal(c.sameSite, 'Lax', where);
  assert.equal(c.expires, -1, `${where}: not a session cookie (expires ${c.expires})`);
  assert.equal(c.secure, false, `${where}: Secure over plain http (the browser would not ` +
                                 `send it back)`);
  assert.equal(c.path, '/', where);
  assert.equal(c.domain, '127.0.0.1', `${where}: a host-only cookie of the site`);
  return c;
}

export async function test_one_session_cookie_as_the_browser_keeps_it(t) {
  await t.page.goto(t.url('/'));
  const first = checkCookie(await t.context.cookies(), 'after the home page');
  // Scripts cannot read it (HttpOnly), even the page's own.
  assert.equal(await t.page.evaluate(() => document.cookie), '');

  // The same session across pages and a whole report: never a second
  // cookie, never a new id.
  await t.page.goto(t.url('/report/DOT-POTHOLE'));
  await fillAndReview(t.page, sampleReport('DOT-POTHOLE'));
  assert.ok(await send(t.page));
  const after = checkCookie(await t.context.cookies(), 'after filing a report');
  assert.equal(after.value, first.value, 'the session id changed while filing');

  // The language switch keeps the session and adds the language to the
  // same cookie.
  await clickAndWait(t.page, t.page.getByRole('link', { name: 'Español' }));
  assert.equal(await t.page.getAttribute('html', 'lang'), 'es');
  const es = checkCookie(await t.context.cookies(), 'after the language switch');
  assert.equal(es.value, `${first.value}~es`);
  await t.page.goto(t.url('/privacy'));
  checkCookie(await t.context.cookies(), 'after another page in Spanish');
  // No storage of any other kind either.
  assert.deepEqual(await t.page.evaluate(() => [localStorage.length, sessionStorage.length]),
                   [0, 0]);
}
