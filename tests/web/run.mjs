#!/usr/bin/env node
// run.mjs - the browser tests: the real civic311 binary serving a demo
// installation on a free loopback port, and Debian's headless Chromium
// (driven by playwright-core) as the resident.
//
//   node tests/web/run.mjs --binary build/asan/civic311          # every test
//   node tests/web/run.mjs -k landing -k 404                     # ids containing a word
//   node tests/web/run.mjs --list                                # the test ids
//   node tests/web/run.mjs --keep                                # keep the store and logs
//   node tests/web/run.mjs --screenshots docs/screenshots        # pages.mjs -> PNGs, no tests
//
// One installation (`civic311 init --demo`) and one server for the run, one
// Chromium for the run, a fresh browser context (cookies, storage, cache)
// for each test. Exit status 0 only if every test passed, the server exited
// 0 on SIGTERM, and neither it nor any CLI run printed a sanitizer report.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  HERE, REPO, CHROMIUM, VIEWPORTS, Server, TestFailure, axeCheck, cli, fetchRaw,
  launchChromium, sanitizerLines,
} from './harness.mjs';

const TEST_TIMEOUT_MS = 60000;
const USAGE = 'usage: node tests/web/run.mjs [--binary PATH] [-k TEXT]... [--list] [--keep] ' +
              '[--screenshots DIR]';

function parseArgs(argv) {
  const a = { binary: path.join(REPO, 'build', 'asan', 'civic311'), k: [], list: false,
              keep: false, screenshots: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length)
        usage(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--binary') a.binary = value();
    else if (arg === '-k') a.k.push(value().toLowerCase());
    else if (arg === '--list') a.list = true;
    else if (arg === '--keep') a.keep = true;
    else if (arg === '--screenshots') a.screenshots = value();
    else if (arg === '-h' || arg === '--help') { console.log(USAGE); process.exit(0); }
    else usage(`unknown argument ${arg}`);
  }
  return a;
}

function usage(msg) {
  console.error(`web tests: ${msg}\n${USAGE}`);
  process.exit(2);
}

// ---- discovery: every exported function named test* of tests/web/test_*.mjs ----

async function discover() {
  const tests = [];
  const broken = [];
  const files = fs.readdirSync(HERE).filter((f) => /^test_.*\.mjs$/.test(f)).sort();
  for (const file of files) {
    const mod = path.basename(file, '.mjs').replace(/^test_/, '');
    const full = path.join(HERE, file);
    let exports;
    try {
      exports = await import(pathToFileURL(full).href);
    } catch (e) {
      broken.push({ id: `${mod}.<import>`,
                    error: new TestFailure(`cannot import tests/web/${file}:\n${e.stack || e}`) });
      continue;
    }
    // In the order of the source, not the alphabetical order of exports.
    const text = fs.readFileSync(full, 'utf8');
    const at = (name) => {
      const i = text.search(new RegExp(`function\\s+${name}\\b`));
      return i < 0 ? Infinity : i;
    };
    Object.keys(exports)
      .filter((name) => /^test/.test(name) && typeof exports[name] === 'function')
      .sort((x, y) => at(x) - at(y))
      .forEach((name) => tests.push({ id: `${mod}.${name}`, fn: exports[name] }));
  }
  return { tests, broken };
}

// ---- the fixture each test gets ----

class Fixture {
  constructor(id, server, browser) {
    this.id = id;
    this.server = server;
    this.browser = browser;
    this.base = server.base;
    this.contexts = [];
    this.consoleErrors = []; // every console error and uncaught page exception
    this.otherOrigins = []; // every request to anywhere but the server
    this.allowedConsole = [];
    this.allowedOrigins = [];
  }

  url(p = '/') {
    return /^[a-z]+:/.test(p) ? p : this.base + p;
  }

  /** A new browser context (its own cookies, storage and cache), closed
   * after the test. opts: playwright's newContext options, plus viewport:
   * 'phone' | 'desktop' for the screenshot viewports. Default: desktop,
   * locale en-US, the CSP enforced as served. */
  async newContext(opts = {}) {
    let o = { ...VIEWPORTS.desktop, locale: 'en-US', ...opts };
    if (typeof o.viewport === 'string') {
      const vp = VIEWPORTS[o.viewport];
      if (!vp)
        throw new Error(`no viewport "${o.viewport}" (${Object.keys(VIEWPORTS).join(', ')})`);
      o = { ...o, ...vp };
    }
    const ctx = await this.browser.newContext(o);
    this.contexts.push(ctx);
    ctx.setDefaultTimeout(15000);
    ctx.setDefaultNavigationTimeout(30000);
    const origin = new URL(this.base).origin;
    ctx.on('console', (msg) => {
      if (msg.type() === 'error')
        this.consoleErrors.push(`console error on ${msg.page()?.url() ?? '?'}: ${msg.text()}`);
    });
    ctx.on('weberror', (e) => this.consoleErrors.push(`uncaught exception on ` +
                                                      `${e.page()?.url() ?? '?'}: ${e.error()}`));
    // Nothing leaves the machine: a request to any other origin is
    // refused before it is sent, and fails the test unless allowed.
    await ctx.route((u) => u.origin !== origin, (route) => {
      this.otherOrigins.push(route.request().url());
      return route.abort('blockedbyclient');
    });
    return ctx;
  }

