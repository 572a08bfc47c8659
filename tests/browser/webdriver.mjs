// A small W3C WebDriver client for the browser tests: Debian's chromedriver
// (package chromium-driver) drives Debian's chromium, headless, and this talks
// to it over HTTP with Node's built-in fetch.  No npm modules, no download.
//
// Only what tests/browser/dashboard.mjs needs, with the names of the
// playwright calls it used to make: a browser with pages (one tab each),
// goto, title, evaluate, $eval, $$eval, waitForFunction, fill, screenshot.
// Two things plain WebDriver has no command for go through chromedriver's
// Chrome DevTools Protocol endpoint (POST /session/ID/goog/cdp/execute, on
// the current tab): an exact viewport (Emulation.setDeviceMetricsOverride,
// which also emulates a phone) and a full-page screenshot
// (Page.captureScreenshot beyond the viewport).  Uncaught script errors are
// recorded by a listener that is installed before any of the page's scripts
// (Page.addScriptToEvaluateOnNewDocument) and read back with pageErrors().
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf'; // W3C's key of a web element reference
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// Flags for chromium on a machine without a network: without the
// background-networking ones it tries to reach Google's services.
// --hide-scrollbars as playwright's headless chromium had it: the page is laid
// out over the whole viewport and the screenshots show no scrollbar.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--hide-scrollbars'];

class WebDriverError extends Error {}

// launch({ chromedriver, chromium, port, log, pidFile, profile }): start
// chromedriver on 127.0.0.1:port (in its own process group, so that it and
// the browser it starts can be stopped together; its pid in pidFile for the
// caller's clean-up), then a session with chromium in a fresh profile
// directory (profile, emptied first, else a new one under the temporary
// directory; removed by close()).
export async function launch({ chromedriver = '/usr/bin/chromedriver', chromium = '/usr/bin/chromium',
  port, log, pidFile, profile } = {}) {
  const args = [`--port=${port}`];
  if (log) args.push(`--log-path=${log}`);
  const driver = spawn(chromedriver, args, { detached: true, stdio: 'ignore' });
  const exited = new Promise((res) => driver.on('exit', (code, signal) => res(code ?? signal)));
  driver.on('error', () => {});
  if (pidFile) writeFileSync(pidFile, `${driver.pid}\n`);
  const base = `http://127.0.0.1:${port}`;
  const browser = new Browser(base, driver, exited);
  const deadline = Date.now() + 20000;
  for (;;) {
    try {
      if ((await browser.cmd('GET', '/status')).ready) break;
    } catch (e) { /* not listening yet */ }
    if (driver.exitCode !== null || driver.signalCode !== null || Date.now() > deadline) {
      browser.kill();
      throw new WebDriverError(`chromedriver did not start on ${base}${log ? ` (see ${log})` : ''}`);
    }
    await sleep(100);
  }
  if (profile) {
    rmSync(profile, { recursive: true, force: true });
    mkdirSync(profile, { recursive: true });
    browser.profile = profile;
  } else {
    browser.profile = mkdtempSync(join(tmpdir(), 'gf-chromium-'));
  }
  try {
    const s = await browser.cmd('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          browserName: 'chrome',
          pageLoadStrategy: 'normal',
          'goog:loggingPrefs': { browser: 'ALL' }, // the console, for consoleLog()
          'goog:chromeOptions': { binary: chromium, args: [...CHROMIUM_ARGS, `--user-data-dir=${browser.profile}`] },
        },
      },
    });
    browser.session = `/session/${s.sessionId}`;
    browser.version = s.capabilities.browserVersion;
    await browser.cmd('POST', `${browser.session}/timeouts`, { script: 30000, pageLoad: 30000, implicit: 0 });
    browser.current = await browser.cmd('GET', `${browser.session}/window`);
    browser.spare = browser.current; // the session's first tab, used by the first page
  } catch (e) {
    await browser.close();
    throw e;
  }
  return browser;
}

class Browser {
  constructor(base, driver, exited) {
    this.base = base;
    this.driver = driver;
    this.exited = exited;
    this.session = null;
    this.current = null;
    this.spare = null;
  }

  // cmd METHOD PATH [BODY]: one WebDriver command; its value, or a WebDriverError.
  async cmd(method, path, body) {
    const res = await fetch(this.base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(90000),
    });
    const json = await res.json();
    if (!res.ok) {
      const v = json.value || {};
      throw new WebDriverError(`${method} ${path}: ${v.error}: ${String(v.message).split('\n')[0]}`);
    }
    return json.value;
  }

  cdp(cmd, params = {}) {
    return this.cmd('POST', `${this.session}/goog/cdp/execute`, { cmd, params });
  }

  async switchTo(handle) {
    if (this.current !== handle) {
      await this.cmd('POST', `${this.session}/window`, { handle });
      this.current = handle;
    }
  }

  // newPage({ viewport: { width, height }, isMobile, deviceScaleFactor }): a tab.
  async newPage({ viewport = { width: 1280, height: 720 }, isMobile = false, deviceScaleFactor = 1 } = {}) {
    let handle = this.spare;
    this.spare = null;
    if (!handle) handle = (await this.cmd('POST', `${this.session}/window/new`, { type: 'tab' })).handle;
    await this.switchTo(handle);
    await this.cdp('Emulation.setDeviceMetricsOverride', {
      width: viewport.width, height: viewport.height, deviceScaleFactor, mobile: isMobile,
    });
    await this.cdp('Page.addScriptToEvaluateOnNewDocument', {
      source: `window.__pageErrors = [];
        window.addEventListener('error', (e) => window.__pageErrors.push(String(e.error || e.message)));
        window.addEventListener('unhandledrejection', (e) => window.__pageErrors.push('unhandled rejection: ' + String(e.reason)));`,
    });
    return new Page(this, handle, viewport);
  }

  // kill: stop chromedriver and whatever it started (its process group).
  kill() {
    try { process.kill(-this.driver.pid, 'SIGTERM'); } catch (e) { /* gone already */ }
  }

  async close() {
    if (this.session) {
      try { await this.cmd('DELETE', this.session); } catch (e) { /* the browser is stopped below anyway */ }
      this.session = null;
    }
    this.kill();
    await Promise.race([this.exited, sleep(5000)]);
    if (this.profile) rmSync(this.profile, { recursive: true, force: true });
  }
}

