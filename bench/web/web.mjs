#!/usr/bin/env node
// web.mjs - the website benchmark of issue 4 ("Measured"): the weight and
// the render time of 311 Online's pages in Debian's headless Chromium, each
// against a static copy of the same bytes served by nginx. `bench/run web`
// runs it in two steps, with nginx started in between by bench/lib.sh:
//
//   node bench/web/web.mjs copy --base URL --request ID --dir NGINX-DIR --manifest FILE
//        [--page NAME=PATH]...
//     Loads each page in Chromium (phone and desktop viewports) from the
//     civic311 at URL and writes every same-origin response the page loaded
//     (document, stylesheet, scripts, images: whatever Chromium asked for,
//     nothing listed by hand) into NGINX-DIR/www at the same path, and
//     NGINX-DIR/server.conf: one exact `location` a path, sending the
//     headers civic311 sent with it (bench/lib.sh's nginx_start includes
//     it). FILE lists the pages and files.
//
//   node bench/web/web.mjs measure --ours URL --static URL --manifest FILE
//        [--rounds N] --out RESULT.json
//     Weight: each page once a side and viewport in a fresh context, every
//     response's bytes as the DevTools protocol reports them.
//     Time: N rounds; in each, every page and viewport is loaded in a fresh
//     context from civic311 and from nginx (which side goes first swaps
//     every round, so the machine's noise hits both), and its navigation
//     timing and first-contentful-paint read in the page. A warm-up round
//     first is not kept.
//
// The default pages: home `/`, the home page's search for that service's
// first keyword, the report form of the demo service whose questions have
// the most kinds of answer, the request page of request ID (filed by
// bench/run through the API), and the privacy policy; --page adds more.
// Chromium's flags and launch come from tests/web/harness.mjs, and so does
// playwright-core (tests/web/node_modules). Node 18 features only, as
// tests/web.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VIEWPORTS, fetchRaw, launchChromium } from '../../tests/web/harness.mjs';

const LOCALE = 'en-US';
// Issue 4: "no page over 100 KB before photos"; read strictly, 100,000 bytes.
const WEIGHT_LIMIT = 100000;
const RATIO_TARGET = 1.2;
const NAV_TIMEOUT_MS = 30000;

// Headers nginx writes itself (or that describe the connection or the
// framing), so the copy's configuration does not repeat them. Content-Type
// becomes the location's default_type.
const OWN_HEADERS = new Set(['date', 'server', 'content-length', 'connection', 'keep-alive',
                             'transfer-encoding', 'content-type']);

const USAGE = `usage:
  node bench/web/web.mjs copy --base URL --request ID --dir NGINX-DIR --manifest FILE [--page NAME=PATH]...
  node bench/web/web.mjs measure --ours URL --static URL --manifest FILE [--rounds N] --out FILE`;

function die(msg) {
  console.error(`bench web: ${msg}`);
  process.exit(1);
}

function say(msg) {
  console.error(msg);
}

function parseArgs(argv) {
  const a = { cmd: argv[0], page: [], rounds: 30 };
  if (a.cmd !== 'copy' && a.cmd !== 'measure')
    die(`first argument: copy or measure\n${USAGE}`);
  for (let i = 1; i < argv.length; i++) {
    const m = /^--(base|request|dir|manifest|page|ours|static|rounds|out)$/.exec(argv[i]);
    if (!m || i + 1 >= argv.length)
      die(`bad argument ${argv[i]}\n${USAGE}`);
    const v = argv[++i];
    if (m[1] === 'page') a.page.push(v);
    else if (m[1] === 'rounds') a.rounds = Number(v);
    else a[m[1]] = v;
  }
  const need = a.cmd === 'copy' ? ['base', 'request', 'dir', 'manifest']
    : ['ours', 'static', 'manifest', 'out'];
  for (const k of need)
    if (!a[k])
      die(`${a.cmd} needs --${k}\n${USAGE}`);
  if (!Number.isInteger(a.rounds) || a.rounds < 1)
    die('--rounds wants a whole number of at least 1');
  return a;
}

async function getJson(url) {
  const r = await fetchRaw(url);
  if (r.status !== 200)
    die(`GET ${url}: ${r.status}`);
  return JSON.parse(r.text());
}