  /** A new page in a new context (see newContext). */
  async newPage(opts = {}) {
    const ctx = await this.newContext(opts);
    return ctx.newPage();
  }

  /** The raw response of one request to the server (see fetchRaw). */
  fetch(p, opts) {
    return fetchRaw(this.url(p), opts);
  }

  axeCheck(page = this.page, opts = {}) {
    return axeCheck(page, opts);
  }

  /** Console errors matching re do not fail this test (a test of a 404
   * page, of a CSP refusal). */
  expectConsoleError(re) {
    this.allowedConsole.push(re);
  }

  /** Requests to URLs matching re do not fail this test (following an
   * external link after the exit notice). They are still refused: the
   * browser never reaches another site. */
  allowOtherOrigin(re) {
    this.allowedOrigins.push(re);
  }

  /** Problems found after the test body passed. */
  leftovers() {
    const out = [];
    const console_ = this.consoleErrors.filter((m) => !this.allowedConsole.some((re) =>
      re.test(m)));
    if (console_.length)
      out.push(`console errors (t.expectConsoleError(/.../) if this test causes them on ` +
               `purpose):\n  ${console_.join('\n  ')}`);
    const other = this.otherOrigins.filter((u) => !this.allowedOrigins.some((re) => re.test(u)));
    if (other.length)
      out.push(`requests to another origin than the server's (no third party, no CDN):\n  ` +
               other.join('\n  '));
    return out;
  }

  async close() {
    await Promise.all(this.contexts.map((c) => c.close().catch(() => {})));
  }
}

async function runTest(test, server, browser) {
  const t = new Fixture(test.id, server, browser);
  let timer;
  const started = Date.now();
  try {
    t.context = await t.newContext();
    t.page = await t.context.newPage();
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new TestFailure(`timed out after ` +
                                                      `${TEST_TIMEOUT_MS / 1000}s`)),
                         TEST_TIMEOUT_MS);
    });
    await Promise.race([test.fn(t), timeout]);
    const left = t.leftovers();
    if (left.length)
      throw new TestFailure(left.join('\n'));
    return { ok: true, ms: Date.now() - started };
  } catch (e) {
    return { ok: false, ms: Date.now() - started, error: e };
  } finally {
    clearTimeout(timer);
    await t.close();
  }
}

function describeError(e) {
  if (e instanceof TestFailure || e?.name === 'AssertionError' ||
      e?.code === 'ERR_ASSERTION')
    return e.message;
  return (e && e.stack) ? e.stack.split('\n').slice(0, 12).join('\n') : String(e);
}

function indent(text, by = '    ') {
  return String(text).split('\n').map((l) => by + l).join('\n');
}

// ---- screenshots: every page of pages.mjs at each viewport ----

// How much of a long page a screenshot keeps (CSS pixels), unless the page
// says otherwise: enough for what the README shows, PNGs of ~100 KB.
const SHOT_MAX_HEIGHT = { phone: 1800, desktop: 1400 };

async function screenshots(dir, server, browser, k) {
  const { SCREENSHOTS } = await import('./pages.mjs');
  fs.mkdirSync(dir, { recursive: true });
  const pages = SCREENSHOTS.filter((p) => k.length === 0 ||
                                          k.some((w) => p.name.toLowerCase().includes(w)));
  let failed = 0;
  for (const p of pages) {
    for (const [vname, vp] of Object.entries(VIEWPORTS)) {
      const ctx = await browser.newContext({ ...vp, locale: p.locale || 'en-US' });
      ctx.setDefaultTimeout(15000);
      try {
        const page = await ctx.newPage();
        if (p.prepare) {
          await p.prepare(page, server.base);
        } else {
          const res = await page.goto(server.url(p.path), { waitUntil: 'load' });
          if (!res || res.status() !== (p.status || 200))
            throw new Error(`${p.path}: status ${res ? res.status() : 'none'}`);
        }
        await page.evaluate(() => document.fonts.ready.then(() => true));
        // The top of the page, as a person first sees it (a step may
        // have scrolled to its button).
        await page.evaluate(() => window.scrollTo(0, 0));
        const height = await page.evaluate(() => document.documentElement.scrollHeight);
        const file = path.join(dir, `${p.name}-${vname}.png`);
        await page.screenshot({
          path: file, fullPage: true, animations: 'disabled',
          clip: { x: 0, y: 0, width: vp.viewport.width,
                  height: Math.min(height, p.maxHeight || SHOT_MAX_HEIGHT[vname]) },
        });
        const rel = path.relative(process.cwd(), file);
        console.log(`screenshot ${rel.startsWith('..') ? file : rel} ` +
                    `(${Math.round(fs.statSync(file).size / 1024)} KB)`);
      } catch (e) {
        failed++;
        console.log(`FAIL screenshot ${p.name}-${vname}: ${describeError(e)}`);
      } finally {
        await ctx.close();
      }
    }
  }
  return failed;
}

