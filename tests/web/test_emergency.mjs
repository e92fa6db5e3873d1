// The 911 notice (I5), as a person on a phone meets it: a service that is
// an emergency (a gas smell) shows it before anything else; a description
// that reads like one (smoke) brings it back with a "not an emergency"
// box to tick before the review. It must be seen without scrolling.
//
// tests/api/test_web.py checks the words (English and Spanish) and that
// nothing is stored; these check where the notice is on the screen and
// what the resident does next.

import assert from 'node:assert/strict';
import {
  EMERGENCY_SERVICES, SERVICES, checkReportKept, clickAndWait, facts, fillAndReview,
  fillReport, mainText, sampleReport, send,
} from './site.mjs';

const PHONE = { width: 390, height: 844 };
const NOT_AN_EMERGENCY = 'This is not an emergency: nobody is in danger.';

/** Fails unless the page shows the 911 notice as an alert, first in main
 * (before the h1), with a call link, entirely inside the first screen. */
async function checkNotice(page) {
  const notice = page.locator('main .notice.emergency');
  assert.equal(await notice.count(), 1, 'no 911 notice');
  assert.equal(await notice.getAttribute('role'), 'alert');
  assert.equal(await page.getByRole('alert').count(), 1, 'one alert, the notice');
  await notice.getByRole('heading', { name: 'If this is an emergency, call 911 now' }).waitFor();
  const call = notice.getByRole('link', { name: 'Call 911' });
  assert.equal(await call.getAttribute('href'), 'tel:911');
  // First in main: before the page's heading and the form.
  const first = await page.evaluate(() => document.querySelector('main').firstElementChild
    .classList.contains('emergency'));
  assert.ok(first, 'the 911 notice is not the first thing in main');
  // Visible without scrolling: the whole box inside the first screen.
  assert.equal(await page.evaluate(() => window.scrollY), 0);
  const box = await notice.boundingBox();
  const vp = page.viewportSize();
  assert.ok(box && box.y >= 0 && box.y + box.height <= vp.height,
            `the 911 notice is not all on the first screen (${vp.width}x${vp.height}): ` +
            `${JSON.stringify(box)}`);
  const column = (await page.locator('main h1').boundingBox()).width;
  assert.ok(box.width >= column - 1, `the notice (${box.width}px) is narrower than the ` +
                                     `page's column (${column}px)`);
  assert.ok(await call.isVisible());
  const callBox = await call.boundingBox();
  assert.ok(callBox.height >= 24 && callBox.width >= 24,
            `the "Call 911" link is a small target: ${JSON.stringify(callBox)}`);
}

// DEP-GAS: the notice before anything, the box to tick; not ticking it
// shows the notice again, ticking it goes to the review, and sending
// forwards the report (a blackbox service: no number).
export async function test_gas_smell_shows_911_before_anything(t) {
  assert.deepEqual(SERVICES.filter((s) => EMERGENCY_SERVICES.includes(s.code)).map((s) => s.code),
                   ['DEP-GAS']);
  const page = await t.newPage({ viewport: 'phone' });
  await page.goto(t.url('/report/DEP-GAS'));
  assert.deepEqual(page.viewportSize(), PHONE);
  await checkNotice(page);
  const box = page.getByLabel(NOT_AN_EMERGENCY);
  assert.equal(await box.isChecked(), false);
  assert.equal(await box.getAttribute('required'), '');

  // Not ticked: the notice again, and what was typed is kept.
  const r = sampleReport('DEP-GAS', { description: 'A faint smell near the corner.' });
  await fillReport(page, r);
  const res = await clickAndWait(page, page.getByRole('button', { name: 'Review the report' }));
  assert.equal(res.status(), 200);
  await checkNotice(page);
  await checkReportKept(page, r);
  assert.equal(await page.getByRole('heading', { name: 'Check your report' }).count(), 0);

  // Ticked: the review, then the report goes to the agency.
  await page.getByLabel(NOT_AN_EMERGENCY).check();
  await fillAndReview(page, { code: 'DEP-GAS' });
  assert.equal(Object.fromEntries(await facts(page)).Location, r.address);
  assert.equal(await send(page), null);
  await page.getByRole('status').getByRole('heading', { name: 'Your report was received' })
    .waitFor();
}

// A pothole described with smoke: the notice and the box appear with what
// was typed kept; ticking the box continues to the review.
export async function test_smoke_in_a_description_brings_the_notice(t) {
  const page = await t.newPage({ viewport: 'phone' });
  await page.goto(t.url('/report/DOT-POTHOLE'));
  assert.equal(await page.locator('.notice.emergency').count(), 0,
               'a pothole form shows the 911 notice before anything is typed');
  assert.equal(await page.getByLabel(NOT_AN_EMERGENCY).count(), 0);

  const r = sampleReport('DOT-POTHOLE',
                         { description: 'there is smoke coming from the building' });
  await fillReport(page, r);
  // The button is at the bottom of a long form: the resident scrolled.
  await page.getByRole('button', { name: 'Review the report' }).scrollIntoViewIfNeeded();
  const res = await clickAndWait(page, page.getByRole('button', { name: 'Review the report' }));
  assert.equal(res.status(), 200);
  await checkNotice(page);
  await checkReportKept(page, r);
  const box = page.getByLabel(NOT_AN_EMERGENCY);
  assert.equal(await box.isChecked(), false);
  assert.equal(await box.getAttribute('required'), '');

  await box.check();
  await fillAndReview(page, { code: 'DOT-POTHOLE' });
  assert.match(await mainText(page), /there is smoke coming from the building/);
  assert.ok(await send(page));
}

// "Change something" after the box was ticked: the form comes back with
// the notice and the box still ticked (the description still reads like
// an emergency), and the next review does not ask again.
export async function test_change_something_keeps_the_not_an_emergency_tick(t) {
  const page = await t.newPage({ viewport: 'phone' });
  await page.goto(t.url('/report/DOT-POTHOLE'));
  const r = sampleReport('DOT-POTHOLE', { description: 'smoke from a manhole next to it' });
  await fillReport(page, r);
  await clickAndWait(page, page.getByRole('button', { name: 'Review the report' }));
  await page.getByLabel(NOT_AN_EMERGENCY).check();
  await fillAndReview(page, { code: 'DOT-POTHOLE' });

  await clickAndWait(page, page.getByRole('button', { name: 'Change something' }));
  await checkReportKept(page, r);
  const box = page.getByLabel(NOT_AN_EMERGENCY);
  if (await box.count() === 0) {
    // What the resident meets then: the notice again, the box unticked.
    await clickAndWait(page, page.getByRole('button', { name: 'Review the report' }));
    const again = await page.locator('.notice.emergency').count() === 1 &&
                  !(await page.getByLabel(NOT_AN_EMERGENCY).isChecked());
    assert.fail('after "Change something" the form has neither the 911 notice nor the ' +
                '"not an emergency" box, though the description still reads like an ' +
                'emergency: the tick is dropped' +
                (again ? ', and "Review the report" shows the notice again with the box ' +
                         'unticked' : ''));
  }
  assert.equal(await box.isChecked(), true, 'the "not an emergency" tick was lost');
  await fillAndReview(page, { code: 'DOT-POTHOLE' });
}

// At desktop size too, and on the narrowest phones (320px), the notice is
// on the first screen.
export async function test_the_notice_is_on_the_first_screen_at_every_size(t) {
  for (const viewport of [{ width: 1280, height: 800 }, { width: 320, height: 568 }]) {
    const page = await t.newPage({ viewport });
    await page.goto(t.url('/report/DEP-GAS'));
    await checkNotice(page);
  }
}
