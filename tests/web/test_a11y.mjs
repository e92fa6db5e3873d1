// Accessibility of every page and state of 311 Online: axe-core (WCAG 2.0
// and 2.1, A and AA) on each as served, at phone (390x844) and desktop
// (1280x800) sizes for the main ones; the keyboard's way in (the skip
// link); a name for every form control, found the way Playwright's
// getByLabel (and a screen reader) finds it; no sideways scrolling at
// 320px (WCAG 1.4.10, reflow).

import assert from 'node:assert/strict';
import { preloadAxe } from './harness.mjs';
import {
  SERVICES, clickAndWait, fileQuickly, fillAndReview, fillReport, sampleReport, send, spanish,
  spanishCatalog,
  sidewaysScroll,
} from './site.mjs';

/** A page whose context loads axe-core with every document (see
 * preloadAxe): these tests audit many pages each. */
async function auditPage(t, opts = {}) {
  const ctx = await t.newContext(opts);
  await preloadAxe(ctx);
  return ctx.newPage();
}

/** axe on the page at path (status as expected), naming the page in the
 * failure. */
async function axeAt(t, page, path, status = 200) {
  const res = await page.goto(t.url(path));
  assert.equal(res.status(), status, `${path}: status ${res.status()}`);
  await axeNow(t, page, path);
}

async function axeNow(t, page, what) {
  try {
    await t.axeCheck(page);
  } catch (e) {
    e.message = `${what} at ${JSON.stringify(page.viewportSize())}:\n${e.message}`;
    throw e;
  }
}

// The main pages at both sizes, the others at the phone's (their layout is
// the same column at both; the desktop one is in the report's states).
export async function test_axe_reading_pages(t) {
  t.expectConsoleError(/status of 40[04]/);
  for (const viewport of ['phone', 'desktop']) {
    const page = await auditPage(t, { viewport });
    await axeAt(t, page, '/');
    await axeAt(t, page, '/?q=pothole');              // search results
    await axeAt(t, page, '/report/DOT-POTHOLE');      // a form
    await axeAt(t, page, '/report/DEP-GAS');          // a form with the 911 notice
    if (viewport === 'phone') {
      await axeAt(t, page, '/privacy');
      await axeAt(t, page, '/leaving?to=https%3A%2F%2Fexample.org%2Fpage');
      await axeAt(t, page, '/?q=unicorn');            // no results
      await axeAt(t, page, '/requests');              // the lookup
      await axeAt(t, page, '/requests?id=abc', 400);  // the lookup with its error
      await axeAt(t, page, '/no-such-page', 404);
      await axeAt(t, page, '/requests/999999999', 404);
    }
  }
}

// Every demo service's form, empty, at desktop size.
export async function test_axe_every_service_form(t) {
  assert.equal(SERVICES.length, 18);
  const page = await auditPage(t);
  for (const s of SERVICES)
    await axeAt(t, page, `/report/${encodeURIComponent(s.code)}`);
}

// Through a report, at both sizes: the form refused, the form with the
// 911 notice brought by the description, the review, the confirmation,
// the request's page.
export async function test_axe_every_state_of_a_report(t) {
  t.expectConsoleError(/status of 400/);
  for (const viewport of ['phone', 'desktop']) {
    const page = await auditPage(t, { viewport });
    await page.goto(t.url('/report/DOT-POTHOLE'));
    const r = sampleReport('DOT-POTHOLE');
    await fillReport(page, { ...r, address: '' });
    let res = await clickAndWait(page, page.getByRole('button', { name: 'Review the report' }));
    assert.equal(res.status(), 400);
    await axeNow(t, page, 'the refused form');

    await page.getByLabel(/^Address or place/).fill(r.address);
    await page.getByLabel('Description', { exact: true })
      .fill('there is smoke coming from the building');
    res = await clickAndWait(page, page.getByRole('button', { name: 'Review the report' }));
    assert.equal(res.status(), 200);
    await page.getByRole('alert').waitFor();
    await axeNow(t, page, 'the form with the 911 notice');

    await page.getByLabel('This is not an emergency: nobody is in danger.').check();
    await fillAndReview(page, { code: 'DOT-POTHOLE' });
    await axeNow(t, page, 'the review page');

    const id = await send(page);
    await page.getByRole('status').waitFor();
    await axeNow(t, page, 'the confirmation');
    await axeAt(t, page, `/requests/${id}`);
  }
}

