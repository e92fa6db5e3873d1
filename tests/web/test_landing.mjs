// The landing page (GET /), as served before the residents' website: the
// first page tests, and the model for the next ones (see README.md).
//
// Every exported function named test* is a test. It gets the fixture t:
//   t.page, t.context   a fresh page in a fresh browser context (desktop, en-US)
//   t.url(path)         the server's URL for path
//   t.fetch(path, opts) one raw HTTP request: status, headers, header(name), text()
//   t.axeCheck(page)    axe-core, WCAG 2.1 A/AA; fails listing the violations
//   t.newPage(opts)     another page in another fresh context ({ viewport: 'phone' }, locale...)
// Console errors, uncaught exceptions and requests to other origins fail a test
// unless it allows them (t.expectConsoleError(re), t.allowOtherOrigin(re)).

import assert from 'node:assert/strict';
import { parseCsp } from './harness.mjs';

export async function test_loads_with_lang_title_and_h1(t) {
  const res = await t.page.goto(t.url('/'));
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-type'], /^text\/html; charset=utf-8$/i);
  assert.equal(await t.page.getAttribute('html', 'lang'), 'en');
  assert.ok((await t.page.title()).trim().length > 0, 'the page has an empty <title>');
  assert.equal(await t.page.locator('h1').count(), 1, 'want exactly one h1');
  assert.ok(await t.page.locator('h1').isVisible());
  assert.deepEqual(t.consoleErrors, []);
}

export async function test_passes_axe_wcag21_aa(t) {
  await t.page.goto(t.url('/'));
  await t.axeCheck(t.page);
}

export async function test_fits_a_phone_screen(t) {
  const page = await t.newPage({ viewport: 'phone' });
  await page.goto(t.url('/'));
  const { scroll, inner } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  assert.ok(scroll <= inner, `the page scrolls sideways on a phone: ${scroll}px > ${inner}px`);
  await t.axeCheck(page);
}

// What a policy served by Civic311 must say, whatever else it lists:
// no framing at all, no inline or eval'd script, nothing from another site.
function checkCsp(header, where) {
  assert.ok(header, `${where}: no Content-Security-Policy`);
  const csp = parseCsp(header);
  assert.deepEqual(csp.get('frame-ancestors'), ["'none'"], `${where}: ${header}`);
  assert.deepEqual(csp.get('default-src'), ["'none'"], `${where}: ${header}`);
  const scripts = csp.get('script-src') || csp.get('default-src');
  for (const bad of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", 'data:', '*'])
    assert.ok(!scripts.includes(bad), `${where}: script sources allow ${bad}: ${header}`);
  for (const [name, sources] of csp)
    for (const s of sources)
      assert.ok(["'self'", "'none'", 'data:'].includes(s),
                `${where}: ${name} allows ${s} (no third party): ${header}`);
}

export async function test_every_response_of_the_page_has_the_csp(t) {
  const responses = [];
  t.page.on('response', (r) => responses.push(r));
  await t.page.goto(t.url('/'), { waitUntil: 'load' });
  assert.ok(responses.length >= 1);
  for (const r of responses)
    checkCsp((await r.allHeaders())['content-security-policy'], r.url());
  // Exactly one policy header (a second one would be enforced too), with
  // the other headers that go with it.
  const raw = await t.fetch('/');
  assert.equal(raw.header('Content-Security-Policy').length, 1, raw.rawHeaders.join('\n'));
  checkCsp(raw.headers['content-security-policy'], 'GET / (raw)');
  assert.deepEqual(raw.header('X-Content-Type-Options'), ['nosniff'],
                   'one X-Content-Type-Options: nosniff');
  assert.deepEqual(raw.header('Referrer-Policy'), ['no-referrer'], 'one Referrer-Policy');
}

// The policy as Chromium enforces it on the page as served: an inline
// script added to the page does not run, and the page cannot be framed.
export async function test_chromium_enforces_the_csp(t) {
  await t.page.goto(t.url('/'));
  t.expectConsoleError(/Content Security Policy/);
  const ran = await t.page.evaluate(() => new Promise((resolve) => {
    let violation = null;
    document.addEventListener('securitypolicyviolation', (e) => {
      violation = e.violatedDirective;
    });
    const s = document.createElement('script');
    s.textContent = 'window.__civic311Inline = true;';
    document.body.appendChild(s);
    setTimeout(() => resolve({ inline: window.__civic311Inline === true, violation }), 100);
  }));
  assert.equal(ran.inline, false, 'an inline script ran despite the CSP');
  assert.match(ran.violation ?? '', /^script-src/);

  const framer = await t.newPage();
  t.expectConsoleError(/frame-ancestors/);
  const refused = framer.waitForEvent('console', (m) => /frame-ancestors 'none'/.test(m.text()));
  await framer.setContent(`<iframe src="${t.url('/')}"></iframe>`);
  await refused;
  const frame = framer.frames()[1];
  assert.ok(frame, 'no iframe');
  assert.ok(!frame.url().startsWith(t.url('/')),
            `the landing page rendered inside another page's iframe (${frame.url()})`);
}

// Every link of the page ends, after at most 5 redirects on the same
// origin, at a 200.
export async function test_every_link_leads_somewhere(t) {
  await t.page.goto(t.url('/'));
  const hrefs = await t.page.$$eval('a[href]', (as) => as.map((a) => a.href));
  assert.ok(hrefs.length > 0);
  const origin = new URL(t.url('/')).origin;
  for (const href of new Set(hrefs)) {
    if (new URL(href).origin !== origin)
      continue; // links to other sites go through the exit notice (issue 4, P10)
    let url = href;
    let r = await t.fetch(url);
    for (let hops = 0; [301, 302, 303, 307, 308].includes(r.status) && hops < 5; hops++) {
      assert.ok(r.headers.location, `${url} answers ${r.status} without a Location`);
      url = new URL(r.headers.location, url).href;
      assert.equal(new URL(url).origin, origin, `${href} redirects off the site to ${url}`);
      r = await t.fetch(url);
    }
    assert.equal(r.status, 200, `${href} ends at ${url}, which answers ${r.status}`);
  }
}

export async function test_unknown_path_is_404(t) {
  const raw = await t.fetch('/no-such-page');
  assert.equal(raw.status, 404);
  t.expectConsoleError(/404/);
  const res = await t.page.goto(t.url('/no-such-page'));
  assert.equal(res.status(), 404);
}
