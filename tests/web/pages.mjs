// The pages `node tests/web/run.mjs --screenshots DIR` photographs, each at
// the phone (390x844) and desktop (1280x800) viewports of harness.mjs, as
// DIR/NAME-phone.png and DIR/NAME-desktop.png (the full page, cut at
// maxHeight CSS pixels so the PNGs stay small; device scale 1).
//
// { name, path, locale = 'en-US', status = 200, maxHeight } for a page
// reached by its address; a Spanish page is { name: 'home-es', path: '/',
// locale: 'es-ES' }. A page reached by steps (the review, the
// confirmation) has prepare: async (page, base) => { ... } instead of path:
// it drives a fresh page of its own context there, failing if a step does.

import { clickAndWait, fillAndReview, send } from './site.mjs';

// A report as the docs show it: plain values, no test serial numbers.
const REPORT = {
  code: 'DOT-POTHOLE',
  address: '350 West 14th Street, Manhattan',
  answers: { LOCATION: 'ROADWAY', SIZE: 'MEDIUM', COUNT: '2' },
  description: 'Deep pothole in the right lane, just before the bus stop. It fills with ' +
               'water when it rains.',
  firstName: 'Ana',
  lastName: 'García',
  email: 'ana.garcia@example.org',
  phone: '212-555-0142',
};

// A new account for each page that needs one (each viewport's context
// registers its own); the pages shown never display the email.
let accounts = 0;
async function toAccount(page, base) {
  await page.goto(`${base}/account/register`);
  await page.getByLabel(/^Email/).fill(`ana.garcia.${Date.now()}.${++accounts}@example.org`);
  await page.getByLabel(/^Your name/).fill('Ana');
  await page.getByLabel(/^Password/).fill('walnut lantern harbour');
  await page.getByLabel(/^The same password again/).fill('walnut lantern harbour');
  await clickAndWait(page, page.getByRole('button', { name: 'Create my account' }));
  if (new URL(page.url()).pathname !== '/account')
    throw new Error(`registering did not lead to the account (at ${page.url()})`);
}

async function toReview(page, base) {
  await page.goto(`${base}/report/${REPORT.code}`);
  await fillAndReview(page, REPORT);
}

export const SCREENSHOTS = [
  { name: 'home', path: '/' },
  { name: 'search', path: '/?q=noise' },
  { name: 'report', path: '/report/DOT-POTHOLE' },
  { name: 'review', prepare: toReview },
  {
    name: 'confirmation',
    prepare: async (page, base) => {
      await toReview(page, base);
      if (!(await send(page)))
        throw new Error(`no request number after sending (at ${page.url()})`);
    },
  },
  { name: 'emergency', path: '/report/DEP-GAS', maxHeight: 1100 },
  { name: 'privacy', path: '/privacy' },
  { name: 'leaving', path: '/leaving?to=https%3A%2F%2Fwww.nyc.gov%2Fsite%2Fdot%2Findex.page' },
  { name: 'home-es', path: '/', locale: 'es-ES' },
  { name: 'signin', path: '/account/signin' },
  { name: 'register', path: '/account/register' },
  { name: 'account', prepare: toAccount },
  {
    name: 'account-delete',
    prepare: async (page, base) => {
      await toAccount(page, base);
      await page.goto(`${base}/account/delete`);
    },
  },
];