/** The demo service whose form asks the most kinds of question (then the
 * most questions; catalog order breaks ties), from the server's own API. */
async function richestService(base) {
  let best = null;
  for (const s of await getJson(`${base}/open311/v2/services.json`)) {
    if (!s.metadata)
      continue;
    const def = await getJson(`${base}/open311/v2/services/${encodeURIComponent(s.service_code)}.json`);
    const qs = def.attributes.filter((x) => x.variable);
    const score = [new Set(qs.map((x) => x.datatype)).size, qs.length];
    if (!best || score[0] > best.score[0] || (score[0] === best.score[0] && score[1] > best.score[1]))
      best = { code: s.service_code, score, types: [...new Set(qs.map((x) => x.datatype))],
               word: (s.keywords || s.service_name).split(/[,\s]+/).filter(Boolean)[0] };
  }
  if (!best)
    die('the catalog has no service with questions');
  return best;
}

function contextOptions(vname) {
  return { ...VIEWPORTS[vname], locale: LOCALE };
}

/** Waits until the page has had no request in flight for 500 ms, for
 * what scripts load after the load event; a page that never goes quiet (a
 * poll) is noted and taken as it is after 10 s. */
async function quiet(page, url) {
  await page.waitForLoadState('networkidle', { timeout: 10000 })
    .catch(() => say(`   note: ${url} was still loading 10 s after its load event`));
}

// ---- copy: what each page loads, written out for nginx ----

/** A URL path as a file under www: "/" is index.html, a trailing "/" gets
 * index.html, the rest as it is (percent-decoded; the URL parser has
 * already removed dot segments). */
function fileFor(uri) {
  const p = uri.endsWith('/') ? `${uri}index.html` : uri;
  if (!p.startsWith('/') || p.split('/').some((x) => x === '..' || x === '.'))
    die(`cannot copy ${uri}`);
  return p;
}

/** An nginx quoted string; refuses what nginx would read as a variable,
 * and control characters but for the line breaks and tabs of a body. */
