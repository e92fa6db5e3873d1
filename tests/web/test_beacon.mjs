// The page-view beacon (P9) as Chromium sends it: once a page is shown,
// site.js posts the kind of page the server named (<body data-page>) to
// /beacon, and nothing else: no address, no query, no identifier. Pages
// the script puts in place of the form (the review) count too. Without
// JavaScript nothing is sent. tests/api/test_web_beacon.py checks the
// server's side: 204, no cookie, totals per page and day only.

import assert from 'node:assert/strict';
import { clickAndWait, fillReport, sampleReport } from './site.mjs';

/** Every beacon the page sends while fn runs: [{ body, headers }]. */
async function beaconsDuring(page, fn) {
  const sent = [];
  const seen = (req) => {
    if (new URL(req.url()).pathname === '/beacon')
      sent.push({ body: req.postData(), method: req.method(), url: req.url() });
  };
  page.on('request', seen);
  await fn();
  await page.waitForTimeout(500); // a beacon is sent after the page is shown
  page.off('request', seen);
  return sent;
}

export async function test_each_page_view_sends_its_kind_only(t) {
  const page = t.page;
  let sent = await beaconsDuring(page, () => page.goto(t.url('/?q=pothole')));
  assert.deepEqual(sent.map((b) => [b.method, b.body, new URL(b.url).search]),
                   [['POST', 'home', '']], 'one beacon, the kind only, no query');
  sent = await beaconsDuring(page, () => page.goto(t.url('/report/DOT-POTHOLE')));
  assert.deepEqual(sent.map((b) => b.body), ['report']);
  const r = sampleReport('DOT-POTHOLE');
  await fillReport(page, r);
  sent = await beaconsDuring(page, () => clickAndWait(
    page, page.getByRole('button', { name: 'Review the report' })));
  assert.deepEqual(sent.map((b) => b.body), ['review'],
                   'the review, put in place by the script, counts as a view');
  for (const b of sent)
    for (const secret of [r.email, r.phone, r.lastName, r.description])
      assert.ok(!b.body.includes(secret) && !b.url.includes(secret));
}

export async function test_nothing_is_sent_without_javascript(t) {
  const page = await t.newPage({ javaScriptEnabled: false });
  const sent = await beaconsDuring(page, () => page.goto(t.url('/')));
  assert.deepEqual(sent, []);
}
