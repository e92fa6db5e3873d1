// site.mjs - what the browser tests of 311 Online share: the demo catalog
// (data/demo/catalog.json) read at test time, answers for a service's
// questions given the way a person gives them (by the labels on the
// screen), the steps of the reporting flow, and the Spanish catalog
// (po/es.po) so the Spanish tests check the translator's own strings.
//
// Not a test file (no test_ prefix): test_*.mjs and pages.mjs import it.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './harness.mjs';

// ---- the demo catalog ----

const catalogJson = JSON.parse(fs.readFileSync(path.join(REPO, 'data', 'demo', 'catalog.json'),
                                               'utf8'));

/** Every demo service: { code, name, type, metadata, group, attrs } in the
 * catalog's order; attrs are the variable questions, in their order. */
export const SERVICES = catalogJson.services.map((s) => {
  const def = catalogJson.service_definitions.find((d) => d.service_code === s.service_code);
  const attrs = (def ? def.attributes : [])
    .filter((a) => a.variable)
    .sort((x, y) => (x.order ?? 0) - (y.order ?? 0));
  return { code: s.service_code, name: s.service_name, description: s.description,
           type: s.type, metadata: s.metadata, group: s.group, attrs,
           notes: (def ? def.attributes : []).filter((a) => !a.variable)
             .map((a) => a.description) };
});

/** Every text of the demo catalog a page may show (it is in English):
 * groups, service names and descriptions, questions, choices, notes. */
export function catalogTexts() {
  const out = new Set();
  for (const s of SERVICES) {
    [s.group, s.name, s.description, ...s.notes].forEach((x) => x && out.add(x));
    for (const a of s.attrs) {
      out.add(a.description);
      (a.values || []).forEach((v) => out.add(v.name));
    }
  }
  return out;
}

export function service(code) {
  const sv = SERVICES.find((s) => s.code === code);
  assert.ok(sv, `no demo service ${code} in data/demo/catalog.json`);
  return sv;
}

// The demo services whose form shows the 911 notice at once (core/emergency.c
// says so from their keywords and notice; tests/api/test_web.py agrees).
export const EMERGENCY_SERVICES = ['DEP-GAS'];

// ---- the Spanish catalog ----

