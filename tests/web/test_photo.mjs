// A photo on a report, as a resident adds one in Chromium (issue 4, P11):
// chosen with the file input, shown on the review page, sent, and shown
// back on the confirmation; with JavaScript off and on. The photo is a
// real JPEG carrying camera GPS, make, model and serial number in EXIF
// (and XMP, IPTC, ICC, a comment), written by the photo unit test's own
// builders (`test_photo --write-fixtures`); what the browser gets back has
// none of it, and stands upright. A file that claims to be a JPEG but is
// not one is refused with a clear message, and nothing typed is lost.
//
// tests/api/test_web_photo.py checks the same over HTTP in more detail
// (storage, sealing, the token, every refusal).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  checkReportKept, clickAndWait, fillReport, mainText, sampleReport,
} from './site.mjs';

// What the fixture carries that must never come back (test_photo.c secrets[]).
const SECRETS = ['CivicCam', 'Model-X9', 'SN-SECRET-0042', 'XMP-SECRET-CREATOR', '40,42.77N',
                 'IPTC-SECRET-BYLINE', 'COM-SECRET-COMMENT'];

let fixtureDir = null;
/** The fixture photos' directory, written once per run. */
function fixtures(t) {
  if (fixtureDir === null) {
    const tool = path.join(path.dirname(t.server.binary), 'tests', 'test_photo');
    fixtureDir = fs.mkdtempSync(path.join(os.tmpdir(), 'civic311-photos-'));
    execFileSync(tool, ['--write-fixtures', fixtureDir], { stdio: 'ignore', timeout: 120000 });
    process.on('exit', () => fs.rmSync(fixtureDir, { recursive: true, force: true }));
  }
  return fixtureDir;
}

/** The image the page shows at `img`, as the browser decoded it:
 * { width, height, bytes (as fetched with the page's cookie) }. */
async function shownImage(page, img) {
  await img.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  const size = await img.evaluate((el) => ({ width: el.naturalWidth, height: el.naturalHeight }));
  const res = await page.request.get(await img.evaluate((el) => el.src));
  return { ...size, status: res.status(), headers: res.headers(), bytes: await res.body() };
}

function assertClean(bytes, what) {
  const text = bytes.toString('latin1');
  for (const s of SECRETS)
    assert.ok(!text.includes(s), `${what} still holds ${s}`);
  assert.ok(!text.includes('Exif\0\0'), `${what} still has an EXIF block`);
}

async function fileWithAPhoto(t, page) {
  const jpg = path.join(fixtures(t), 'exif.jpg');
  assert.ok(fs.readFileSync(jpg).toString('latin1').includes('SN-SECRET-0042'),
            'the fixture really carries the metadata');
  const r = sampleReport('DOT-POTHOLE');
  await page.goto(t.url('/report/DOT-POTHOLE'));
  await fillReport(page, r);
  await page.getByLabel('Add a photo').setInputFiles(jpg);
  const res = await clickAndWait(page, page.getByRole('button', { name: 'Review the report' }));
  assert.equal(res.status(), 200, await mainText(page));
  await page.getByRole('heading', { level: 1, name: 'Check your report' }).waitFor();

  // The review shows the photo, cleaned and upright (EXIF orientation 6:
  // stored 96 x 64 on its side), and private.
  const shown = await shownImage(page, page.getByRole('img', { name: 'The photo you added' }));
  assert.deepEqual([shown.width, shown.height], [64, 96], 'turned upright');
  assert.equal(shown.status, 200);
  assert.equal(shown.headers['content-type'], 'image/jpeg');
  assert.equal(shown.headers['cache-control'], 'private, no-store');
  assertClean(shown.bytes, 'the photo on the review page');

  const sent = await clickAndWait(page, page.getByRole('button', { name: 'Send the report' }));
  assert.equal(sent.status(), 200, await mainText(page));
  const m = /\/requests\/(\d+)\?filed=1&photo=[0-9a-f-]+$/.exec(page.url());
  assert.ok(m, `the confirmation's address ${page.url()}`);
  const id = m[1];
  await page.getByRole('heading', { level: 1, name: `Request ${id}` }).waitFor();
  const again = await shownImage(page, page.getByRole('img', { name: 'The photo you added' }));
  assert.deepEqual([again.width, again.height], [64, 96]);
  assertClean(again.bytes, 'the photo on the confirmation');

  // The request's public page has no photo; another browser cannot get it.
  await page.goto(t.url(`/requests/${id}`));
  assert.equal(await page.getByRole('img').count(), 0, 'no photo on the public page');
  t.expectConsoleError(/\/photos\/.*status of 404/);
  const stranger = await t.newPage();
  const res2 = await stranger.goto(t.url(new URL(await imgSrc(t, page, id, m[0])).pathname));
  assert.equal(res2.status(), 404, 'another session cannot see the photo');
  return id;
}

/** The photo's address from the confirmation page (what the stranger tries). */
async function imgSrc(t, page, id, confirmation) {
  await page.goto(t.url(confirmation));
  return page.getByRole('img', { name: 'The photo you added' }).evaluate((el) => el.src);
}

export async function test_file_with_a_photo_without_javascript(t) {
  const page = await t.newPage({ javaScriptEnabled: false });
  await fileWithAPhoto(t, page);
}

export async function test_file_with_a_photo_with_javascript(t) {
  await fileWithAPhoto(t, t.page);
}

export async function test_a_fake_jpeg_is_refused_and_nothing_typed_is_lost(t) {
  t.expectConsoleError(/\/report\/DOT-POTHOLE.*status of 400/);
  for (const js of [false, true]) {
    const page = js ? t.page : await t.newPage({ javaScriptEnabled: false });
    const r = sampleReport('DOT-POTHOLE');
    await page.goto(t.url('/report/DOT-POTHOLE'));
    await fillReport(page, r);
    await page.getByLabel('Add a photo').setInputFiles({
      name: 'pothole.jpg', mimeType: 'image/jpeg',
      buffer: Buffer.from('this is a text file pretending to be a JPEG photo'),
    });
    const res = await clickAndWait(page, page.getByRole('button', { name: 'Review the report' }));
    assert.equal(res.status(), 400, `js ${js}`);
    const alert = page.getByRole('alert').filter({ hasText: 'Please check the form' });
    assert.match(await alert.innerText(), /This file is not a JPEG, PNG or WebP photo/);
    const input = page.getByLabel('Add a photo');
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    await checkReportKept(page, r);
  }
}