// A function of the test run in the page: its source, called with the arguments.
const call = (fn) => `return (${fn}).apply(null, arguments);`;

class Page {
  constructor(browser, handle, viewport) {
    this.browser = browser;
    this.handle = handle;
    this.viewport = viewport;
  }

  async cmd(method, path, body) {
    await this.browser.switchTo(this.handle);
    return this.browser.cmd(method, `${this.browser.session}${path}`, body);
  }

  goto(url) { return this.cmd('POST', '/url', { url }); } // returns after the load event

  title() { return this.cmd('GET', '/title'); }

  evaluate(fn, ...args) { return this.cmd('POST', '/execute/sync', { script: call(fn), args }); }

  // $eval(SELECTOR, fn, arg): fn(the first matching element, arg); an error if none matches.
  $eval(selector, fn, arg) {
    return this.cmd('POST', '/execute/sync', {
      script: `const el = document.querySelector(arguments[0]);
        if (!el) throw new Error('no element matches ' + arguments[0]);
        return (${fn})(el, arguments[1]);`,
      args: [selector, arg ?? null],
    });
  }

  // $$eval(SELECTOR, fn, arg): fn(an array of every matching element, arg).
  $$eval(selector, fn, arg) {
    return this.cmd('POST', '/execute/sync', {
      script: `return (${fn})(Array.from(document.querySelectorAll(arguments[0])), arguments[1]);`,
      args: [selector, arg ?? null],
    });
  }

  // waitForFunction(fn, arg, { timeout, polling }): poll until fn(arg) is truthy in
  // the page (a script error counts as not yet); its value, or an error on timeout.
  async waitForFunction(fn, arg, { timeout = 30000, polling = 100 } = {}) {
    const deadline = Date.now() + timeout;
    let last = '';
    for (;;) {
      try {
        const v = await this.evaluate(fn, arg ?? null);
        if (v) return v;
      } catch (e) {
        if (!(e instanceof WebDriverError)) throw e;
        last = `; last error: ${e.message}`;
      }
      if (Date.now() > deadline) throw new WebDriverError(`waitForFunction timed out after ${timeout} ms${last}`);
      await sleep(polling);
    }
  }

  // fill(SELECTOR, TEXT): clear the field and type TEXT into it (key events, input events).
  // A field the page is still laying out or has just rendered again ("element not
  // interactable", "stale element reference") is looked up and typed into again,
  // for up to timeout ms: on a loaded machine a form can be in the DOM before it
  // can take keys.
  async fill(selector, text, { timeout = 10000 } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      try {
        const el = (await this.cmd('POST', '/element', { using: 'css selector', value: selector }))[ELEMENT];
        await this.cmd('POST', `/element/${el}/clear`, {});
        await this.cmd('POST', `/element/${el}/value`, { text });
        return;
      } catch (e) {
        if (!(e instanceof WebDriverError) || !/not interactable|stale element|no such element/.test(e.message) ||
            Date.now() > deadline) throw e;
        await sleep(100);
      }
    }
  }

  // screenshot({ path, fullPage }): a PNG of the viewport, or of the whole page.
  async screenshot({ path, fullPage = false }) {
    let data;
    if (fullPage) {
      await this.browser.switchTo(this.handle);
      const m = await this.browser.cdp('Page.getLayoutMetrics');
      const size = m.cssContentSize || m.contentSize;
      const width = Math.max(Math.ceil(size.width), this.viewport.width);
      const height = Math.max(Math.ceil(size.height), this.viewport.height);
      data = (await this.browser.cdp('Page.captureScreenshot', {
        format: 'png',
        captureBeyondViewport: true,
        clip: { x: 0, y: 0, width, height, scale: 1 },
      })).data;
    } else {
      data = await this.cmd('GET', '/screenshot');
    }
    writeFileSync(path, Buffer.from(data, 'base64'));
  }

  // consoleLog(): the browser's console entries since the last call ({level, message});
  // chromedriver's log endpoint, for every tab of the session.
  consoleLog() { return this.browser.cmd('POST', `${this.browser.session}/se/log`, { type: 'browser' }); }

  // pageErrors(): uncaught errors and unhandled rejections in the page since it was loaded.
  pageErrors() { return this.evaluate(() => window.__pageErrors || ['the error listener was not installed']); }
}
