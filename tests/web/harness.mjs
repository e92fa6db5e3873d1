// harness.mjs - what the browser tests stand on: a real installation and
// server (as tests/api/harness.py makes them), Debian's Chromium driven by
// playwright-core, raw HTTP, the axe-core audit and a CSP parser.
//
// run.mjs uses everything here; test files use what the fixture `t` hands
// them (see README.md) and may import the helpers below directly.
//
// Node 18 only: no import.meta.dirname, no fs.glob, no util.parseArgs, no
// global fetch (experimental in 18: it prints a warning).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const CHROMIUM = '/usr/bin/chromium';

// The machine's network is closed: without these Chromium tries to reach
// Google (updates, sync, field trials, QUIC probes) and logs the failures.
// launch() adds a fresh empty --user-data-dir of its own (a temporary
// directory it deletes at close); passing one here is refused by
// playwright-core.
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export const SANITIZER_MARKERS = ['AddressSanitizer', 'runtime error:', 'LeakSanitizer'];
const LISTEN_RE = /listening on 127\.0\.0\.1:0 port (\d+)/;

// The axe-core rule sets the site must pass: WCAG 2.0 and 2.1, A and AA.
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

// The viewports of the screenshots (and of t.newContext({ viewport: 'phone' })).
export const VIEWPORTS = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
           deviceScaleFactor: 1 },
  desktop: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 },
};

export class TestFailure extends Error {}

export function fail(message) {
  throw new TestFailure(message);
}

/** The environment of every civic311 process, as child_env() in
 * tests/api/harness.py: TZ at UTC+14 so a stray localtime() shows, and the
 * sanitizers set to stop at the first report. */
export function childEnv() {
  const env = { ...process.env, TZ: 'Pacific/Kiritimati' };
  if (env.ASAN_OPTIONS === undefined)
    env.ASAN_OPTIONS = 'detect_leaks=1:halt_on_error=1:abort_on_error=0';
  if (env.UBSAN_OPTIONS === undefined)
    env.UBSAN_OPTIONS = 'print_stacktrace=1:halt_on_error=1';
  if (env.LSAN_OPTIONS === undefined)
    env.LSAN_OPTIONS = '';
  return env;
}

export function sanitizerLines(text) {
  return text.split('\n').filter((l) => SANITIZER_MARKERS.some((m) => l.includes(m)));
}

/** Runs `civic311 ARGS...`, appends its output to logPath, and throws on a
 * non-zero exit or a sanitizer report. Returns { stdout, stderr }. */
export function cli(binary, args, logPath) {
  const p = spawnSync(binary, args, { env: childEnv(), encoding: 'utf8', timeout: 120000,
                                      input: '' });
  fs.appendFileSync(logPath, `$ civic311 ${args.join(' ')}\n[exit ${p.status}]\n` +
                             `${p.stdout || ''}${p.stderr || ''}\n`);
  if (p.error)
    throw p.error;
  if (sanitizerLines(p.stderr).length)
    fail(`sanitizer report from \`civic311 ${args.slice(0, 2).join(' ')}\`:\n${p.stderr}`);
  if (p.status !== 0)
    fail(`\`civic311 ${args.join(' ')}\` exited ${p.status}:\n${p.stdout}${p.stderr}`);
  return { stdout: p.stdout, stderr: p.stderr };
}

/** `civic311 serve --data DATA --listen 127.0.0.1:0`, its stderr (and
 * stdout) in logPath for its whole life. */