export async function test_axe_spanish_pages(t) {
  const page = await auditPage(t, { locale: 'es-ES', viewport: 'phone' });
  await axeAt(t, page, '/');
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  await axeAt(t, page, '/report/DOT-POTHOLE');
  await page.getByLabel(new RegExp(`^${spanish('Address or place')}`)).fill('Calle 116 Este');
  await page.getByRole('radio', { name: spanishCatalog('Crosswalk') }).check();
  await clickAndWait(page, page.getByRole('button', { name: spanish('Review the report') }));
  await page.getByRole('heading', { level: 1, name: spanish('Check your report') }).waitFor();
  await axeNow(t, page, 'the Spanish review page');
  const desktop = await auditPage(t, { locale: 'es-ES' });
  await axeAt(t, desktop, '/');
}

// The keyboard's way in: the first Tab reaches the skip link, which is
// then visible, and Enter moves focus to main.
export async function test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(t) {
  for (const viewport of ['desktop', 'phone']) {
    const page = await t.newPage({ viewport });
    const paths = viewport === 'desktop' ? ['/', '/report/DOT-POTHOLE', '/privacy'] : ['/'];
    for (const path of paths) {
      await page.goto(t.url(path));
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const a = document.activeElement;
        const r = a.getBoundingClientRect();
        return { tag: a.tagName, text: a.textContent, href: a.getAttribute('href'),
                 outline: getComputedStyle(a).outlineStyle,
                 visible: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 &&
                          r.right <= innerWidth && r.bottom <= innerHeight };
      });
      const where = `${path} (${viewport})`;
      assert.equal(focused.tag, 'A', `${where}: the first Tab stop is a ${focused.tag}`);
      assert.equal(focused.text, 'Skip to the main content', where);
      assert.equal(focused.href, '#main', where);
      assert.ok(focused.visible, `${where}: the focused skip link is not on the screen`);
      assert.notEqual(focused.outline, 'none', `${where}: the focused skip link has no outline`);
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'main',
                   `${where}: Enter on the skip link did not move focus to main`);
      // The next Tab goes on from main (its first link or field, or the
      // footer), not back to the header.
      await page.keyboard.press('Tab');
      const after = await page.evaluate(() => {
        const main = document.querySelector('main');
        const a = document.activeElement;
        return main.contains(a) ||
               Boolean(main.compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING);
      });
      assert.ok(after, `${where}: Tab after the skip link goes back before main`);
    }
  }
}

const CONTROLS = 'input:not([type=hidden]), textarea, select, button';
const FIELD_ROLES = ['textbox', 'searchbox', 'radio', 'checkbox', 'spinbutton', 'combobox',
                     'listbox', 'slider'];

/** The first line of an aria snapshot as { role, name } (name null when
 * the node has none). */
function snapLine(line) {
  let l = line.trim();
  // YAML quotes a line holding ": " ('- radio "Recycling: paper"').
  const quoted = /^- '(.*)'(:?)$/.exec(l);
  if (quoted)
    l = `- ${quoted[1].replace(/''/g, "'")}`;
  const m = /^- (\w+)(?: "((?:[^"\\]|\\.)*)")?/.exec(l);
  return m ? { role: m[1], name: m[2] === undefined ? null : JSON.parse(`"${m[2]}"`) } : null;
}

/** Every control of the page (not hidden) has a non-empty accessible
 * name (as Playwright computes it for its aria snapshot), and getByLabel
 * with that name (getByRole for a button) finds it. Returns how many
 * controls were checked. */
async function checkNames(page, where) {
  const problems = [];
  // The names the page offers, from one snapshot of the whole page;
  // every control one of them finds is marked.
  const seen = new Map();
  for (const line of (await page.locator('body').ariaSnapshot()).split('\n')) {
    const n = snapLine(line);
    if (n && (n.role === 'button' || FIELD_ROLES.includes(n.role)))
      seen.set(`${n.role}\n${n.name}`, n);
  }
  const mark = async ({ role, name }) => {
    const found = role === 'button' ? page.getByRole('button', { name, exact: true })
                                    : page.getByLabel(name, { exact: true });
    await found.evaluateAll((els) => els.forEach((e) => { e.dataset.named = '1'; }));
  };
  for (const n of seen.values()) {
    if (n.name === null || n.name.trim() === '')
      problems.push(`${where}: a ${n.role} without an accessible name`);
    else
      await mark(n);
  }
  // A control no name found: its own name, if any, and whether
  // getByLabel finds it by that name.
  const controls = page.locator(CONTROLS);
  const total = await controls.count();
  const left = page.locator(`:is(${CONTROLS}):not([data-named])`);
  for (let i = 0; i < await left.count(); i++) {
    const el = left.nth(i);
    const desc = await el.evaluate((e) => e.outerHTML.slice(0, 120));
    const n = snapLine((await el.ariaSnapshot()).split('\n')[0]);
    if (!n || !n.name) {
      problems.push(`${where}: no accessible name: ${desc}`);
      continue;
    }
    await mark(n);
    if (!(await el.evaluate((e) => e.dataset.named === '1')))
      problems.push(`${where}: ${n.role === 'button' ? 'getByRole(button)' : 'getByLabel'}` +
                    `("${n.name}") does not find ${desc}`);
  }
  assert.deepEqual(problems, []);
  return total;
}