function nginxString(s, body = false) {
  if (/[$\x00-\x08\x0b-\x1f\x7f]/.test(s) || (!body && /[\t\n]/.test(s)))
    die(`cannot write ${JSON.stringify(s)} in nginx's configuration`);
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

/** Loads url in a fresh context and adds to files every same-origin
 * response it took: playwright's responses (what the page asked for) and,
 * through the DevTools protocol, what the browser asked for on its own
 * (/favicon.ico), fetched again with the page's cookie. Other origins go to
 * other. Returns the paths loaded. */
async function loadAndKeep(browser, url, vname, files, other) {
  const origin = new URL(url).origin;
  const ctx = await browser.newContext(contextOptions(vname));
  try {
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    const asked = new Set();
    cdp.on('Network.requestWillBeSent', (e) => asked.add(e.request.url));
    await cdp.send('Network.enable');
    const responses = [];
    page.on('response', (r) => responses.push(r));
    const failed = [];
    page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
    await page.goto(url, { waitUntil: 'load', timeout: NAV_TIMEOUT_MS });
    // What scripts load after the load event (a map's tiles, say) too.
    await quiet(page, url);
    for (const f of failed)
      if (new URL(f.split(': ')[0]).origin === origin)
        die(`${url} (${vname}): a request failed: ${f}`);
    const loaded = [];
    const keep = async (u, get) => {
      const key = u.pathname + u.search;
      if (!files.has(key)) {
        const f = await get();
        // 2xx (a script's beacon may get a 204); 404 only for the favicon.
        if (!(f.status >= 200 && f.status < 300) && !(f.browsers && f.status === 404))
          die(`${url} (${vname}) loads ${u.href}, which answers ${f.status}`);
        files.set(key, { key, path: u.pathname, search: u.search, ...f,
                         headers: f.headers.filter((h) => !OWN_HEADERS.has(h.name.toLowerCase())) });
      }
      loaded.push(key);
    };
    const seen = new Set();
    for (const r of responses) {
      const u = new URL(r.url());
      seen.add(r.url());
      if (u.origin !== origin) {
        other.add(r.url());
        continue;
      }
      await keep(u, async () => ({
        status: r.status(), type: r.request().resourceType(),
        contentType: (await r.headerValue('content-type')) || '',
        headers: await r.headersArray(), body: await r.body(),
      }));
    }
    const cookie = (await ctx.cookies(origin)).map((c) => `${c.name}=${c.value}`).join('; ');
    for (const href of asked) {
      const u = new URL(href);
      if (seen.has(href) || u.protocol === 'data:')
        continue;
      if (u.origin !== origin) {
        other.add(href);
        continue;
      }
      // Not a response of the page's: the browser's own (the favicon). A
      // site without one answers 404, and that answer is copied too.
      await keep(u, async () => {
        const r = await fetchRaw(href, { headers: { 'Accept-Language': LOCALE,
                                                    ...(cookie ? { Cookie: cookie } : {}) } });
        const headers = [];
        for (let i = 0; i < r.rawHeaders.length; i += 2)
          headers.push({ name: r.rawHeaders[i], value: r.rawHeaders[i + 1] });
        return { status: r.status, type: 'browser', browsers: true,
                 contentType: r.headers['content-type'] || '', headers, body: r.body };
      });
    }
    return loaded;
  } finally {
    await ctx.close();
  }
}

function textOf(f) {
  const t = f.body.toString('utf8');
  if (!Buffer.from(t, 'utf8').equals(f.body))
    die(`${f.path}: a ${f.status} answer that is not text cannot be copied`);
  return t;
}

/** The answer of one file of the copy, inside its location. */
function answer(f) {
  const out = [`    default_type ${nginxString(f.contentType)};`];
  for (const h of f.headers)
    out.push(`    add_header ${nginxString(h.name)} ${nginxString(h.value)} always;`);
  if (f.status === 200)
    out.push(`    try_files ${nginxString(f.file)} =404;`);
  else if (f.body.length === 0)
    out.push(`    return ${f.status};`);
  else // the same answer, from the configuration (error pages are small)
    out.push(`    return ${f.status} ${nginxString(textOf(f), true)};`);
  return out;
}

/** DIR/www: every file at its path (one with a query under /__query/N, as
 * a file has no query); DIR/server.conf: an exact location a path, with
 * civic311's headers, sending a query's file by its $args. */
function writeCopy(dir, files) {
  const www = path.join(dir, 'www');
  fs.mkdirSync(www, { recursive: true });
  const all = [...files.values()].sort((x, y) => (x.key < y.key ? -1 : 1));
  let n = 0;
  for (const f of all) {
    f.uri = decodeURIComponent(f.path); // what nginx's locations match
    f.file = f.search ? `/__query/${++n}` : fileFor(f.uri);
  }
  // A path that is also a directory of another (/requests and
  // /requests/1) is kept as that directory's index.html.
  const dirs = new Set();
  for (const f of all)
    for (let d = path.posix.dirname(f.file); d !== '/'; d = path.posix.dirname(d))
      dirs.add(d);
  const taken = new Set();
  for (const f of all) {
    if (dirs.has(f.file))
      f.file += '/index.html';
    if (taken.has(f.file))
      die(`two paths would be one file in the copy: ${f.file}`);
    taken.add(f.file);
    const target = path.join(www, f.file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, f.body);
  }
  const conf = [
    '# Written by bench/web/web.mjs copy: one location a path of the static',
    '# copy, with the headers civic311 sent with it. nginx adds Date, Server,',
    '# Content-Length, Connection and Last-Modified of its own.',
    'server_tokens off;',
    'etag off;',
    'max_ranges 0; # no Accept-Ranges: civic311 does not serve ranges either',
  ];
  const uris = [...new Set(all.map((f) => f.uri))];
  for (const uri of uris) {
    const same = all.filter((f) => f.uri === uri);
    const plain = same.find((f) => !f.search);
    conf.push(`location = ${nginxString(uri)} {`);
    for (const f of same.filter((x) => x.search))
      conf.push(`    if ($args = ${nginxString(f.search.slice(1))}) { rewrite ^ ${f.file} last; }`);
    conf.push(...(plain ? answer(plain) : ['    return 404;']), '}');
    for (const f of same.filter((x) => x.search))
      conf.push(`location = ${f.file} {`, '    internal;', ...answer(f), '}');
  }
  conf.push('location / { return 404; }', '');
  fs.writeFileSync(path.join(dir, 'server.conf'), conf.join('\n'));
}

async function copy(a) {
  const base = a.base.replace(/\/$/, '');
  const svc = await richestService(base);
  const pages = [
    { name: 'home', path: '/' },
    { name: 'search', path: `/?q=${encodeURIComponent(svc.word)}` },
    { name: 'report', path: `/report/${encodeURIComponent(svc.code)}`,
      note: `${svc.code}: ${svc.score[1]} questions, ${svc.types.join(', ')}` },
    { name: 'request', path: `/requests/${encodeURIComponent(a.request)}` },
    { name: 'privacy', path: '/privacy' },
  ];
  for (const p of a.page) {
    const m = /^([\w-]+)=(\/.*)$/.exec(p);
    if (!m)
      die(`--page wants NAME=/PATH, not ${p}`);
    pages.push({ name: m[1], path: m[2] });
  }
  const browser = await launchChromium();
  const files = new Map();
  const other = new Set();
  try {
    for (const p of pages) {
      const loaded = new Set();
      for (const vname of Object.keys(VIEWPORTS))
        for (const k of await loadAndKeep(browser, base + p.path, vname, files, other))
          loaded.add(k);
      p.files = [...loaded];
      say(`   ${p.name} ${p.path}: ${p.files.length} files (${p.files.join(', ')})`);
    }
  } finally {
    await browser.close();
  }
  if (other.size)
    say(`   not copied (another origin): ${[...other].join(', ')}`);
  writeCopy(a.dir, files);
  const manifest = {
    pages,
    files: [...files.values()].map((f) => ({ path: f.path, search: f.search, file: f.file,
                                            status: f.status, type: f.type,
                                            bytes: f.body.length, content_type: f.contentType })),
    other_origin: [...other],
  };
  fs.writeFileSync(a.manifest, JSON.stringify(manifest, null, 1));
}

// ---- measure ----

/** One cold load (a fresh context: no cache, no cookie, a new connection)
 * with the DevTools protocol's Network domain on: every response's status,
 * headers and bytes received (encodedDataLength of loadingFinished: the
 * status line, headers and body as they came off the socket), and the
 * body sizes of the page's own resource timing. */
async function weigh(browser, url, vname, browserPaths, statusOf) {
  const ctx = await browser.newContext(contextOptions(vname));
  try {
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    const reqs = new Map();
    cdp.on('Network.requestWillBeSent', (e) => {
      // A redirect reuses the id: keep the hop, which fails the check below.
      if (e.redirectResponse)
        reqs.set(`${e.requestId} ${reqs.size}`, { url: e.redirectResponse.url, type: e.type,
                                                   status: e.redirectResponse.status });
      reqs.set(e.requestId, { url: e.request.url, type: e.type });
    });
    cdp.on('Network.responseReceived', (e) => {
      const r = reqs.get(e.requestId);
      if (r) {
        r.status = e.response.status;
        r.headers = e.response.headers;
      }
    });
    cdp.on('Network.loadingFinished', (e) => {
      const r = reqs.get(e.requestId);
      if (r)
        r.transfer = e.encodedDataLength;
    });
    cdp.on('Network.loadingFailed', (e) => {
      const r = reqs.get(e.requestId);
      if (r)
        r.failed = e.errorText;
    });
    await cdp.send('Network.enable');
    await page.goto(url, { waitUntil: 'load', timeout: NAV_TIMEOUT_MS });
    await quiet(page, url);
    const timing = await page.evaluate(() => [
      ...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource'),
    ].map((e) => ({ url: e.name, encoded: e.encodedBodySize, decoded: e.decodedBodySize,
                    transferSize: e.transferSize })));
    await cdp.detach();
    const origin = new URL(url).origin;
    const out = { requests: 0, transfer: 0, body: 0, decoded: 0, resources: [], other_origin: [],
                  browser_own: [] };
    for (const r of reqs.values()) {
      const u = new URL(r.url);
      const rpath = u.pathname + u.search;
      if (u.origin !== origin) {
        out.other_origin.push(r.url);
        continue;
      }
      if (browserPaths.has(u.pathname)) { // the favicon: not the page's, and not every time
        out.browser_own.push({ path: rpath, status: r.status ?? null, transfer: r.transfer ?? null });
        continue;
      }
      if (r.failed || r.status !== (statusOf.get(rpath) ?? 200))
        die(`${url} (${vname}): ${r.url}: ${r.failed || r.status}`);
      const rt = timing.find((x) => x.url === r.url) || {};
      const headers = Object.fromEntries(Object.entries(r.headers || {})
        .map(([k, v]) => [k.toLowerCase(), v]));
      out.requests++;
      out.transfer += r.transfer;
      out.body += rt.encoded ?? 0;
      out.decoded += rt.decoded ?? 0;
      out.resources.push({ path: rpath, type: r.type, transfer: r.transfer,
                           body: rt.encoded ?? null, rt_transfer_size: rt.transferSize ?? null,
                           content_encoding: headers['content-encoding'] || null,
                           header_names: Object.keys(headers).sort() });
    }
    return out;
  } finally {
    await ctx.close();
  }
}

/** In the page, once loaded: its navigation timing (ms from the start of
 * the navigation) and first-contentful-paint, and what it loaded. */
function readTimings(statusOf) {
  return new Promise((resolve) => {
    let called = false;
    const done = (fcp) => {
      if (called)
        return;
      called = true;
      const poll = () => {
        const n = performance.getEntriesByType('navigation')[0];
        if (!n || n.loadEventEnd === 0) {
          setTimeout(poll, 5);
          return;
        }
        const res = performance.getEntriesByType('resource');
        resolve({
          responseEnd: n.responseEnd, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd,
          fcp, status: n.responseStatus,
          bad: res.filter((r) => new URL(r.name).origin === location.origin &&
                                 r.responseStatus !== (statusOf[new URL(r.name).pathname +
                                                                 new URL(r.name).search] ?? 200))
            .map((r) => `${r.name}: ${r.responseStatus}`),
          requests: 1 + res.length,
          body: n.encodedBodySize + res.reduce((s, r) => s + r.encodedBodySize, 0),
        });
      };
      poll();
    };
    const seen = performance.getEntriesByName('first-contentful-paint')[0];
    if (seen) {
      done(seen.startTime);
      return;
    }
    new PerformanceObserver((list) => {
      const e = list.getEntries().find((x) => x.name === 'first-contentful-paint');
      if (e)
        done(e.startTime);
    }).observe({ type: 'paint', buffered: true });
    setTimeout(() => done(null), 5000); // a page that paints nothing
  });
}

async function timeOnce(browser, url, vname, statusOf) {
  const ctx = await browser.newContext(contextOptions(vname));
  try {
    const page = await ctx.newPage();
    const res = await page.goto(url, { waitUntil: 'load', timeout: NAV_TIMEOUT_MS });
    if (!res || res.status() !== 200)
      die(`${url} (${vname}): ${res ? res.status() : 'no response'}`);
    const t = await page.evaluate(readTimings, Object.fromEntries(statusOf));
    if (t.status !== 200 || t.bad.length)
      die(`${url} (${vname}): ${[t.status, ...t.bad].join(', ')}`);
    return t;
  } finally {
    await ctx.close();
  }
}

const METRICS = ['responseEnd', 'dcl', 'load', 'fcp'];

function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function p90(xs) { // nearest rank
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.max(0, Math.ceil(0.9 * s.length) - 1)];
}

