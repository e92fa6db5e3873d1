// Spanish and English: the browser's language chooses (a Chromium with
// the es-ES locale sends Accept-Language: es-ES), the switch changes it
// and comes back to the same page, and a Spanish report goes as far as
// the review. The Spanish strings are read from po/es.po at test time, so
// a translator's edit does not break these tests.

import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO } from './harness.mjs';
import {
  catalogTexts, checkReportKept, clickAndWait, escapeRe, facts, fillReport, mainText, readPo,
  sampleReport, spanish, spanishCatalog, spanishLabels,
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
  assert.deepEqual(after, before.map(spanishCatalog), 'the same services, named in Spanish');

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
  // The services by their Spanish names (data/demo/catalog-es.po).
  await clickAndWait(page, page.getByRole('link', { name: spanishCatalog('Pothole'), exact: true }));
  await page.getByRole('heading', { level: 1, name: spanishCatalog('Pothole') }).waitFor();
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

// The service catalog is Spanish on Spanish pages (its translation,
// data/demo/catalog-es.po, is built in): no English catalog text shows,
// and what would stay English (a city's catalog only partly translated)
// is marked lang="en" (WCAG 3.1.2; tests/api/test_web_catalog_es.py).
export async function test_the_catalog_is_spanish_on_spanish_pages(t) {
  const page = await t.newPage({ locale: 'es-ES' });
  const tr = readPo(path.join(REPO, 'data', 'demo', 'catalog-es.po'));
  // English texts whose Spanish differs ("No" is both).
  const english = [...catalogTexts()].filter((e) => tr.get(e) !== e);
  const left = [];
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
        if (want.has(text) && !n.parentElement.closest('[lang="en"]'))
          out.push(text);
      }
      return out;
    }, english);
    left.push(...found.map((f) => `${p}: "${f.slice(0, 60)}"`));
  }
  assert.deepEqual(left, [], 'English catalog text on Spanish pages, unmarked');
  await page.goto(t.url('/report/DOT-POTHOLE'));
  await page.getByRole('heading', { level: 1, name: tr.get('Pothole') }).waitFor();
  await page.getByRole('radio', { name: tr.get('Crosswalk') }).waitFor();
}