export async function test_every_form_control_has_a_name_getbylabel_finds(t) {
  let checked = 0;
  for (const p of ['/', '/requests', ...SERVICES.map((s) => `/report/${s.code}`)]) {
    await t.page.goto(t.url(p));
    checked += await checkNames(t.page, p);
  }
  // The review's buttons, and the Spanish form.
  await t.page.goto(t.url('/report/DPR-TREE'));
  await fillAndReview(t.page, sampleReport('DPR-TREE'));
  checked += await checkNames(t.page, 'the review');
  const es = await t.newPage({ locale: 'es-ES' });
  await es.goto(t.url('/report/HPD-HEAT'));
  checked += await checkNames(es, 'the Spanish form');
  assert.ok(checked > 200, `only ${checked} controls checked`);
}

// The check above can fail: a field whose label lost its "for", and one
// with no label at all, are both reported.
export async function test_the_name_check_finds_unnamed_fields(t) {
  await t.page.goto(t.url('/report/DOT-POTHOLE'));
  await t.page.evaluate(() => {
    document.querySelector('label[for=email]').removeAttribute('for');
    const bare = document.createElement('input');
    bare.id = 'a11y-bare';
    document.querySelector('main form').appendChild(bare);
  });
  await assert.rejects(checkNames(t.page, 'mutilated form'), (e) => {
    assert.match(e.message, /no accessible name: <input id="email"/);
    assert.match(e.message, /no accessible name: <input id="a11y-bare"/);
    return true;
  });
}

// WCAG 1.4.10: at 320 CSS pixels wide nothing needs sideways scrolling.
export async function test_no_sideways_scrolling_at_320px(t) {
  const page = await t.newPage({ viewport: { width: 320, height: 640 }, isMobile: true,
                                 hasTouch: true });
  const { id } = await fileQuickly(page, t.base);
  const long = 'https://example.org/' + 'a-very-long-path-segment/'.repeat(8) + '?q=1';
  for (const p of ['/', '/?q=noise', '/report/DOT-POTHOLE', '/report/HPD-HEAT',
                   `/requests/${id}`, `/leaving?to=${encodeURIComponent(long)}`, '/privacy']) {
    await page.goto(t.url(p));
    const { scroll, inner } = await sidewaysScroll(page);
    assert.ok(scroll <= inner, `${p} scrolls sideways at 320px: ${scroll}px > ${inner}px`);
  }
  // The review page with long words typed into it.
  await page.goto(t.url('/report/DOT-POTHOLE'));
  await fillAndReview(page, sampleReport('DOT-POTHOLE', {
    description: 'Supercalifragilisticexpialidocious'.repeat(4),
    email: `${'a'.repeat(60)}@example.org` }));
  const { scroll, inner } = await sidewaysScroll(page);
  assert.ok(scroll <= inner, `the review scrolls sideways at 320px: ${scroll}px > ${inner}px`);
}

// What the review and the request page list (a term, then its value) can
// be read on a phone: each value gets a real share of the width, not a
// sliver that breaks it a letter per line (the review's terms are the
// service's questions, long ones).
export async function test_review_and_request_values_are_readable_on_a_phone(t) {
  const problems = [];
  const page = await t.newPage({ viewport: 'phone' });
  const check = async (what) => {
    for (const width of [390, 320]) {
      await page.setViewportSize({ width, height: 844 });
      const rows = await page.evaluate(() => {
        const dl = document.querySelector('main dl.facts');
        return [...dl.querySelectorAll('dd')].map((dd) => ({
          term: dd.previousElementSibling.textContent, value: dd.textContent.slice(0, 40),
          width: dd.getBoundingClientRect().width, column: dl.getBoundingClientRect().width }));
      });
      assert.ok(rows.length >= 4, `${what}: ${rows.length} rows`);
      for (const r of rows)
        if (r.width < r.column / 3)
          problems.push(`${what} at ${width}px: "${r.term}" -> "${r.value}" is ` +
                        `${Math.round(r.width)}px wide of ${Math.round(r.column)}px`);
    }
  };
  await page.goto(t.url('/report/DOT-POTHOLE'));
  await fillAndReview(page, sampleReport('DOT-POTHOLE'));
  await check('the review');
  assert.ok(await send(page));
  await check('the request page');
  assert.ok(problems.length === 0,
            `${problems.length} values squeezed into a sliver (dl.facts), e.g.:\n  ` +
            [390, 320].flatMap((w) => problems.filter((p) => p.includes(` ${w}px:`)).slice(0, 3))
              .join('\n  '));
}
