// The reading pages as a resident uses them: search (results and none),
// the exit notice before another site (P10), the privacy policy (P12),
// the lookup and its mistakes, the 404 page. tests/api/test_web.py checks
// their HTML and headers; these click through them.

import assert from 'node:assert/strict';
import { SERVICES, clickAndWait, facts, fileQuickly, mainText } from './site.mjs';

export async function test_search_finds_services_and_says_when_none_match(t) {
  await t.page.goto(t.url('/'));
  // Every demo service is listed under its group, each a link to its form.
  const all = t.page.getByRole('region', { name: 'All services' });
  const names = await all.getByRole('link').allInnerTexts();
  assert.deepEqual([...names].sort(), SERVICES.map((s) => s.name).sort());
  for (const g of new Set(SERVICES.map((s) => s.group)))
    await all.getByRole('heading', { level: 3, name: g, exact: true }).waitFor();

  // Two words, any case: only services with both.
  const search = t.page.getByLabel('Search for a service');
  await search.fill('NOISE vehicle');
  await search.press('Enter');
  await t.page.waitForURL(/\?q=NOISE\+vehicle$/);
  const results = t.page.getByRole('region', { name: 'Services that match' });
  assert.deepEqual(await results.getByRole('link').allInnerTexts(), ['Noise - Vehicle']);
  assert.equal(await t.page.getByLabel('Search for a service').inputValue(), 'NOISE vehicle');

  // Nothing matches: it says so, and the whole list is still there.
  await t.page.getByLabel('Search for a service').fill('unicorn');
  await clickAndWait(t.page, t.page.getByRole('button', { name: 'Search', exact: true }));
  const none = t.page.getByRole('region', { name: 'Services that match' });
  assert.match(await none.innerText(), /No service matches these words/);
  assert.equal(await none.getByRole('link').count(), 0);
  assert.equal(await t.page.getByRole('region', { name: 'All services' }).getByRole('link')
    .count(), SERVICES.length);
}

// The exit notice: says the resident is leaving the official site and its
// policies; OK goes to the address given (not followed here: the browser
// never leaves the machine), Cancel goes home.
export async function test_exit_notice_says_so_with_ok_and_cancel(t) {
  const to = 'https://example.org/page';
  const res = await t.page.goto(t.url(`/leaving?to=${encodeURIComponent(to)}`));
  assert.equal(res.status(), 200);
  await t.page.getByRole('heading', { level: 1, name: 'You are leaving the official site' })
    .waitFor();
  const text = await mainText(t.page);
  assert.match(text, /another site/);
  assert.match(text, /our policies no longer apply/);
  assert.ok(text.includes(to), 'the notice does not show where the link goes');
  const ok = t.page.getByRole('link', { name: 'OK, continue' });
  assert.equal(await ok.getAttribute('href'), to);
  assert.deepEqual((await ok.getAttribute('rel')).split(/\s+/).sort(), ['noopener', 'noreferrer']);
  assert.equal(await ok.getAttribute('target'), null, 'OK opens another window');
  // OK comes first, Cancel right after it, both buttons a finger can hit.
  const cancel = t.page.getByRole('link', { name: 'Cancel' });
  for (const l of [ok, cancel]) {
    const b = await l.boundingBox();
    assert.ok(b.height >= 24 && b.width >= 24, `a small target: ${JSON.stringify(b)}`);
  }
  await clickAndWait(t.page, cancel);
  assert.equal(t.page.url(), t.url('/'));
  await t.page.getByRole('heading', { level: 1, name: 'Report a problem to the city' }).waitFor();
}

export async function test_exit_notice_refuses_what_is_not_a_web_address(t) {
  t.expectConsoleError(/status of 400/);
  const res = await t.page.goto(t.url('/leaving?to=javascript:alert(1)'));
  assert.equal(res.status(), 400);
  await t.page.getByRole('heading', { level: 1, name: 'This link is not valid' }).waitFor();
  assert.equal(await t.page.locator('main a[href^="javascript:"]').count(), 0);
  await clickAndWait(t.page, t.page.getByRole('link', { name: 'Go to the home page' }));
  assert.equal(t.page.url(), t.url('/'));
}