// ---- main ----

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const binary = path.resolve(args.binary);

  const { tests: all, broken } = await discover();
  let tests = all;
  if (args.k.length)
    tests = all.filter((t) => args.k.some((w) => t.id.toLowerCase().includes(w)));
  if (args.list) {
    for (const t of tests)
      console.log(t.id);
    return 0;
  }
  if (!fs.existsSync(path.join(HERE, 'node_modules', 'playwright-core')) ||
      !fs.existsSync(path.join(HERE, 'node_modules', 'axe-core'))) {
    console.error('web tests: tests/web/node_modules is missing: ' +
                  'npm ci --prefix tests/web --no-audit --no-fund (or make web-test)');
    return 2;
  }
  try {
    fs.accessSync(binary, fs.constants.X_OK);
  } catch {
    console.error(`web tests: no executable ${binary} (make build/asan/civic311)`);
    return 2;
  }
  try {
    fs.accessSync(CHROMIUM, fs.constants.X_OK);
  } catch {
    console.error(`web tests: no ${CHROMIUM} (Debian's chromium: scripts/install-deps test)`);
    return 2;
  }
  if (!args.screenshots && tests.length === 0 && broken.length === 0) {
    console.error(`web tests: no test id contains ${args.k.join(' or ')} (--list shows them)`);
    return 2;
  }

  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'civic311-web-'));
  const data = path.join(tmp, 'data');
  const cliLog = path.join(tmp, 'cli.log');
  const server = new Server(binary, data, path.join(tmp, 'serve.stderr'));
  const onSignal = (sig) => {
    server.kill();
    console.error(`\nweb tests: ${sig}; kept ${tmp}`);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => server.kill());

  let browser = null;
  const results = [];
  const problems = [];
  let shotsFailed = 0;
  try {
    cli(binary, ['init', '--data', data, '--demo'], cliLog);
    await server.start();
    browser = await launchChromium();
    if (args.screenshots) {
      console.log(`web screenshots: ${server.base} in Chromium ${browser.version()}`);
      shotsFailed = await screenshots(path.resolve(args.screenshots), server, browser, args.k);
    } else {
      console.log(`web tests: ${tests.length} tests against ${binary} in Chromium ` +
                  `${browser.version()}`);
      for (const b of broken) {
        results.push({ id: b.id, ok: false, error: b.error });
        console.log(`FAIL  ${b.id}\n${indent(describeError(b.error))}`);
      }
      for (const test of tests) {
        const r = await runTest(test, server, browser);
        results.push({ id: test.id, ...r });
        const secs = `${(r.ms / 1000).toFixed(2)}s`;
        if (r.ok)
          console.log(`ok    ${test.id}  ${secs}`);
        else
          console.log(`FAIL  ${test.id}  ${secs}\n${indent(describeError(r.error))}`);
      }
    }
  } catch (e) {
    problems.push(`harness: ${describeError(e)}`);
  } finally {
    if (browser)
      await browser.close().catch((e) => problems.push(`closing Chromium: ${e}`));
    problems.push(...await server.stop());
    let cliText = '';
    try {
      cliText = fs.readFileSync(cliLog, 'utf8');
    } catch { /* init did not run */ }
    const bad = sanitizerLines(cliText);
    if (bad.length)
      problems.push(`sanitizer report in ${cliLog}:\n  ${bad.join('\n  ')}`);
  }
  for (const p of problems)
    console.log(`\nFAIL (server): ${p}`);

  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  const ok = failed === 0 && problems.length === 0 && shotsFailed === 0;
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (ok && !args.keep)
    fs.rmSync(tmp, { recursive: true, force: true });
  else
    console.log(`web tests: kept ${tmp} (store, serve.stderr, cli.log)`);
  if (args.screenshots) {
    console.log(`web screenshots: ${shotsFailed} failed, ${problems.length} server problems, ` +
                `${secs}s`);
  } else {
    console.log(`\nweb tests: ${problems.length} server problems, ${secs}s`);
    console.log(`web: ${passed} passed, ${failed} failed`);
  }
  return ok ? 0 : 1;
}

main().then((code) => process.exit(code), (e) => {
  console.error(e);
  process.exit(1);
});
