// The harness checks itself: an audit that cannot fail, or contexts that
// share cookies, would make every other test worthless.

import assert from 'node:assert/strict';

export async function test_axe_reports_violations_under_the_served_csp(t) {
  const res = await t.page.goto(t.url('/'));
  // axe is not injected by a <script> tag, so the page keeps its policy.
  assert.ok(res.headers()['content-security-policy']);
  await t.page.evaluate(() => {
    document.documentElement.removeAttribute('lang');
    const img = document.createElement('img');
    img.id = 'harness-no-alt';
    document.body.appendChild(img);
  });
  await assert.rejects(t.axeCheck(t.page), (e) => {
    assert.match(e.message, /html-has-lang \(serious\)/);
    assert.match(e.message, /image-alt \(critical\)/);
    assert.match(e.message, /#harness-no-alt/);
    return true;
  });
}

export async function test_contexts_share_no_cookies_or_storage(t) {
  await t.page.goto(t.url('/'));
  await t.context.addCookies([{ name: 'harness', value: '1', url: t.url('/') }]);
  await t.page.evaluate(() => localStorage.setItem('harness', '1'));
  const other = await t.newPage();
  await other.goto(t.url('/'));
  const names = (await other.context().cookies()).map((c) => c.name);
  assert.ok(!names.includes('harness'), `a cookie crossed contexts: ${names}`);
  assert.equal(await other.evaluate(() => localStorage.getItem('harness')), null);
}
