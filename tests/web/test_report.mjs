// Filing a request on 311 Online as a resident does it: from the home
// page, by searching, clicking and typing, through the review to the
// confirmation and the request's own page; then looking it up by number.
// Without JavaScript and with it; every kind of question; "Change
// something"; a refused form that keeps what was typed.
//
// tests/api/test_web.py checks the same pages over HTTP (every field
// stored, CSRF, limits, hostile input); these check what the browser does
// with them: real form submission, real labels, real navigation.

import assert from 'node:assert/strict';
import {
  checkReportKept, clickAndWait, escapeRe, expectedReview, facts, fillAndReview,
  fillReport, mainText, sampleReport, send, service, spanishCatalog,
} from './site.mjs';

/** home -> search "pothole" -> Pothole -> the form -> review -> send ->
 * confirmation -> the request's page -> the lookup form of the home page. */
async function fileAPotholeFromTheHomePage(t, page) {
  const r = sampleReport('DOT-POTHOLE');

  await page.goto(t.url('/'));
  await page.getByLabel('Search for a service').fill('pothole');
  await clickAndWait(page, page.getByRole('button', { name: 'Search', exact: true }));
  assert.equal(new URL(page.url()).search, '?q=pothole');
  const results = page.getByRole('region', { name: 'Services that match' });
  assert.deepEqual(await results.getByRole('link').allInnerTexts(), ['Pothole'],
                   'searching "pothole" should find the Pothole service only');

  await clickAndWait(page, results.getByRole('link', { name: 'Pothole', exact: true }));
  assert.equal(new URL(page.url()).pathname, '/report/DOT-POTHOLE');
  await page.getByRole('heading', { level: 1, name: 'Pothole' }).waitFor();

  // Every question the service asks, answered: a required radio, an
  // optional radio, a number; the description; the contact details.
  assert.deepEqual(service('DOT-POTHOLE').attrs.map((a) => a.datatype),
                   ['singlevaluelist', 'singlevaluelist', 'number']);
  await fillAndReview(page, r);

  // The review shows what was typed, and says nothing was sent yet.
  assert.match(await mainText(page), /Nothing has been sent yet/);
  assert.deepEqual(await facts(page), expectedReview(r));

  const id = await send(page);
  assert.ok(id, `no request number in the confirmation's address ${page.url()}`);

  // The confirmation: the number, announced as a status, on the
  // request's own page.
  const thanks = page.getByRole('status');
  await thanks.waitFor();
  assert.match(await thanks.innerText(), /Thank you: your request was received/);
  assert.equal(await thanks.locator('.srnum').innerText(), id);
  await page.getByRole('heading', { level: 1, name: `Request ${id}` }).waitFor();
  const shown = Object.fromEntries(await facts(page));
  assert.equal(shown.Service, 'Pothole');
  assert.equal(shown.Status, 'Received');
  assert.equal(shown.Location, r.address);
  assert.equal(shown.Description, r.description);
  assert.match(shown['Date reported'], /^\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC$/);
  // The contact details are sealed: no page shows them back.
  const text = await mainText(page);
  for (const secret of [r.email, r.lastName, r.phone])
    assert.ok(!text.includes(secret), `the request page shows the reporter's ${secret}`);
  assert.match(await page.locator('ol.history').innerText(), /Received/);

  // The same page later, from its address (no "thank you" then).
  const again = await page.goto(t.url(`/requests/${id}`));
  assert.equal(again.status(), 200);
  assert.equal(await page.getByRole('status').count(), 0);
  assert.equal(Object.fromEntries(await facts(page)).Location, r.address);

  // Looked up by number from the home page's form.
  await page.goto(t.url('/'));
  const lookup = page.getByRole('region', { name: 'Already reported?' });
  await lookup.getByLabel('Request number').fill(id);
  const res = await clickAndWait(page, lookup.getByRole('button', { name: 'Look it up' }));
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).pathname, `/requests/${id}`);
  await page.getByRole('heading', { level: 1, name: `Request ${id}` }).waitFor();
  assert.equal(Object.fromEntries(await facts(page)).Description, r.description);
  return id;
}