function values(runs, k) {
  return runs.map((r) => r[k]).filter((x) => typeof x === 'number');
}

function summary(runs) {
  const out = {};
  for (const k of METRICS) {
    const xs = values(runs, k);
    out[k] = xs.length ? { median: round(median(xs)), p90: round(p90(xs)), n: xs.length,
                           all: xs.map(round) } : null;
  }
  out.body_bytes = median(runs.map((r) => r.body));
  out.requests = median(runs.map((r) => r.requests));
  return out;
}

/** A 95% bootstrap interval of median(a) / median(b): 2000 resamples of
 * each side (a fixed seed, so a result can be recomputed), the 2.5th and
 * 97.5th percentiles. It says how far the machine's noise alone moves the
 * ratio: a page whose interval holds 1.20 is not clearly over the target. */
function ratioInterval(a, b) {
  let seed = 311;
  const rand = () => { // a 32-bit LCG (Numerical Recipes' constants)
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 4294967296;
  };
  const pick = (xs) => xs.map(() => xs[Math.floor(rand() * xs.length)]);
  const rs = [];
  for (let i = 0; i < 2000; i++) {
    const mb = median(pick(b));
    rs.push(mb > 0 ? median(pick(a)) / mb : Infinity);
  }
  rs.sort((x, y) => x - y);
  return [round(rs[49]), round(rs[1949])];
}