export class Server {
  constructor(binary, data, logPath, extra = []) {
    this.binary = binary;
    this.data = data;
    this.logPath = logPath;
    this.extra = extra;
    this.proc = null;
    this.port = null;
    this.exit = null; // { code, signal } once it exited
    this.exited = null; // a promise of this.exit, once started
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  url(p = '/') {
    return this.base + p;
  }

  log() {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  tail(n = 40) {
    return this.log().split('\n').slice(-n).join('\n');
  }

  async start(timeoutMs = 60000) {
    const fd = fs.openSync(this.logPath, 'w');
    this.proc = spawn(this.binary,
                      ['serve', '--data', this.data, '--listen', '127.0.0.1:0', ...this.extra],
                      { env: childEnv(), stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const m = LISTEN_RE.exec(this.log());
      if (m) {
        this.port = Number(m[1]);
        return this;
      }
      if (this.exit)
        fail(`civic311 serve exited ${this.exit.code ?? this.exit.signal} before listening:\n` +
             this.log());
      await sleep(20);
    }
    this.kill();
    fail(`civic311 serve did not log its port within ${timeoutMs / 1000}s:\n${this.log()}`);
  }

  /** SIGTERM; resolves to a list of problems (empty when it exited 0 with
   * no sanitizer report). */
  async stop(timeoutMs = 60000) {
    const problems = [];
    if (this.proc && !this.exit) {
      this.proc.kill('SIGTERM');
      const timer = new Promise((resolve) => setTimeout(resolve, timeoutMs, null));
      const r = await Promise.race([this.exited, timer]);
      if (r === null) {
        this.proc.kill('SIGKILL');
        await this.exited;
        problems.push(`civic311 serve did not stop within ${timeoutMs / 1000}s of SIGTERM`);
      }
    }
    if (this.exit && this.exit.code !== 0 && problems.length === 0)
      problems.push(`civic311 serve exited ${this.exit.code ?? 'by ' + this.exit.signal} ` +
                    `(want 0 after SIGTERM):\n${this.tail()}`);
    const bad = sanitizerLines(this.log());
    if (bad.length)
      problems.push(`sanitizer report in ${this.logPath}:\n  ${bad.slice(0, 20).join('\n  ')}`);
    return problems;
  }

  kill() {
    if (this.proc && !this.exit)
      this.proc.kill('SIGKILL');
  }
}

/** Debian's Chromium, headless, through playwright-core. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
                           timeout: 60000 });
}

/** One HTTP/1.1 request over a fresh connection, nothing added or hidden:
 * { status, headers (lower-case names; repeated ones joined by ", ",
 * set-cookie an array), rawHeaders ([name, value, ...] as sent),
 * header(name) (every value of name, in order), body (Buffer), text() }. */
export function fetchRaw(url, { method = 'GET', headers = {}, body = null,
                                timeoutMs = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const raw = res.rawHeaders;
        const buf = Buffer.concat(chunks);
        resolve({
          status: res.statusCode,
          headers: res.headers,
          rawHeaders: raw,
          header(name) {
            const out = [];
            for (let i = 0; i < raw.length; i += 2)
              if (raw[i].toLowerCase() === name.toLowerCase())
                out.push(raw[i + 1]);
            return out;
          },
          body: buf,
          text: () => buf.toString('utf8'),
        });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no answer ` +
                                                          `within ${timeoutMs / 1000}s`)));
    req.on('error', reject);
    if (body !== null)
      req.write(body);
    req.end();
  });
}

/** Content-Security-Policy -> Map(directive -> [source, ...]), directive
 * names lower-cased; as in browsers, the first of a repeated directive
 * wins. */
export function parseCsp(header) {
  const out = new Map();
  for (const part of String(header).split(';')) {
    const tokens = part.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0)
      continue;
    const name = tokens[0].toLowerCase();
    if (!out.has(name))
      out.set(name, tokens.slice(1));
  }
  return out;
}

let axeSource = null;

function readAxe() {
  if (axeSource === null)
    axeSource = fs.readFileSync(path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js'),
                                'utf8');
  return axeSource;
}

/** Makes every page of context load axe-core before anything else, as a
 * DevTools init script (not governed by the page's CSP, like evaluate):
 * for a test that audits many pages, cheaper than axeCheck's evaluate of
 * the source after each navigation (Chromium compiles it once). */
export async function preloadAxe(context) {
  await context.addInitScript(readAxe());
}

/** Runs axe-core on the page as it is now (navigate and wait first) with
 * the WCAG 2.1 A/AA rules, and fails listing every violation: rule id,
 * impact, help, and the CSS selector of each node.
 *
 * axe is evaluated through the DevTools protocol (page.evaluate of a
 * string), which the page's Content-Security-Policy does not govern, so
 * the page keeps the CSP it was served with; a <script> tag would be
 * refused by it. options: { exclude: [selector...], disableRules:
 * [rule id...] } for the rare justified exception (say why in the test). */
export async function axeCheck(page, { exclude = [], disableRules = [] } = {}) {
  if (!(await page.evaluate(() => typeof window.axe === 'object')))
    await page.evaluate(readAxe());
  const options = {
    runOnly: { type: 'tag', values: AXE_TAGS },
    rules: Object.fromEntries(disableRules.map((id) => [id, { enabled: false }])),
    resultTypes: ['violations'],
  };
  // null stands for the whole document (a Document cannot cross evaluate()).
  const context = exclude.length ? { exclude: exclude.map((s) => [s]) } : null;
  const violations = await page.evaluate(async ([ctx, opts]) => {
    const r = await window.axe.run(ctx === null ? document : ctx, opts);
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
    }));
  }, [context, options]);
  if (violations.length === 0)
    return;
  const lines = [`axe: ${violations.length} WCAG 2.1 A/AA violation(s) on ${page.url()}:`];
  for (const v of violations) {
    lines.push(`  ${v.id} (${v.impact}): ${v.help}`);
    for (const n of v.nodes.slice(0, 10)) {
      lines.push(`      ${n.target.map((t) => (Array.isArray(t) ? t.join(' >>> ') : t))
        .join(' | ')}`);
      if (n.summary)
        lines.push(...n.summary.split('\n').map((s) => `          ${s}`));
    }
    if (v.nodes.length > 10)
      lines.push(`      ... and ${v.nodes.length - 10} more`);
  }
  fail(lines.join('\n'));
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