function poString(lines) {
  // "a" "b" -> ab, with the C escapes a .po file may hold.
  return lines.map((l) => JSON.parse(l.replace(/\\([^"\\nt])/g, '$1'))).join('');
}

/** po/es.po as Map(msgid -> msgstr), untranslated and fuzzy entries left
 * out (the server shows English for those, as msgfmt would). */
export function readPo(file = path.join(REPO, 'po', 'es.po')) {
  const out = new Map();
  const text = fs.readFileSync(file, 'utf8');
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n');
    if (lines.some((l) => /^#,.*\bfuzzy\b/.test(l)))
      continue;
    let key = null;
    const parts = { msgid: [], msgstr: [] };
    for (const l of lines) {
      const m = /^(msgid|msgstr)\s+(".*")\s*$/.exec(l);
      if (m) {
        key = m[1];
        parts[key].push(m[2]);
      } else if (/^\s*"/.test(l) && key) {
        parts[key].push(l.trim());
      } else if (!l.startsWith('#')) {
        key = null;
      }
    }
    if (parts.msgid.length === 0)
      continue;
    const id = poString(parts.msgid);
    const str = poString(parts.msgstr);
    if (id !== '' && str !== '')
      out.set(id, str);
  }
  return out;
}

let es = null;
/** The Spanish of an English message, from po/es.po; fails if it is not
 * translated (a test that expects Spanish must get Spanish). */
export function spanish(msgid) {
  es ??= readPo();
  const s = es.get(msgid);
  assert.ok(s, `po/es.po has no translation of "${msgid}"`);
  return s;
}

let esCatalog = null;
/** The Spanish of a text of the demo catalog (data/demo/catalog-es.po). */
export function spanishCatalog(text) {
  esCatalog ??= readPo(path.join(REPO, 'data', 'demo', 'catalog-es.po'));
  const s = esCatalog.get(text);
  assert.ok(s, `data/demo/catalog-es.po has no translation of "${text}"`);
  return s;
}

// ---- small page helpers ----

export function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Clicks what submits a form or follows a link and waits for the new
 * page to load; returns the final response (after redirects). */
export async function clickAndWait(page, locator) {
  // Links, GET forms, and every form without JavaScript: a navigation. With
  // JavaScript, site.js sends a report form (POST) with fetch and puts the
  // answer in place of the page, or follows a redirect with a navigation:
  // the response is then the fetch's, once the new body is in place.
  const oldBody = await page.evaluateHandle(() => document.body);
  const never = new Promise(() => {});
  const navigated = page.waitForNavigation({ waitUntil: 'load' });
  const posted = page.waitForResponse((r) => r.request().resourceType() === 'fetch' &&
                                             r.request().method() === 'POST');
  const replaced = posted.then(async (res) => {
    if (res.status() >= 300 && res.status() < 400)
      return never; // a redirect: the navigation that follows answers
    await page.waitForFunction((b) => !b.isConnected, oldBody);
    return res;
  });
  navigated.catch(() => {});
  replaced.catch(() => {});
  await locator.click();
  const res = await Promise.race([navigated, replaced.catch(() => never)]);
  await oldBody.dispose().catch(() => {});
  return res;
}

/** The page's dl.facts as [[term, definition], ...], as shown. */
export async function facts(page) {
  const dts = await page.locator('main dl.facts > dt').allInnerTexts();
  const dds = await page.locator('main dl.facts > dd').allInnerTexts();
  assert.equal(dts.length, dds.length, 'a dl.facts with a term without its definition');
  return dts.map((d, i) => [d.trim(), dds[i].trim()]);
}

/** The visible text of main, spaces collapsed. */
export async function mainText(page) {
  return (await page.locator('main').innerText()).replace(/\s+/g, ' ');
}

// ---- a service's questions, answered by their labels ----

/** The control of a question whose label is `text`, maybe followed by
 * " (UTC)" and a "(required)" mark in the page's language. */
function labelRe(text) {
  return new RegExp(`^${escapeRe(text)}( \\(UTC\\))?( \\([^)]*\\))?$`);
}

/** Answers for every question of a service, as a person would give them:
 * the second choice of a list (not the first: it proves the choice is
 * kept), two choices of a multiple choice, a number, a date and time, a
 * short and a long text. { CODE: value | [values] }. */
export function sampleAnswers(code) {
  const sv = service(code);
  const out = {};
  for (const a of sv.attrs) {
    switch (a.datatype) {
    case 'singlevaluelist': out[a.code] = a.values[Math.min(1, a.values.length - 1)].key; break;
    case 'multivaluelist':
      out[a.code] = [a.values[0].key, a.values[Math.min(2, a.values.length - 1)].key]; break;
    case 'number': out[a.code] = '3'; break;
    case 'datetime': out[a.code] = '2026-11-20T07:30'; break;
    case 'string': out[a.code] = `Tag ${a.code.toLowerCase()} 4471`; break;
    case 'text': out[a.code] = `Behind the blue fence, near ${a.code.toLowerCase()}.`; break;
    default: throw new Error(`${code}: a question of type ${a.datatype}`);
    }
  }
  return out;
}

/** The group (fieldset) of a choice question, found by its legend (in the
 * page's language: tr gives the catalog's text in it). */
function group(page, a, tr) {
  return page.getByRole('group', { name: labelRe(tr(a.description)) });
}

const asIs = (text) => text;

/** Answers the questions of answers on the form, by clicking and typing;
 * tr: the catalog's texts in the page's language. */
export async function answerQuestions(page, code, answers, tr = asIs) {
  for (const a of service(code).attrs) {
    if (!(a.code in answers))
      continue;
    const v = answers[a.code];
    if (a.datatype === 'singlevaluelist') {
      const name = a.values.find((x) => x.key === v).name;
      await group(page, a, tr).getByLabel(tr(name), { exact: true }).check();
    } else if (a.datatype === 'multivaluelist') {
      for (const key of v)
        await group(page, a, tr).getByLabel(tr(a.values.find((x) => x.key === key).name),
                                            { exact: true }).check();
    } else {
      // datetime-local takes "YYYY-MM-DDTHH:MM" through fill(), as a
      // browser's own picker would set it.
      await page.getByLabel(labelRe(tr(a.description))).fill(v);
    }
  }
}

/** Fails unless the form shows exactly these answers (every other choice
 * unticked, every other field empty). */
export async function checkAnswers(page, code, answers, tr = asIs) {
  for (const a of service(code).attrs) {
    const v = answers[a.code];
    const where = `${code} ${a.code} ("${a.description}")`;
    if (a.datatype === 'singlevaluelist' || a.datatype === 'multivaluelist') {
      const want = v === undefined ? [] : [v].flat();
      for (const x of a.values) {
        const on = await group(page, a, tr).getByLabel(tr(x.name), { exact: true }).isChecked();
        assert.equal(on, want.includes(x.key), `${where}: "${x.name}" ${on ? 'ticked' : 'not ticked'}`);
      }
    } else {
      assert.equal(await page.getByLabel(labelRe(tr(a.description))).inputValue(), v ?? '',
                   where);
    }
  }
}

/** What the review page must list for these answers: [[label, shown]]
 * in the form's order (a choice by its name; several joined by ", " in
 * the catalog's order). */
export function reviewedAnswers(code, answers) {
  const out = [];
  for (const a of service(code).attrs) {
    const v = answers[a.code];
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0))
      continue;
    if (a.values && a.values.length) {
      const keys = [v].flat();
      out.push([a.description, a.values.filter((x) => keys.includes(x.key)).map((x) => x.name)
        .join(', ')]);
    } else {
      out.push([a.description, v]);
    }
  }
  return out;
}

// ---- the reporting flow ----

/** A resident's report: the common fields and the answers. Unique values
 * (Date.now()) so that tests sharing the server never mix their requests. */
export function sampleReport(code, extra = {}) {
  const n = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  return {
    code,
    address: `${100 + (Number(n.slice(-3)) % 800)} West 14th Street, Manhattan`,
    answers: sampleAnswers(code),
    description: `Deep hole by the bus stop, report ${n}. It fills with water when it rains.`,
    firstName: 'Ana',
    lastName: `Prueba${n.slice(-6)}`,
    email: `ana.${n}@example.org`,
    phone: '212-555-0142',
    ...extra,
  };
}

/** Fills the report form (the page shows it) with r, labels in English
 * unless labels says otherwise. */
export async function fillReport(page, r, labels = ENGLISH_LABELS) {
  if (r.address !== undefined)
    await page.getByLabel(labels.address).fill(r.address);
  await answerQuestions(page, r.code, r.answers || {}, labels.catalog);
  if (r.description !== undefined)
    await page.getByLabel(labels.description, { exact: true }).fill(r.description);
  if (r.firstName !== undefined)
    await page.getByLabel(labels.firstName, { exact: true }).fill(r.firstName);
  if (r.lastName !== undefined)
    await page.getByLabel(labels.lastName, { exact: true }).fill(r.lastName);
  if (r.email !== undefined)
    await page.getByLabel(labels.email, { exact: true }).fill(r.email);
  if (r.phone !== undefined)
    await page.getByLabel(labels.phone, { exact: true }).fill(r.phone);
}

export const ENGLISH_LABELS = {
  address: labelRe('Address or place'), description: 'Description', firstName: 'First name',
  lastName: 'Last name', email: 'Email', phone: 'Phone', catalog: asIs,
};

export function spanishLabels() {
  return {
    address: labelRe(spanish('Address or place')), description: spanish('Description'),
    firstName: spanish('First name'), lastName: spanish('Last name'), email: spanish('Email'),
    phone: spanish('Phone'), catalog: spanishCatalog,
  };
}

/** Fails unless the form shows r's values again, as typed. */
export async function checkReportKept(page, r, labels = ENGLISH_LABELS) {
  const kept = async (label, want, what) => {
    if (want === undefined)
      return;
    const got = await page.getByLabel(label, typeof label === 'string' ? { exact: true } : {})
      .inputValue();
    assert.equal(got, want, `${what} was not kept`);
  };
  await kept(labels.address, r.address, 'the address');
  await checkAnswers(page, r.code, r.answers || {}, labels.catalog);
  await kept(labels.description, r.description, 'the description');
  await kept(labels.firstName, r.firstName, 'the first name');
  await kept(labels.lastName, r.lastName, 'the last name');
  await kept(labels.email, r.email, 'the email');
  await kept(labels.phone, r.phone, 'the phone');
}

/** What the English review page must list for r, in order. */
export function expectedReview(r) {
  const rows = [['Service', service(r.code).name], ['Location', r.address]];
  rows.push(...reviewedAnswers(r.code, r.answers || {}));
  rows.push(['Description', r.description], ['First name', r.firstName],
            ['Last name', r.lastName], ['Email', r.email], ['Phone', r.phone]);
  return rows.filter(([, v]) => v !== undefined && v !== '');
}

/** The form is on the screen: fill it, press "Review the report", and
 * land on the review page. Returns the response. */
export async function fillAndReview(page, r) {
  await fillReport(page, r);
  const res = await clickAndWait(page, page.getByRole('button', { name: 'Review the report' }));
  assert.equal(res.status(), 200, `review of ${r.code}: status ${res.status()}: ` +
                                  `${await mainText(page)}`);
  await page.getByRole('heading', { level: 1, name: 'Check your report' }).waitFor();
  return res;
}

/** On the review page: "Send the report"; for a service that numbers its
 * requests at once, the confirmation is the request's page
 * (/requests/N?filed=1). Returns the number (or null for one that does
 * not number at once). */
export async function send(page) {
  const res = await clickAndWait(page, page.getByRole('button', { name: 'Send the report' }));
  assert.equal(res.status(), 200, `send: status ${res.status()}: ${await mainText(page)}`);
  const m = /\/requests\/(\d+)\?filed=1$/.exec(page.url());
  return m ? m[1] : null;
}

/** A whole report, quickly, from the form's address to the request's
 * number: for tests that need a request page. */
export async function fileQuickly(page, base, code = 'DOT-POTHOLE') {
  const r = sampleReport(code);
  await page.goto(`${base}/report/${code}`);
  await fillAndReview(page, r);
  const id = await send(page);
  assert.ok(id, `no request number after filing ${code} (at ${page.url()})`);
  return { id, report: r };
}

/** The page scrolls sideways when the document is wider than the window. */
export async function sidewaysScroll(page) {
  return page.evaluate(() => ({ scroll: document.documentElement.scrollWidth,
                                inner: window.innerWidth }));
}

/** RFC 4648 base32 to bytes. */
function base32(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, acc = 0;
  const out = [];
  for (const ch of s.replace(/=+$/, '')) {
    acc = (acc << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((acc >> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit TOTP code of secret at time t (seconds), HMAC-SHA1, 30 s. */
export function totp(secret, t) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const mac = crypto.createHmac('sha1', base32(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}
