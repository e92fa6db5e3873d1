// The location step of the report form (issue 4: I2, W5) and site.js's
// other work, as a resident's browser does them: "Use my current location"
// (granted, and refused), the map where a tile source is configured (tiles,
// a pin by click and by keyboard, zoom, the attribution through the exit
// notice), the open requests of the same service nearby ("is this
// yours?"), and a report sent on a connection that drops (nothing typed
// is lost) or pressed twice (sent once).
//
// The run's server has no map (init --demo writes none). The map tests
// start a second installation and server of their own (mapServer below:
// `civic311 init --demo` once per run, config.json given a "map" whose
// tiles come from a tiny node HTTP server on another loopback port, which
// draws PNG tiles with node's zlib; nothing is downloaded), each stopped
// at the end of its test with run.mjs's checks: exit 0 on SIGTERM, no
// sanitizer report. Their contexts let the browser reach those two
// origins (the fixture refuses every origin but the run server's).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { Server, cli, fetchRaw, parseCsp } from './harness.mjs';
import {
  checkReportKept, clickAndWait, fillReport, mainText, sampleReport, sidewaysScroll,
} from './site.mjs';

// The demo city's centre, where the map opens.
const CENTRE = { lat: 40.7128, long: -74.006 };
const OFFLINE_ALERT = 'Your report could not be sent. Check your connection and try again: ' +
                      'nothing you typed has been lost.';

// ---- a PNG tile, made here ----

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++)
    c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf)
    c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A 256x256 RGB PNG in one colour, with a darker border (the tile grid shows). */
export function tilePng([r, g, b]) {
  const size = 256;
  const rows = Buffer.alloc(size * (1 + size * 3));
  for (let y = 0; y < size; y++) {
    const row = y * (1 + size * 3);
    rows[row] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const edge = x === 0 || y === 0;
      rows.set(edge ? [r >> 1, g >> 1, b >> 1] : [r, g, b], row + 1 + x * 3);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
                        chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(rows)),
                        chunk('IEND', Buffer.alloc(0))]);
}

const TILES = [tilePng([200, 222, 200]), tilePng([222, 214, 190])];

// ---- the tile server: /tiles/Z/X/Y.png, counting what was asked ----

let tileServer = null;