export async function test_file_a_pothole_without_javascript(t) {
  const page = await t.newPage({ javaScriptEnabled: false });
  await fileAPotholeFromTheHomePage(t, page);
  // The switch is real: no script runs in this context.
  const probe = await page.context().newPage();
  await probe.setContent('<p id="x">off</p><script>x.textContent = "on";</script>');
  assert.equal(await probe.locator('#x').innerText(), 'off');
}

export async function test_file_a_pothole_with_javascript(t) {
  await fileAPotholeFromTheHomePage(t, t.page);
  assert.equal(await t.page.evaluate(() => 1 + 1), 2, 'JavaScript is on in this context');
}

// The question types no pothole has: multiple choice (checkboxes), a
// long text, a short text, a date and time (datetime-local), each sent
// and shown on the review as typed.
export async function test_every_kind_of_question_reaches_the_review(t) {
  const seen = new Set();
  for (const code of ['DSNY-DUMPING', 'HPD-HEAT']) {
    const r = sampleReport(code);
    for (const a of service(code).attrs)
      seen.add(a.datatype);
    await t.page.goto(t.url(`/report/${code}`));
    if (code === 'HPD-HEAT') {
      // The browser's own date and time control, with its label in UTC.
      const since = t.page.getByLabel('Since when? (UTC)');
      assert.equal(await since.getAttribute('type'), 'datetime-local');
    }
    await fillAndReview(t.page, r);
    assert.deepEqual(await facts(t.page), expectedReview(r));
    const id = await send(t.page);
    assert.ok(id, `${code}: no request number (at ${t.page.url()})`);
    assert.equal(Object.fromEntries(await facts(t.page)).Location, r.address);
  }
  assert.deepEqual([...seen].sort(),
                   ['datetime', 'multivaluelist', 'singlevaluelist', 'string', 'text']);
}

// A batch service gives no number at once: the confirmation says so.
export async function test_a_batch_service_confirms_without_a_number(t) {
  const r = sampleReport('DSNY-BULK');
  await t.page.goto(t.url('/report/DSNY-BULK'));
  await fillAndReview(t.page, r);
  assert.equal(await send(t.page), null);
  const status = t.page.getByRole('status');
  await status.getByRole('heading', { name: 'Your report was received' }).waitFor();
  assert.match(await status.innerText(), /request number shortly/);
}

// "Change something" on the review goes back to the form with every value
// in place: each kind of question, the description, the contact details.
// Then a change goes through to a second review.
export async function test_change_something_keeps_every_value(t) {
  for (const code of ['DOT-POTHOLE', 'DPR-TREE', 'HPD-HEAT']) {
    const r = sampleReport(code);
    await t.page.goto(t.url(`/report/${code}`));
    await fillAndReview(t.page, r);
    const res = await clickAndWait(t.page, t.page.getByRole('button', { name: 'Change something' }));
    assert.equal(res.status(), 200);
    assert.equal(new URL(t.page.url()).pathname, `/report/${code}`);
    await t.page.getByRole('heading', { level: 1, name: service(code).name }).waitFor();
    await checkReportKept(t.page, r);
    if (code === 'DPR-TREE') {
      // Untick a box and change the number: the second review shows that.
      const blocking = service(code).attrs.find((a) => a.code === 'BLOCKING');
      const dropped = blocking.values.find((v) => v.key === r.answers.BLOCKING[0]);
      await t.page.getByRole('group', { name: /^What is it blocking\?/ })
        .getByLabel(dropped.name, { exact: true }).uncheck();
      await t.page.getByLabel('About how wide is the trunk, in inches?').fill('14');
      const r2 = { ...r, answers: { ...r.answers, BLOCKING: r.answers.BLOCKING.slice(1),
                                    DIAMETER: '14' } };
      await fillAndReview(t.page, { code });
      assert.deepEqual(await facts(t.page), expectedReview(r2));
    }
  }
}