function round(x) {
  return Math.round(x * 100) / 100;
}

async function measure(a) {
  const manifest = JSON.parse(fs.readFileSync(a.manifest, 'utf8'));
  const sides = { civic: a.ours.replace(/\/$/, ''), nginx: a.static.replace(/\/$/, '') };
  const vnames = Object.keys(VIEWPORTS);
  const statusOf = new Map(manifest.files.map((f) => [f.path + f.search, f.status]));
  const browserPaths = new Set(manifest.files.filter((f) => f.type === 'browser').map((f) => f.path));
  const started = Date.now();
  const browser = await launchChromium();
  const result = {
    chromium: browser.version(), rounds: a.rounds, locale: LOCALE,
    loadavg_start: os.loadavg().map(round), loadavg_end: null, seconds: null,
    weight_limit_bytes: WEIGHT_LIMIT, ratio_target: RATIO_TARGET,
    viewports: Object.fromEntries(vnames.map((v) => [v, VIEWPORTS[v].viewport])),
    pages: manifest.pages.map((p) => ({ name: p.name, path: p.path, note: p.note || null,
                                        weight: {}, timing: {} })),
    other_origin_not_copied: manifest.other_origin,
    browser_own: manifest.files.filter((f) => f.type === 'browser'),
  };
  try {
    say(`   weight: one cold load per page, viewport and side (Chromium ${browser.version()})`);
    for (const p of result.pages) {
      for (const v of vnames) {
        p.weight[v] = {};
        for (const [side, base] of Object.entries(sides))
          p.weight[v][side] = await weigh(browser, base + p.path, v, browserPaths, statusOf);
        const c = p.weight[v].civic;
        const n = p.weight[v].nginx;
        say(`   ${p.name} ${v}: ${c.requests} requests, ${c.transfer} bytes received from ` +
            `civic311 (bodies ${c.body}), ${n.transfer} from nginx (bodies ${n.body})`);
        if (c.requests !== n.requests || c.body !== n.body)
          say(`   note: ${p.name} ${v}: the two sides differ in what the page loaded`);
      }
    }
    const runs = new Map(); // "page|viewport|side" -> [timings]
    for (let r = 0; r <= a.rounds; r++) { // round 0: warm-up, not kept
      for (const p of result.pages) {
        for (const v of vnames) {
          const order = r % 2 ? ['nginx', 'civic'] : ['civic', 'nginx'];
          for (const side of order) {
            const t = await timeOnce(browser, sides[side] + p.path, v, statusOf);
            if (r === 0)
              continue;
            const k = `${p.name}|${v}|${side}`;
            if (!runs.has(k))
              runs.set(k, []);
            runs.get(k).push(t);
          }
        }
      }
      if (r > 0 && (r % 10 === 0 || r === a.rounds))
        say(`   timing: round ${r} of ${a.rounds}`);
    }
    for (const p of result.pages) {
      for (const v of vnames) {
        const c = summary(runs.get(`${p.name}|${v}|civic`));
        const n = summary(runs.get(`${p.name}|${v}|nginx`));
        const ratio = {};
        const interval = {};
        for (const k of METRICS) {
          const ok = c[k] && n[k] && n[k].median > 0;
          ratio[k] = ok ? round(c[k].median / n[k].median) : null;
          interval[k] = ok ? ratioInterval(c[k].all, n[k].all) : null;
        }
        p.timing[v] = { civic: c, nginx: n, ratio, ratio_95: interval };
        say(`   ${p.name} ${v}: FCP ${c.fcp?.median} vs ${n.fcp?.median} ms (${ratio.fcp}), ` +
            `load ${c.load.median} vs ${n.load.median} ms (${ratio.load})`);
      }
    }
  } finally {
    await browser.close();
  }
  result.loadavg_end = os.loadavg().map(round);
  result.seconds = Math.round((Date.now() - started) / 1000);
  fs.writeFileSync(a.out, JSON.stringify(result));
}

const args = parseArgs(process.argv.slice(2));
(args.cmd === 'copy' ? copy(args) : measure(args)).catch((e) => die(e.stack || String(e)));
