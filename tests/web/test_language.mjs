// Spanish and English: the browser's language chooses (a Chromium with
// the es-ES locale sends Accept-Language: es-ES), the switch changes it
// and comes back to the same page, and a Spanish report goes as far as
// the review. The Spanish strings are read from po/es.po at test time, so
// a translator's edit does not break these tests.

import assert from 'node:assert/strict';
import {
  catalogTexts, checkReportKept, clickAndWait, escapeRe, facts, fillReport, mainText, sampleReport, spanish,
  spanishLabels,
} from './site.mjs';

export async function test_a_spanish_browser_gets_spanish_pages(t) {
  const page = await t.newPage({ locale: 'es-ES' });
  let sent = null;
  page.on('request', (r) => { sent ??= r.headers()['accept-language']; });
  await page.goto(t.url('/'));
  assert.match(sent ?? '', /^es-ES\b/, 'Chromium did not send the es-ES locale');
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  await page.getByRole('heading', { level: 1, name: spanish('Report a problem to the city') })
    .waitFor();
  assert.match(await page.title(), new RegExp(`^${escapeRe(spanish('Report a problem'))} - `));
  await page.getByLabel(spanish('Search for a service')).waitFor();
  await page.getByRole('link', { name: spanish('Skip to the main content') }).waitFor();
  await page.getByRole('link', { name: spanish('Privacy policy') }).waitFor();
  // The switch names each language in itself, marked with its language.
  const nav = page.getByRole('navigation', { name: spanish('Language') });
  const english = nav.getByRole('link', { name: 'English' });
  assert.equal(await english.getAttribute('lang'), 'en');
  assert.equal(await english.getAttribute('hreflang'), 'en');
  assert.equal(await nav.locator('[aria-current="true"]').innerText(), 'Español');

  // Every page of the site, in Spanish.
  for (const [p, h1] of [['/privacy', 'Privacy policy'], ['/requests', 'Look up a request'],
                         ['/leaving?to=https://example.org/', 'You are leaving the official site']]) {
    await page.goto(t.url(p));
    assert.equal(await page.getAttribute('html', 'lang'), 'es', p);
    await page.getByRole('heading', { level: 1, name: spanish(h1) }).waitFor();
  }
}

// The switch: from a page with a query, to Spanish and back to English,
// landing each time on the same page.
export async function test_the_switch_changes_language_on_the_same_page(t) {
  await t.page.goto(t.url('/?q=street+light'));
  const before = await t.page.getByRole('region', { name: 'Services that match' })
    .getByRole('link').allInnerTexts();
  assert.ok(before.includes('Street Light Out'), before.join(', '));

  await clickAndWait(t.page, t.page.getByRole('link', { name: 'Español' }));
  assert.equal(t.page.url(), t.url('/?q=street+light'));
  assert.equal(await t.page.getAttribute('html', 'lang'), 'es');
  assert.equal(await t.page.getByLabel(spanish('Search for a service')).inputValue(),
               'street light');
  const after = await t.page.getByRole('region', { name: spanish('Services that match') })
    .getByRole('link').allInnerTexts();
  assert.deepEqual(after, before);

  // The choice outlives the page: another page is Spanish too, even
  // though the browser asks for English.
  await t.page.goto(t.url('/report/DOT-POTHOLE'));
  assert.equal(await t.page.getAttribute('html', 'lang'), 'es');
  await t.page.getByRole('button', { name: spanish('Review the report') }).waitFor();

  await clickAndWait(t.page, t.page.getByRole('link', { name: 'English' }));
  assert.equal(t.page.url(), t.url('/report/DOT-POTHOLE'));
  assert.equal(await t.page.getAttribute('html', 'lang'), 'en');
  await t.page.getByRole('button', { name: 'Review the report' }).waitFor();
}

// A Spanish resident's report, up to the review: Spanish labels, buttons
// and review; what was typed kept through "Change something".
export async function test_a_spanish_report_up_to_the_review(t) {
  const page = await t.newPage({ locale: 'es-ES', viewport: 'phone' });
  await page.goto(t.url('/'));
  // The services keep the catalog's names (the demo catalog is English).
  await clickAndWait(page, page.getByRole('link', { name: 'Pothole', exact: true }));
  await page.getByRole('heading', { level: 1, name: 'Pothole' }).waitFor();
  await page.getByRole('group', { name: spanish('Where is the problem?') }).waitFor();
  const r = sampleReport('DOT-POTHOLE', {
    address: 'Calle 116 Este y Avenida Lexington',
    description: `Un bache grande junto a la parada del autobús, ${Date.now()}.`,
    firstName: 'Lucía', lastName: 'Núñez', email: `lucia.${Date.now()}@example.org`,
  });
  const labels = spanishLabels();
  await fillReport(page, r, labels);
  const res = await clickAndWait(page, page.getByRole('button', { name: spanish('Review the report') }));
  assert.equal(res.status(), 200, await mainText(page));
  await page.getByRole('heading', { level: 1, name: spanish('Check your report') }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  assert.match(await mainText(page),
               new RegExp(escapeRe(spanish('Nothing has been sent yet. Check the details, then send.'))));
  const shown = Object.fromEntries(await facts(page));
  assert.equal(shown[spanish('Location')], r.address);
  assert.equal(shown[spanish('Description')], r.description);
  assert.equal(shown[spanish('First name')], 'Lucía');
  assert.equal(shown[spanish('Last name')], 'Núñez');
  assert.equal(shown[spanish('Email')], r.email);
  await page.getByRole('button', { name: spanish('Send the report') }).waitFor();

  await clickAndWait(page, page.getByRole('button', { name: spanish('Change something') }));
  await checkReportKept(page, r, labels);
}

// WCAG 3.1.2 (language of parts, AA): on a Spanish page, text that stays
// English (the demo catalog's groups, service names and descriptions,
// questions and choices are not translated) must say so with lang="en",
// or a screen reader reads it with Spanish pronunciation.
export async function test_english_catalog_text_on_spanish_pages_is_marked(t) {
  const page = await t.newPage({ locale: 'es-ES' });
  const english = [...catalogTexts()];
  const unmarked = [];
  for (const p of ['/', '/report/DOT-POTHOLE', '/report/DSNY-BULK']) {
    await page.goto(t.url(p));
    assert.equal(await page.getAttribute('html', 'lang'), 'es');
    const found = await page.evaluate((texts) => {
      const want = new Set(texts);
      const out = [];
      const walk = document.createTreeWalker(document.querySelector('main'),
                                             NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const text = n.textContent.trim();
        if (want.has(text))
          out.push({ text, lang: n.parentElement.closest('[lang]').getAttribute('lang') });
      }
      return out;
    }, english);
    assert.ok(found.length > 0, `${p}: no catalog text found on the page`);
    for (const f of found)
      if (f.lang !== 'en')
        unmarked.push(`${p}: "${f.text.slice(0, 60)}" (in lang="${f.lang}")`);
  }
  assert.ok(unmarked.length === 0, `${unmarked.length} English texts of the catalog on ` +
                                   `Spanish pages without lang="en", e.g.:\n  ` +
                                   unmarked.slice(0, 8).join('\n  '));
}
