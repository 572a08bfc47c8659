// gridflow dashboard: JSON from the gateway (/api/...) and its live event
// stream (/stream).  The stream resumes from the last event seen after any
// disconnect (EventSource sends Last-Event-ID; when the browser gives up we
// reconnect ourselves with ?since=).
import './style.css';
import {
  Chart, LineController, LineElement, PointElement, BarController, BarElement,
  CategoryScale, LinearScale, Legend, Tooltip,
} from 'chart.js';

Chart.register(LineController, LineElement, PointElement, BarController, BarElement,
  CategoryScale, LinearScale, Legend, Tooltip);

// The names shown (event types, escalation rules, categories, ...): the
// database's vocabulary tables, read once at start (/api/vocabulary.json).
const vocab = { event_types: {}, escalation_rules: {}, states: {}, special_groups: {}, categories: {} };
const MAX_EVENTS = 60;

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g,
  (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const state = { lastSeq: 0, es: null, events: 0, reconnects: 0, summaryAt: 0 };
const names = { grid: {} }; // code -> Chinese name
window.__gf = state; // for the browser test and for operators' consoles

// Without a session or a kiosk token the data calls answer 401 (issue 16):
// to the login page, which sends us back here.
function toLogin() {
  window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
}

async function getJSON(path) {
  const r = await fetch(path, { cache: 'no-store' });
  if (r.status === 401) { toLogin(); throw new Error(`${path}: HTTP 401`); }
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

// Who is signed in (a kiosk screen has no session: nothing shown), and
// logout (POST with the session's CSRF token).
async function showWho() {
  const r = await fetch('/auth/me', { cache: 'no-store' });
  if (!r.ok) return;
  const me = await r.json();
  $('who').textContent = `${me.name}（${me.grid}）`;
  $('logout').hidden = false;
  $('logout').addEventListener('click', async () => {
    await fetch('/auth/logout', { method: 'POST', headers: { 'X-CSRF-Token': me.csrf } });
    toLogin();
  });
}

// Run fn at most once per `ms`, trailing call guaranteed.
function throttle(fn, ms) {
  let timer = null, again = false;
  return function run() {
    if (timer) { again = true; return; }
    fn();
    timer = setTimeout(() => { timer = null; if (again) { again = false; run(); } }, ms);
  };
}

function bar(r, p, h) {
  const t = r + p + h || 1;
  return `<div class="bar" title="已解决 ${r} / 待解决 ${p} / 难解决 ${h}">` +
    `<i class="r" style="width:${(100 * r) / t}%"></i><i class="p" style="width:${(100 * p) / t}%"></i>` +
    `<i class="h" style="width:${(100 * h) / t}%"></i></div>`;
}

function renderSummary(s) {
  for (const g of s.grids) names.grid[g.code] = g.name;
  const t = s.totals;
  for (const k of ['total', 'open', 'resolved', 'pending', 'hard', 'urgent', 'unroutable']) {
    $(`k-${k}`).textContent = t[k];
  }
  // The viewer's subtree (issue 16): its top grid may be an L1, L2 or L3 grid.
  const codes = new Set(s.grids.map((g) => g.code));
  const tops = s.grids.filter((g) => !codes.has(g.parent));
  const l1 = s.grids.filter((g) => g.level === 1);
  if (l1.length === 1) $('title').textContent = `${l1[0].name} · 网格化服务指挥大屏`;
  else if (tops.length === 1) $('title').textContent = `${tops[0].name} · 网格化服务指挥大屏`;
  const open = new Set([...document.querySelectorAll('#tree details[open]')].map((d) => d.dataset.code));
  const l3 = (g3) => `<div class="l3" data-code="${esc(g3.code)}"><span>${esc(g3.name)}</span>` +
    `<b class="count" data-count="${esc(g3.code)}">${g3.total}</b><b>在办 ${g3.open}</b></div>`;
  const l2 = (g2) => `<details class="l2" data-code="${esc(g2.code)}"${open.has(g2.code) ? ' open' : ''}>` +
    `<summary><span class="name">${esc(g2.name)}</span>${bar(g2.resolved, g2.pending, g2.hard)}` +
    `<span class="counts"><b class="count" data-count="${esc(g2.code)}">${g2.total}</b> 件 · ` +
    `${g2.resolved}/${g2.pending}/${g2.hard}</span></summary>` +
    s.grids.filter((g) => g.parent === g2.code).map(l3).join('') + '</details>';
  let html = '';
  for (const top of tops) {
    if (top.level === 1) {
      html += `<div class="l1" data-code="${esc(top.code)}">${esc(top.name)}（${esc(top.code)}）` +
        ` 共 <span class="count" data-count="${top.code}">${top.total}</span> 件，在办 ${top.open}</div>` +
        s.grids.filter((g) => g.parent === top.code).map(l2).join('');
    } else html += top.level === 2 ? l2(top) : l3(top);
  }
  $('tree').innerHTML = html;
}

function rows(tbody, list, cells, emptyText) {
  tbody.innerHTML = list.length
    ? list.map((x) => `<tr>${cells(x).map((c) => `<td${typeof c === 'number' ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('')
    : `<tr><td class="empty" colspan="9">${emptyText}</td></tr>`;
}

function renderEscalations(e) {
  $('k-overdue').textContent = e.overdue_total;
  $('overdue-total').textContent = `共 ${e.overdue_total} 件`;
  $('esc-total').textContent = `共 ${e.escalations_total} 次`;
  rows($('overdue').tBodies[0], e.overdue, (x) => [`#${x.case_id}${x.urgent ? ' 紧急' : ''}`,
    x.grid_name, x.category ?? '—', x.hours], '暂无超期案件');
  rows($('escalations').tBodies[0], e.escalations, (x) => [`#${x.case_id}`, x.grid_name,
    `L${x.from_level}→L${x.to_level}`,
    `${vocab.escalation_rules[x.rule] ?? x.rule}${x.automatic ? '（自动升级）' : ''}`, x.at], '暂无升级');
}

function renderLedger(l) {
  const w = l.weekly;
  $('weekly-day').textContent = w.length ? `${w[0].day}，${w.length} 个二级网格` : '尚未召开';
  // the safety net's escalations (a meeting nobody closed in time) say so
  const esc = (x) => (x.automatic ? `${x.escalated}（自动升级 ${x.automatic}）` : x.escalated);
  rows($('weekly').tBodies[0], w, (x) => [x.grid_name, x.resolved, x.pending, x.hard, esc(x)],
    '尚无周例会台账');
  const m = l.monthly;
  $('monthly-meta').textContent = m ? `${m.meeting.grid_name} ${m.meeting.day}（${m.meeting.period_from} 至 ${m.meeting.period_to}）` : '尚未召开';
  rows($('monthly').tBodies[0], m ? m.rows : [], (x) => [x.grid_name ?? x.grid, x.resolved, x.pending,
    x.hard, x.escalated], '尚无月度报告');
}

// The month's indicators (/api/indicators.json): the L2 grids of each L1
// grid in rank order; those under the minimum sample are not ranked ('—').
function renderIndicators(d) {
  const roots = d.roots ?? [];
  const pct = (v) => (v == null ? '—' : `${v}%`);
  $('ind-meta').textContent = roots.length
    ? `${roots[0].month}，登记不少于 ${roots[0].min_sample} 件参与排名` : '';
  rows($('indicators').tBodies[0], roots.flatMap((r) => r.by_l2), (x) => [x.rank ?? '—', x.name ?? x.key,
    x.received, pct(x.response_rate_pct), pct(x.resolution_rate_pct), pct(x.on_time_rate_pct),
    pct(x.satisfaction_rate_pct), pct(x.reopen_rate_pct), x.supervised, x.score ?? '—'], '本月尚无案件');
}

let chart = null;
function renderTrend(days) {
  const data = {
    labels: days.map((d) => d.day),
    datasets: [
      { type: 'bar', label: '受理', data: days.map((d) => d.received), backgroundColor: '#3aa0ff' },
      { type: 'line', label: '办结', data: days.map((d) => d.resolved), borderColor: '#2fbf71',
        backgroundColor: '#2fbf71', tension: 0.25 },
    ],
  };
  if (chart) { chart.data = data; chart.update('none'); return; }
  chart = new Chart($('trend'), {
    data,
    options: { responsive: true, maintainAspectRatio: false, animation: false,
      scales: { x: { ticks: { color: '#8fa8c4' } }, y: { beginAtZero: true, ticks: { color: '#8fa8c4', precision: 0 } } },
      plugins: { legend: { labels: { color: '#e6eef8' } } } },
  });
}

const refreshSummary = throttle(() => getJSON('/api/summary.json').then((s) => {
  renderSummary(s); state.summaryAt = s.head;
  // ms from navigation start to the first figures (the browser test's measure).
  state.firstRenderMs ??= performance.now();
}).catch(() => {}), 700);
const refreshSlow = throttle(() => {
  getJSON('/api/escalations.json').then(renderEscalations).catch(() => {});
  getJSON('/api/ledger.json').then(renderLedger).catch(() => {});
  getJSON('/api/trend.json?days=30').then(renderTrend).catch(() => {});
}, 3000);
// The indicators are a month's: once a minute is enough (each read
// recomputes the month).
const refreshIndicators = throttle(() => {
  getJSON('/api/indicators.json').then(renderIndicators).catch(() => {});
}, 60000);

function addEvent(type, seq, data) {
  const li = document.createElement('li');
  li.className = 'new';
  li.dataset.seq = seq;
  li.dataset.case = data.case ?? '';
  const at = data.at ? new Date(data.at).toLocaleTimeString('zh-CN', { hour12: false }) : '';
  const what = [data.case ? `案件 #${data.case}` : '', names.grid[data.grid] ?? data.grid ?? '',
    vocab.categories[data.category] ?? data.category ?? '', data.to_level ? `升至 L${data.to_level}` : '']
    .filter(Boolean).join(' · ');
  li.innerHTML = `<span class="seq">${esc(at)}</span><span class="type">${esc(vocab.event_types[type] ?? type)}</span>` +
    `<span>${esc(what)}</span>`;
  const list = $('events');
  list.prepend(li);
  while (list.children.length > MAX_EVENTS) list.lastChild.remove();
}

function setConn(live) {
  const c = $('conn');
  c.textContent = live ? '实时连接' : '重连中…';
  c.className = `conn ${live ? 'conn-live' : 'conn-wait'}`;
  c.dataset.state = live ? 'live' : 'reconnecting';
}

function onEvent(ev) {
  const seq = Number(ev.lastEventId);
  if (!(seq > state.lastSeq)) return; // never twice
  state.lastSeq = seq;
  state.events += 1;
  $('seq').textContent = seq;
  let data = {};
  try { data = JSON.parse(ev.data); } catch { /* keep going */ }
  addEvent(ev.type === 'message' ? data.type : ev.type, seq, data);
  refreshSummary();
  refreshSlow();
}

function connect() {
  if (state.es) state.es.close();
  const es = new EventSource(`/stream?since=${state.lastSeq}`);
  state.es = es;
  for (const t of Object.keys(vocab.event_types)) es.addEventListener(t, onEvent);
  es.onmessage = onEvent;
  // Head regression (docs/streams.md): the log went back (a failover, a
  // restore) and its seqs after `head` are new events: follow them.
  es.addEventListener('stream.regression', (ev) => {
    let data = {};
    try { data = JSON.parse(ev.data); } catch { /* keep going */ }
    if (Number.isFinite(data.head)) state.lastSeq = data.head;
    $('seq').textContent = state.lastSeq;
    refreshSummary();
    refreshSlow();
  });
  es.onopen = () => { setConn(true); refreshSummary(); refreshSlow(); };
  es.onerror = () => {
    setConn(false);
    // The browser retries by itself (with Last-Event-ID) unless it closed the
    // source for good; then we start a new one from the last event we saw.
    if (es.readyState === EventSource.CLOSED) {
      state.reconnects += 1;
      setTimeout(connect, 2000);
    }
  };
}

function tick() {
  $('clock').textContent = new Date().toLocaleString('zh-CN', { hour12: false });
}

async function start() {
  tick();
  showWho().catch(() => {});
  setInterval(tick, 1000);
  // The stream's events are named by type: the types must be known before
  // it starts, so the vocabulary is retried until it comes.
  for (;;) {
    try { Object.assign(vocab, await getJSON('/api/vocabulary.json')); break; } catch {
      await new Promise((r) => { setTimeout(r, 2000); });
    }
  }
  try {
    const s = await getJSON('/api/summary.json');
    renderSummary(s);
    // Show the last few events as history, then live.
    state.lastSeq = Math.max(0, s.head - 30);
  } catch { /* the stream and the throttled refreshes will retry */ }
  connect();
  refreshSlow();
  refreshIndicators();
  setInterval(refreshIndicators, 60000);
  // A safety net for missed refreshes (e.g. counts changed without events).
  setInterval(() => { refreshSummary(); refreshSlow(); }, 30000);
}

start();