// The privacy policy, reached from the footer and from the report form's
// contact details: its date and the periods, as the resident reads them.
export async function test_privacy_policy_from_the_footer_and_the_form(t) {
  await t.page.goto(t.url('/'));
  await clickAndWait(t.page, t.page.getByRole('contentinfo')
    .getByRole('link', { name: 'Privacy policy' }));
  assert.equal(t.page.url(), t.url('/privacy'));
  await t.page.getByRole('heading', { level: 1, name: 'Privacy policy' }).waitFor();
  const updated = t.page.locator('main .updated time');
  assert.match(await updated.getAttribute('datetime'), /^\d{4}-\d\d-\d\d$/);
  assert.match(await t.page.locator('main .updated').innerText(), /^Last updated: \d{4}-\d\d-\d\d$/);
  for (const h of ['What we collect and why', 'How long we keep it', 'Who can see it', 'Cookies'])
    await t.page.getByRole('heading', { level: 2, name: h }).waitFor();
  const periods = await t.page.getByRole('heading', { name: 'How long we keep it' })
    .locator('xpath=following-sibling::ul[1]/li').allInnerTexts();
  assert.equal(periods.length, 5, periods.join('\n')); // contact, photos, device, recordings, unsent photos
  for (const p of periods)
    assert.match(p, /: (\d+ days? after .*, then erased|kept until you ask for it to be erased)$/);
  assert.match(await mainText(t.page), /We never ask for your age or date of birth/);

  await t.page.goto(t.url('/report/DOT-POTHOLE'));
  await clickAndWait(t.page, t.page.getByRole('link', { name: 'How we protect them' }));
  assert.equal(t.page.url(), t.url('/privacy'));
}

// The lookup page (the footer's link): a number that is not one is
// explained next to the field; an unknown number gets "not found".
export async function test_lookup_page_and_its_mistakes(t) {
  t.expectConsoleError(/status of 40[04]/);
  const { id } = await fileQuickly(t.page, t.base);

  await t.page.goto(t.url('/'));
  await clickAndWait(t.page, t.page.getByRole('contentinfo')
    .getByRole('link', { name: 'Look up a request' }));
  assert.equal(t.page.url(), t.url('/requests'));
  await t.page.getByRole('heading', { level: 1, name: 'Look up a request' }).waitFor();
  assert.equal(await t.page.getByRole('alert').count(), 0);

  // A typo: the browser itself stops it (pattern="[0-9]*"), nothing is
  // sent and the field says why.
  const field = t.page.getByLabel('Request number');
  await field.fill(`SR-${id}`);
  await t.page.getByRole('button', { name: 'Look it up' }).click();
  assert.equal(t.page.url(), t.url('/requests'));
  const why = await field.evaluate((el) => (el.checkValidity() ? '' : el.validationMessage));
  assert.ok(why, 'the browser let a number with letters through');

  // Typed into the address bar (or from a browser that does not check):
  // the server explains what a number looks like, tied to the field.
  let res = await t.page.goto(t.url(`/requests?id=SR-${id}`));
  assert.equal(res.status(), 400);
  const err = t.page.getByRole('alert');
  assert.match(await err.innerText(), /digits only, like 1024/);
  const again = t.page.getByLabel('Request number');
  assert.equal(await again.getAttribute('aria-invalid'), 'true');
  assert.equal(await again.getAttribute('aria-describedby'), await err.getAttribute('id'));

  // Corrected: the request.
  await t.page.getByLabel('Request number').fill(id);
  res = await clickAndWait(t.page, t.page.getByRole('button', { name: 'Look it up' }));
  assert.equal(res.status(), 200);
  assert.equal(new URL(t.page.url()).pathname, `/requests/${id}`);
  assert.equal(Object.fromEntries(await facts(t.page)).Service, 'Pothole');

  // A number nobody was given.
  await t.page.goto(t.url('/requests'));
  await t.page.getByLabel('Request number').fill('999999999');
  res = await clickAndWait(t.page, t.page.getByRole('button', { name: 'Look it up' }));
  assert.equal(res.status(), 404);
  await t.page.getByRole('heading', { level: 1, name: 'Request not found' }).waitFor();
  assert.match(await mainText(t.page), /Check the number on your confirmation/);
}

export async function test_an_unknown_page_or_service_says_so_and_leads_home(t) {
  t.expectConsoleError(/status of 404/);
  for (const [p, h1] of [['/no-such-page', 'Page not found'],
                         ['/report/NO-SUCH-SERVICE', 'Service not found']]) {
    const res = await t.page.goto(t.url(p));
    assert.equal(res.status(), 404, p);
    await t.page.getByRole('heading', { level: 1, name: h1 }).waitFor();
    await clickAndWait(t.page, t.page.getByRole('main').getByRole('link', { name: 'Go to the home page' }));
    assert.equal(t.page.url(), t.url('/'));
  }
}
