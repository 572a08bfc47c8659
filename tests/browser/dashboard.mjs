// Browser test of the dashboard (issue 6, acceptance 1): Debian's chromium,
// headless, driven over WebDriver by Debian's chromedriver (webdriver.mjs,
// Node's fetch; no npm modules, nothing downloaded).  Prints TAP lines.
//
//   node dashboard.mjs
// Environment: GW_URL (the gateway), GW_PID (its pid), GW_CMD (how to start
// it again: a JSON array), ART (artifacts directory), GRIDCTL (bin/gridctl),
// GRIDS (number of grids), L3_GRIDS (number of level-3 grids), L1_LEADER
// (name shown first in the directory), HEAD_CMD (prints the log's last seq),
// CHROMIUM (default /usr/bin/chromium), CHROMEDRIVER (default
// /usr/bin/chromedriver), WEBDRIVER_PORT (chromedriver's port on 127.0.0.1).
//
// The page is loaded, complaints are submitted through the intake (gridctl
// submit), and the test waits for them to appear in the live event list and
// for the counts to change.  Then the gateway is stopped, complaints are
// submitted while it is down, it is started again, and the page must catch
// up by itself from the last event it saw: every new case shown, no event
// twice.  Also a phone-sized viewport and the directory page.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { launch } from './webdriver.mjs';

const env = process.env;
const URL = env.GW_URL;
const ART = env.ART;
const NAME = 'test_gateway_browser';
let failed = 0;
const ok = (msg) => console.log(`ok - ${NAME}: ${msg}`);
const notOk = (msg) => { console.log(`not ok - ${NAME}: ${msg}`); failed += 1; };
const check = (msg, want, got) => (String(want) === String(got) ? ok(`${msg} (${got})`)
  : notOk(`${msg}: expected '${want}', got '${got}'`));

function submit(ref, text, address) {
  const out = execFileSync(env.GRIDCTL, ['submit', '--source', 'web', '--ref', ref, '--text', text,
    '--address', address, '--category', 'water'], { encoding: 'utf8' });
  const m = out.match(/^case (\d+)/);
  if (!m) throw new Error(`gridctl submit: ${out}`);
  return m[1];
}

async function waitFor(page, what, fn, arg, timeout = 20000) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 100 });
    return true;
  } catch (e) {
    notOk(`timed out waiting for ${what}`);
    return false;
  }
}

const num = (page, sel) => page.$eval(sel, (el) => Number(el.textContent));