async function tiles() {
  if (tileServer)
    return tileServer;
  const asked = [];
  const srv = http.createServer((req, res) => {
    const m = /^\/tiles\/(\d+)\/(\d+)\/(\d+)\.png$/.exec(req.url);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    asked.push(m.slice(1, 4).map(Number));
    res.writeHead(200, { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' });
    res.end(TILES[(Number(m[2]) + Number(m[3])) % 2]);
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  srv.unref(); // the run ends with process.exit; nothing to wait for
  tileServer = { asked, origin: `http://127.0.0.1:${srv.address().port}` };
  return tileServer;
}

// ---- the installation with a map, and its server for one test ----

let mapData = null;

function mapConfig(tileOrigin) {
  return {
    tiles: `${tileOrigin}/tiles/{z}/{x}/{y}.png`,
    attribution: 'Test tiles (c) Civic311 contributors',
    attribution_url: 'https://tiles.example.org/copyright',
    lat: CENTRE.lat, long: CENTRE.long, zoom: 15,
  };
}

/** Runs fn(server, tileServer) against a server of an installation whose
 * config.json has a map; stops it after, failing on what run.mjs fails on. */
async function withMapServer(t, fn) {
  const tile = await tiles();
  const dir = path.dirname(t.server.data);
  const log = path.join(dir, 'cli.log'); // run.mjs scans it for sanitizer reports
  if (!mapData) {
    const data = path.join(dir, 'map-data');
    cli(t.server.binary, ['init', '--data', data, '--demo'], log);
    const file = path.join(data, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(file, 'utf8'));
    cfg.map = mapConfig(tile.origin);
    fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
    mapData = data;
  }
  const server = new Server(t.server.binary, mapData,
                            path.join(dir, `map-serve-${t.id.replace(/\W+/g, '_')}.stderr`));
  await server.start();
  let failed = null;
  try {
    await fn(server, tile);
  } catch (e) {
    failed = e;
  }
  const problems = await server.stop();
  if (failed)
    throw failed;
  assert.deepEqual(problems, [], 'the map server did not stop cleanly');
}

/** A page (desktop unless opts say) that may reach the map server and the
 * tile server besides the run's server. */
async function mapPage(t, server, tile, opts = {}) {
  const ctx = await t.newContext(opts);
  const allowed = new Set([new URL(server.base).origin, tile.origin]);
  // Registered after the fixture's refusal of other origins, so it comes first.
  await ctx.route((u) => allowed.has(u.origin), (route) => route.continue());
  return ctx.newPage();
}

// ---- filing requests to find nearby (the Open311 API, an api key) ----

const apiKeys = new Map();

function apiKey(binary, data, dir) {
  if (!apiKeys.has(data)) {
    const { stdout } = cli(binary, ['apikey', 'create', '--data', data, '--name', 'location'],
                           path.join(dir, 'cli.log'));
    apiKeys.set(data, stdout.trim());
  }
  return apiKeys.get(data);
}

/** Files a request through Open311 at (lat, long); returns its number. */
async function file(t, base, data, { code, lat, long, description, answers = [] }) {
  const key = apiKey(t.server.binary, data, path.dirname(t.server.data));
  const body = new URLSearchParams([['api_key', key], ['service_code', code],
                                    ['lat', String(lat)], ['long', String(long)],
                                    ['description', description], ...answers]).toString();
  const r = await fetchRaw(`${base}/open311/v2/requests.json`, {
    method: 'POST', body,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(r.status, 201, `filing ${code}: ${r.text()}`);
  return JSON.parse(r.text())[0].service_request_id;
}

const POTHOLE = [['attribute[LOCATION]', 'ROADWAY']];

/** A place of its own for a test, far from the demo city and from the
 * other tests' (so only this test's requests are near it). */
function somewhere() {
  return { lat: Number((-60 + Math.random() * 120).toFixed(5)),
           long: Number((-170 + Math.random() * 340).toFixed(5)) };
}

/** About `metres` north of p. */
function north(p, metres) {
  return { lat: p.lat + metres / 111195, long: p.long };
}

async function nearbyLinks(page) {
  return page.locator('fieldset.location .nearby a').allInnerTexts();
}

// ---- without a map: the fields, "use my location", nearby ----

export async function test_the_point_is_plain_fields_without_javascript(t) {
  const page = await t.newPage({ javaScriptEnabled: false });
  await page.goto(t.url('/report/DOT-POTHOLE'));
  const loc = page.getByRole('group', { name: 'Where is the problem?' });
  await loc.getByLabel(/^Address or place/).waitFor();
  const point = loc.getByRole('group', { name: 'Exact point (optional)' });
  assert.equal(await point.getByLabel('Latitude', { exact: true }).inputValue(), '');
  assert.equal(await point.getByLabel('Longitude', { exact: true }).inputValue(), '');
  assert.equal(await page.getByRole('button', { name: 'Use my current location' }).count(), 0,
               'a button that needs JavaScript, without it');
  assert.equal(await page.locator('.map-box, .map').count(), 0, 'map markup without a map');
  // With JavaScript the button is there (and still no map).
  await t.page.goto(t.url('/report/DOT-POTHOLE'));
  await t.page.getByRole('button', { name: 'Use my current location' }).waitFor();
  assert.equal(await t.page.locator('.map-box, .map').count(), 0);
  await t.axeCheck(t.page);
}

export async function test_use_my_location_fills_the_point_and_lists_nearby(t) {
  const here = somewhere();
  const mine = await file(t, t.base, t.server.data, {
    code: 'DOT-POTHOLE', ...north(here, 60), description: 'Pothole near the corner, nearby test',
    answers: POTHOLE });
  const other = await file(t, t.base, t.server.data, {
    code: 'DOT-STREETLIGHT', ...here, description: 'A street light out, another service',
    answers: [['attribute[PROBLEM]', 'OUT']] });
  const far = await file(t, t.base, t.server.data, {
    code: 'DOT-POTHOLE', ...north(here, 1500), description: 'A pothole far away',
    answers: POTHOLE });

  const ctx = await t.newContext({ permissions: ['geolocation'],
                                   geolocation: { latitude: here.lat, longitude: here.long } });
  const page = await ctx.newPage();
  const asked = [];
  page.on('request', (r) => {
    if (r.url().includes('/open311/'))
      asked.push(r.url());
  });
  await page.goto(t.url('/report/DOT-POTHOLE'));
  const lat = page.getByLabel('Latitude', { exact: true });
  const long = page.getByLabel('Longitude', { exact: true });
  assert.equal(asked.length, 0, 'nothing asked before the button is pressed');
  await page.getByRole('button', { name: 'Use my current location' }).click();
  await page.getByRole('status').filter({ hasText: 'Your location is now the exact point' })
    .waitFor();
  assert.equal(await lat.inputValue(), here.lat.toFixed(6));
  assert.equal(await long.inputValue(), here.long.toFixed(6));
  // The open requests of the same service within 200 m, from Open311.
  await page.getByRole('heading', { name: 'Open requests nearby' }).waitFor();
  assert.deepEqual(await nearbyLinks(page), [`Request ${mine}`]);
  const item = page.locator('fieldset.location .nearby li');
  assert.match(await item.innerText(), /Pothole near the corner, nearby test/);
  assert.equal(await item.getByRole('link').getAttribute('href'), `/requests/${mine}`);
  assert.match(await mainText(page), /Is this yours\? Follow it instead/);
  for (const n of [other, far])
    assert.ok(!(await nearbyLinks(page)).includes(`Request ${n}`), `request ${n} listed`);
  assert.equal(asked.length, 1, asked.join('\n'));
  const q = new URL(asked[0]).searchParams;
  assert.deepEqual(Object.fromEntries(q), {
    service_code: 'DOT-POTHOLE', lat: String(Number(here.lat.toFixed(6))),
    long: String(Number(here.long.toFixed(6))), radius: '200', status: 'open', page_size: '5' });
  await t.axeCheck(page);

  // Typing another point asks again: nothing there.
  await lat.fill(String(north(here, 5000).lat));
  await lat.press('Tab');
  await page.waitForFunction(() => !document.querySelector('fieldset.location .nearby h2'));
  assert.deepEqual(await nearbyLinks(page), []);
}

export async function test_a_refused_location_is_said_politely(t) {
  // No permission given: Chromium answers as if the resident said no.
  const page = await t.newPage();
  await page.goto(t.url('/report/DOT-POTHOLE'));
  await page.getByRole('button', { name: 'Use my current location' }).click();
  const status = page.getByRole('status').filter({ hasText: /did not share your location/ });
  await status.waitFor();
  assert.equal(await status.innerText(),
               'Your browser did not share your location. You can type the address instead.');
  assert.equal(await page.getByLabel('Latitude', { exact: true }).inputValue(), '');
  assert.ok(await page.getByLabel(/^Address or place/).isVisible());
  // The report goes on with the address alone.
  await fillReport(page, sampleReport('DOT-POTHOLE'));
  await clickAndWait(page, page.getByRole('button', { name: 'Review the report' }));
  await page.getByRole('heading', { level: 1, name: 'Check your report' }).waitFor();
}

// ---- the map ----

export async function test_map_pin_by_click_and_by_keyboard(t) {
  await withMapServer(t, async (server, tile) => {
    const near = await file(t, server.base, mapData, {
      code: 'DOT-POTHOLE', ...north({ lat: CENTRE.lat, long: CENTRE.long }, 40),
      description: 'Pothole by the map centre', answers: POTHOLE });
    const page = await mapPage(t, server, tile);
    const before = tile.asked.length;
    const res = await page.goto(server.url('/report/DOT-POTHOLE'));
    const csp = parseCsp(res.headers()['content-security-policy']);
    assert.deepEqual(csp.get('img-src'), ["'self'", 'data:', tile.origin]);
    const map = page.getByRole('application', { name: 'Map: put a pin where the problem is' });
    await map.waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('.map-tile')]
      .some((i) => i.complete && i.naturalWidth === 256));
    const first = tile.asked.slice(before);
    assert.ok(first.length >= 4, `tiles asked: ${JSON.stringify(first)}`);
    assert.ok(first.every(([z]) => z === 15), JSON.stringify(first));
    // The attribution, linked through the exit notice (P10).
    const attribution = page.getByRole('link', { name: 'Test tiles (c) Civic311 contributors' });
    assert.equal(await attribution.getAttribute('href'),
                 `/leaving?to=${encodeURIComponent('https://tiles.example.org/copyright')}`);

    // A click in the middle of the map: the point is the map's centre.
    const lat = page.getByLabel('Latitude', { exact: true });
    const long = page.getByLabel('Longitude', { exact: true });
    await map.click();
    await page.getByRole('status').filter({ hasText: 'Pin placed' }).waitFor();
    assert.ok(Math.abs(Number(await lat.inputValue()) - CENTRE.lat) < 0.0005,
              await lat.inputValue());
    assert.ok(Math.abs(Number(await long.inputValue()) - CENTRE.long) < 0.0005,
              await long.inputValue());
    // The pin's tip (the bottom middle of its box) is where the click was.
    const mapBox = await map.boundingBox();
    const pinBox = await page.locator('.map-pin').boundingBox();
    assert.ok(pinBox, 'no pin on the map');
    assert.ok(Math.abs(pinBox.x + pinBox.width / 2 - (mapBox.x + mapBox.width / 2)) <= 2 &&
              Math.abs(pinBox.y + pinBox.height - (mapBox.y + mapBox.height / 2)) <= 2,
              `the pin ${JSON.stringify(pinBox)} is not where the map ${JSON.stringify(mapBox)} ` +
              'was clicked');
    await page.getByRole('heading', { name: 'Open requests nearby' }).waitFor();
    assert.deepEqual(await nearbyLinks(page), [`Request ${near}`]);

    // A click 100 px right of the centre: east of it, the same latitude.
    await page.mouse.click(mapBox.x + mapBox.width / 2 + 100, mapBox.y + mapBox.height / 2);
    await page.waitForFunction((v) => Number(document.getElementById('long').value) > v,
                               CENTRE.long + 0.0005);
    // 100 px at zoom 15 is 100 / (256 * 2^15) of 360 degrees.
    const east = Number(await long.inputValue()) - CENTRE.long;
    assert.ok(Math.abs(east - 100 * 360 / (256 * 2 ** 15)) < 0.00005, String(east));

    // The keyboard: Tab to the map, arrows move it, Enter puts the pin in
    // its centre; + zooms (new tiles at 16).
    await map.focus();
    const wasLat = Number(await lat.inputValue());
    for (let i = 0; i < 3; i++)
      await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Enter');
    await page.waitForFunction((v) => Number(document.getElementById('lat').value) > v, wasLat);
    assert.ok(Number(await lat.inputValue()) > CENTRE.lat + 0.001, await lat.inputValue());
    const asked = tile.asked.length;
    await page.keyboard.press('+');
    await page.waitForFunction(() => document.querySelectorAll('.map-tile').length > 0 &&
      [...document.querySelectorAll('.map-tile')].every((i) => /\/16\//.test(i.src) &&
                                                              i.complete && i.naturalWidth));
    assert.ok(tile.asked.slice(asked).some(([z]) => z === 16));
    await page.getByRole('button', { name: 'Zoom out' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('.map-tile')]
      .every((i) => /\/15\//.test(i.src)));
    await t.axeCheck(page);

    // A point typed in moves the pin there, in the middle of the map.
    await lat.fill(String(CENTRE.lat));
    await long.fill(String(CENTRE.long));
    await long.press('Tab');
    await page.waitForFunction(() => {
      const m = document.querySelector('.map').getBoundingClientRect();
      const p = document.querySelector('.map-pin').getBoundingClientRect();
      return Math.abs(p.left + p.width / 2 - (m.left + m.width / 2)) <= 2 &&
             Math.abs(p.bottom - (m.top + m.height / 2)) <= 2;
    });

    // The pin goes with the report: the review shows the point and the
    // same nearby request (from the server, as without JavaScript).
    await fillReport(page, { ...sampleReport('DOT-POTHOLE'), address: '' });
    await clickAndWait(page, page.getByRole('button', { name: 'Review the report' }));
    await page.getByRole('heading', { level: 1, name: 'Check your report' }).waitFor();
    const text = await mainText(page);
    assert.ok(text.includes(`Exact point ${CENTRE.lat}, ${CENTRE.long}`), text);
    assert.ok(text.includes(`Open requests nearby Is this yours? Follow it instead of sending ` +
                            `a new report. Request ${near} `), text);
  });
}

export async function test_map_on_a_phone_fits_and_passes_axe(t) {
  await withMapServer(t, async (server, tile) => {
    const page = await mapPage(t, server, tile, { viewport: 'phone' });
    await page.goto(server.url('/report/DOT-POTHOLE'));
    const map = page.getByRole('application', { name: 'Map: put a pin where the problem is' });
    await map.waitFor();
    await map.tap();
    await page.getByRole('status').filter({ hasText: 'Pin placed' }).waitFor();
    assert.notEqual(await page.getByLabel('Latitude', { exact: true }).inputValue(), '');
    const { scroll, inner } = await sidewaysScroll(page);
    assert.ok(scroll <= inner, `the page scrolls sideways: ${scroll}px > ${inner}px`);
    await page.setViewportSize({ width: 320, height: 640 });
    const at320 = await sidewaysScroll(page);
    assert.ok(at320.scroll <= at320.inner, `at 320px: ${at320.scroll}px > ${at320.inner}px`);
    await t.axeCheck(page);
    // Without JavaScript the same page has no map, and no tile is asked.
    const before = tile.asked.length;
    const plain = await mapPage(t, server, tile, { javaScriptEnabled: false });
    await plain.goto(server.url('/report/DOT-POTHOLE'));
    assert.equal(await plain.locator('.map-box').isVisible(), false);
    assert.equal(tile.asked.length, before);
    await plain.getByLabel(/^Address or place/).waitFor();
  });
}

// ---- sending on a weak connection ----

export async function test_a_dropped_connection_keeps_everything_typed(t) {
  t.expectConsoleError(/ERR_INTERNET_DISCONNECTED/);
  const r = sampleReport('DOT-POTHOLE');
  const page = t.page;
  await page.goto(t.url('/report/DOT-POTHOLE'));
  await fillReport(page, r);
  await page.getByLabel('Latitude', { exact: true }).fill('40.7130');
  await page.getByLabel('Longitude', { exact: true }).fill('-74.0070');
  const url = page.url();
  await t.context.setOffline(true);
  await page.getByRole('button', { name: 'Review the report' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'could not be sent' });
  await alert.waitFor();
  assert.equal(await alert.innerText(), OFFLINE_ALERT);
  assert.equal(page.url(), url, 'the page changed');
  await checkReportKept(page, r);
  assert.equal(await page.getByLabel('Latitude', { exact: true }).inputValue(), '40.7130');
  assert.equal(await page.getByLabel('Longitude', { exact: true }).inputValue(), '-74.0070');

  // Back online, the same button: the review.
  await t.context.setOffline(false);
  await clickAndWait(page, page.getByRole('button', { name: 'Review the report' }));
  await page.getByRole('heading', { level: 1, name: 'Check your report' }).waitFor();
  assert.equal(await page.getByRole('alert').count(), 0);

  // And from the review: "Send" offline keeps the review; online, it files.
  await t.context.setOffline(true);
  await page.getByRole('button', { name: 'Send the report' }).click();
  await page.getByRole('alert').filter({ hasText: 'could not be sent' }).waitFor();
  await page.getByRole('heading', { level: 1, name: 'Check your report' }).waitFor();
  await t.context.setOffline(false);
  await clickAndWait(page, page.getByRole('button', { name: 'Send the report' }));
  assert.match(page.url(), /\/requests\/\d+\?filed=1$/);
  await page.getByRole('status').filter({ hasText: 'your request was received' }).waitFor();
}

export async function test_pressing_twice_sends_once(t) {
  const page = t.page;
  await page.goto(t.url('/report/DOT-POTHOLE'));
  await fillReport(page, sampleReport('DOT-POTHOLE'));
  const posts = [];
  // Slow the answer down so the second press comes while the first is out.
  await page.route((u) => u.pathname === '/report/DOT-POTHOLE', async (route) => {
    if (route.request().method() === 'POST') {
      posts.push(route.request().resourceType());
      await new Promise((resolve) => setTimeout(resolve, 800));
    }
    await route.continue();
  });
  const button = page.getByRole('button', { name: 'Review the report' });
  const done = clickAndWait(page, button);
  await page.waitForFunction(() => document.querySelector('form.report[aria-busy=true]'));
  await button.click();
  await button.click();
  await done;
  await page.getByRole('heading', { level: 1, name: 'Check your report' }).waitFor();
  assert.deepEqual(posts, ['fetch'], 'one POST, sent by site.js');
}