// A form the server refuses (no address) shows the problem first,
// announced, and keeps everything that was typed; filling the address
// then goes through.
export async function test_a_refused_form_keeps_what_was_typed(t) {
  t.expectConsoleError(/status of 400/);
  const r = sampleReport('DOT-POTHOLE');
  const { address, ...noAddress } = r;
  await t.page.goto(t.url('/report/DOT-POTHOLE'));
  await fillReport(t.page, noAddress);
  const res = await clickAndWait(t.page, t.page.getByRole('button', { name: 'Review the report' }));
  assert.equal(res.status(), 400);
  const problem = t.page.getByRole('alert');
  await problem.waitFor();
  assert.match(await problem.innerText(), /Please check the form/);
  // The problem comes before the form, so it is read first.
  const order = await t.page.evaluate(() => {
    const p = document.getElementById('problem');
    const f = document.querySelector('main form');
    return p && f ? p.compareDocumentPosition(f) & Node.DOCUMENT_POSITION_FOLLOWING : 0;
  });
  assert.ok(order, 'the problem is not shown before the form');
  await checkReportKept(t.page, { ...noAddress, address: '' });

  await t.page.getByLabel(/^Address or place/).fill(address);
  await fillAndReview(t.page, { code: r.code });
  assert.deepEqual(await facts(t.page), expectedReview(r));
}

// What the refusal says must make sense to the person who sees it: the
// question as the form asks it, in the page's language, not the API's
// field names (WCAG 3.3.1 and 3.3.3: the item in error identified and
// described in text, with a suggestion).
export async function test_a_refusal_names_the_question_as_the_form_asks_it(t) {
  t.expectConsoleError(/status of 400/);
  const problems = [];
  const cases = [
    { what: 'no address', fill: { address: '', answers: { LOCATION: 'ROADWAY' } },
      want: /address/i },
    { what: 'no answer to a required question',
      fill: { address: '1 Main St', answers: {} }, want: /Where is the pothole\?/ },
    { what: 'a number that is not one',
      fill: { address: '1 Main St', answers: { LOCATION: 'ROADWAY', COUNT: 'three' } },
      want: /How many potholes are on this block\?/ },
  ];
  for (const c of cases) {
    await t.page.goto(t.url('/report/DOT-POTHOLE'));
    await fillReport(t.page, { code: 'DOT-POTHOLE', ...c.fill });
    const res = await clickAndWait(t.page,
                                   t.page.getByRole('button', { name: 'Review the report' }));
    assert.equal(res.status(), 400, c.what);
    const said = (await t.page.locator('#problem p').innerText()).trim();
    if (!c.want.test(said) || /attribute\[|address_string|lat and long|address_id|service [A-Z]+-/
      .test(said))
      problems.push(`${c.what}: the page says "${said}" (want the form's own words, ${c.want})`);
  }
  // And in Spanish on a Spanish page.
  const es = await t.newPage({ locale: 'es-ES' });
  await es.goto(t.url('/report/DOT-POTHOLE'));
  await es.getByRole('group',
                     { name: new RegExp(`^${escapeRe(spanishCatalog('Where is the pothole?'))}`) })
    .getByLabel(spanishCatalog('Crosswalk'), { exact: true }).check();
  await clickAndWait(es, es.locator('main form button[type=submit]'));
  const saidEs = (await es.locator('#problem p').innerText()).trim();
  if (/\b(is|are|required|must|and|or)\b/.test(saidEs))
    problems.push(`Spanish page, no address: the page says "${saidEs}" (English)`);
  assert.ok(problems.length === 0,
            `the refusal is in the API's words, not the form's:\n  ${problems.join('\n  ')}`);
}