let browser = null;
let gateway2 = null;
// Stopped from outside (the shell's timeout): chromedriver and chromium go too.
process.on('SIGTERM', () => {
  notOk('stopped by SIGTERM (timed out?)');
  browser?.kill();
  gateway2?.kill('SIGTERM');
  process.exit(1);
});
try {
  browser = await launch({
    chromedriver: env.CHROMEDRIVER || '/usr/bin/chromedriver',
    chromium: env.CHROMIUM || '/usr/bin/chromium',
    port: Number(env.WEBDRIVER_PORT || 9515),
    log: `${ART}/chromedriver.log`,
    pidFile: `${ART}/chromedriver.pid`,
    profile: `${ART}/chromium-profile`,
  });
  console.log(`# chromium ${browser.version} over WebDriver (chromedriver)`);
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  // --- issue 16: no session, no data: the login page, then the dashboard --------
  await page.goto(URL);
  await waitFor(page, 'the login page', () => window.location.pathname === '/login' && !!document.querySelector('#login'));
  check('without a session the dashboard sends the browser to the login page', '/login?next=%2F',
    await page.evaluate(() => window.location.pathname + window.location.search));
  await page.fill('#person', env.LOGIN_PERSON);
  await page.fill('#password', 'not the password');
  await page.evaluate(() => document.getElementById('login').requestSubmit());
  await waitFor(page, 'the refusal', () => /不正确/.test(document.querySelector('#msg').textContent));
  check('a wrong password: a refusal in Chinese, still on the login page', '/login',
    await page.evaluate(() => window.location.pathname));
  await page.screenshot({ path: `${ART}/login.png` });
  await page.fill('#password', env.LOGIN_PASSWORD);
  await page.evaluate(() => document.getElementById('login').requestSubmit());
  await waitFor(page, 'the dashboard after the login', () => window.location.pathname === '/' && !!document.querySelector('#conn'));
  if (await waitFor(page, 'the live stream', () => document.querySelector('#conn')?.dataset.state === 'live')) ok('dashboard loaded, stream live');
  await waitFor(page, 'the grid tree', () => document.querySelectorAll('#tree .l3').length > 0);
  check('title is Chinese', true, /网格化服务指挥大屏/.test(await page.title()));
  await waitFor(page, 'the signed-in person', () => document.querySelector('#who').textContent !== '');
  check('the signed-in person is shown', `${env.LOGIN_NAME}（QNL）`, await page.$eval('#who', (e) => e.textContent));
  check('grid tree lists every L3 grid', Number(env.L3_GRIDS), await page.$$eval('#tree .l3', (l) => l.length));
  await waitFor(page, 'the trend chart', () => document.querySelector('#trend')?.height > 0);
  const t0 = await num(page, '#k-total');
  const g0 = await num(page, '[data-count="QNL.01.001"]');
  const l20 = await num(page, '[data-count="QNL.01"]');

  // --- complaints through the intake appear live --------------------------------
  const ids = [1, 2, 3].map((i) => submit(`BT-${process.pid}-${i}`, `浏览器测试：西街村1组2号水管漏水 ${i}`, '青年路街道西街村1组2号'));
  for (const id of ids) {
    await waitFor(page, `case ${id} in the event list`, (c) => !!document.querySelector(`#events li[data-case="${c}"]`), id);
  }
  ok(`cases ${ids.join(', ')} appeared in the live event list`);
  await waitFor(page, 'the total to grow by 3', (n) => Number(document.querySelector('#k-total').textContent) === n, t0 + 3);
  check('total count grew by 3', t0 + 3, await num(page, '#k-total'));
  await waitFor(page, 'QNL.01.001 to grow by 3', (n) => Number(document.querySelector('[data-count="QNL.01.001"]').textContent) === n, g0 + 3);
  check('L3 grid QNL.01.001 count grew by 3', g0 + 3, await num(page, '[data-count="QNL.01.001"]'));
  check('L2 grid QNL.01 count grew by 3', l20 + 3, await num(page, '[data-count="QNL.01"]'));
  check('the routed events are shown in Chinese', true,
    await page.$$eval(`#events li[data-case="${ids[0]}"] .type`, (l) => l.some((e) => e.textContent === '分派网格')));
  await page.screenshot({ path: `${ART}/dashboard.png`, fullPage: true });
  ok(`screenshot saved: ${ART}/dashboard.png`);
  // Issue 13: the page works under the gateway's Content-Security-Policy
  // (same-origin scripts and styles; the ledger bars' style attributes apply).
  check('the page is served with a CSP (default-src \'self\')', true,
    await page.evaluate(async () => /default-src 'self'/.test((await fetch('/')).headers.get('content-security-policy') || '')));
  check('ledger bars are sized under the CSP', true, await page.$$eval('#tree .bar i', (l) =>
    l.some((e) => parseFloat(e.style.width) > 0) && l.every((e) => !(parseFloat(e.style.width) > 0) || e.getBoundingClientRect().width > 0)));

  // --- the gateway goes away; the page reconnects and catches up -----------------
  const before = await page.evaluate(() => window.__gf.lastSeq);
  process.kill(Number(env.GW_PID), 'SIGTERM');
  if (await waitFor(page, 'the page to notice the lost stream', () => document.querySelector('#conn').dataset.state !== 'live')) ok('page shows 重连中 while the gateway is down');
  const missed = [4, 5].map((i) => submit(`BT-${process.pid}-${i}`, `浏览器测试：断线期间的诉求 ${i}`, '青年路街道西街村1组12号'));
  const cmd = JSON.parse(env.GW_CMD);
  gateway2 = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
  writeFileSync(`${ART}/gateway2.pid`, `${gateway2.pid}\n`); // for the shell's clean-up if this dies
  for (const id of missed) {
    await waitFor(page, `case ${id} (submitted while disconnected)`, (c) => !!document.querySelector(`#events li[data-case="${c}"]`), id, 30000);
  }
  ok(`cases ${missed.join(', ')} submitted while disconnected appeared after the reconnect`);
  await waitFor(page, 'the stream to be live again', () => document.querySelector('#conn').dataset.state === 'live');
  const head = Number(env.HEAD_CMD ? execFileSync('sh', ['-c', env.HEAD_CMD], { encoding: 'utf8' }).trim() : 0);
  await waitFor(page, 'the page to reach the head of the log', (h) => window.__gf.lastSeq >= h, head);
  const seqs = await page.$$eval('#events li', (l) => l.map((e) => Number(e.dataset.seq)));
  check('no event shown twice', seqs.length, new Set(seqs).size);
  const after = seqs.filter((s) => s > before).sort((a, b) => a - b);
  const contiguous = after.every((s, i) => s === before + 1 + i) && after[after.length - 1] >= head;
  check(`every event after seq ${before} shown once, in order, through the head ${head}`, true, contiguous);
  await waitFor(page, 'the total to include the missed cases', (n) => Number(document.querySelector('#k-total').textContent) === n, t0 + 5);
  check('total count after the reconnect', t0 + 5, await num(page, '#k-total'));
  await page.screenshot({ path: `${ART}/dashboard-after-reconnect.png`, fullPage: true });
  check('no script errors on the page', '', (await page.pageErrors()).join('; '));

  // --- a phone ----------------------------------------------------------------------
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, deviceScaleFactor: 2 });
  await phone.goto(URL);
  await waitFor(phone, 'the phone page to be live', () => document.querySelector('#conn')?.dataset.state === 'live');
  await waitFor(phone, 'the phone page counts', () => document.querySelector('#k-total').textContent !== '–');
  check('phone: nothing wider than the screen', true, await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1));
  check('phone: KPI cards in two columns', 2, await phone.evaluate(() => getComputedStyle(document.querySelector('.kpis')).gridTemplateColumns.split(' ').length));
  await phone.screenshot({ path: `${ART}/dashboard-phone.png`, fullPage: false });

  // --- the public directory page ----------------------------------------------------
  const dir = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await dir.goto(`${URL}/directory`);
  await waitFor(dir, 'the directory table', () => document.querySelectorAll('#directory tbody tr').length > 0);
  check('directory lists every grid', Number(env.GRIDS), await dir.$$eval('#directory tbody tr', (l) => l.length));
  check('directory shows the L1 leader first', env.L1_LEADER, await dir.$eval('#directory tbody tr td:nth-child(4)', (e) => e.textContent));
  await dir.fill('#filter', '西街村第一网格');
  check('directory filter', 1, await dir.$$eval('#directory tbody tr:not([hidden])', (l) => l.length));
  await dir.screenshot({ path: `${ART}/directory.png` });

  // --- logout; then a big screen's kiosk link (QNL.01's subtree only) ---------------
  await page.evaluate(() => document.getElementById('logout').click());
  await waitFor(page, 'the login page after logout', () => window.location.pathname === '/login');
  check('logout: back to the login page, the session gone', 401,
    await page.evaluate(async () => (await fetch('/api/summary.json')).status));
  const screen = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await screen.goto(`${URL}/?kiosk=${env.KIOSK_TOKEN}`);
  await waitFor(screen, 'the kiosk dashboard to be live', () => document.querySelector('#conn')?.dataset.state === 'live');
  check('the kiosk link leaves the token out of the address', `${URL}/`, await screen.evaluate(() => window.location.href));
  await waitFor(screen, 'the kiosk grid tree', () => document.querySelectorAll('#tree .l3').length > 0);
  check('the kiosk screen shows QNL.01 only (one L2 grid)', 'QNL.01',
    await screen.$$eval('#tree details.l2', (l) => l.map((e) => e.dataset.code).join(',')));
  check('the kiosk screen shows no signed-in person', '', await screen.$eval('#who', (e) => e.textContent));
  await screen.screenshot({ path: `${ART}/dashboard-kiosk.png`, fullPage: true });
  check('no script errors on the kiosk screen', '', (await screen.pageErrors()).join('; '));
} catch (e) {
  notOk(`browser test aborted: ${e.stack || e}`);
} finally {
  if (browser) await browser.close();
  if (gateway2) {
    gateway2.kill('SIGTERM');
    const code = await new Promise((res) => gateway2.on('exit', (c, s) => res(c ?? s)));
    check('restarted gateway stopped cleanly on SIGTERM', 0, code);
  }
}
process.exit(failed ? 1 : 0);
