// gridflow workbench (issue 16): the phone-first app of grid leaders,
// members and coordinators, served by gf-gateway under /wb/.  Reads
// /api/wb/queue, /api/wb/case/ID, /api/wb/meeting; every action is a POST
// /api/wb/action with a request id (a UUID) chosen here, so that a resend
// is a duplicate.  Actions go through an outbox in IndexedDB first: made
// without a signal they wait (待发送), survive a reload, and are sent when
// the signal returns; refused ones stay listed with the answer.  The queue
// follows /stream (SSE) without reloading.
import './wb.css';
import { MUST_CHANGE, signIn } from './signin.js';

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g,
  (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const app = { me: null, queue: null, page: null, outbox: [], results: new Map(), sent: 0, es: null, firstRender: 0 };
window.__wb = app; // for the browser test

const ACTIONS = {
  sign: '签收', progress: '办理进展', refer: '转办部门', resolve: '办结', callback: '回访',
  close: '归档', reopen: '重办', return: '退单', assign: '指派', merge: '合并', supervise: '督办',
  classify: '分类', reject: '不予办理', unreject: '撤销不予办理', receipt: '部门签收', reply: '部门答复',
};
const KINDS = {
  'case.action': '案件操作', 'visit.logged': '走访记录', 'patrol.logged': '巡查记录',
  'meeting.action': '例会记录', 'attachment.add': '照片', 'complaint.submit': '代为登记',
};
// The decisions a meeting of each kind takes (meeting_decision_kinds, 024).
const DECISIONS = {
  weekly: { keep_l3: '三级网格继续办理', resolved: '会上解决', take_over: '二级网格接办', refer: '转办部门', report_up: '上报一级网格' },
  monthly: { supervise: '督办', take_over: '一级网格接办', send_back: '发回二级网格' },
};
const STATES = {
  registered: '已登记', routed: '待签收', unroutable: '待分流', signed: '已签收', in_progress: '办理中',
  referred: '已转办', replied: '部门已答复', resolved: '已办结', called_back: '已回访', closed: '已归档',
  reopened: '重办', merged: '已合并', rejected: '不予办理',
};

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// --- the outbox (IndexedDB) ------------------------------------------------------
let dbp = null;
function db() {
  dbp ||= new Promise((ok, fail) => {
    const r = indexedDB.open('gf-wb', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('outbox', { keyPath: 'id' });
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  return dbp;
}
async function store(mode, fn) {
  const d = await db();
  return new Promise((ok, fail) => {
    const tx = d.transaction('outbox', mode);
    const req = fn(tx.objectStore('outbox'));
    tx.oncomplete = () => ok(req?.result);
    tx.onerror = () => fail(tx.error);
  });
}
async function loadOutbox() {
  app.outbox = ((await store('readonly', (s) => s.getAll())) || []).filter((x) => x.person === app.me?.person);
  app.outbox.sort((a, b) => a.made - b.made);
}
const putItem = (item) => store('readwrite', (s) => s.put(item));
const dropItem = (id) => store('readwrite', (s) => s.delete(id));

// Queues an action (body without id) and tries to send it at once.
// Returns the item; its `answer` is set once the gateway answered.
async function act(body, label, caseId) {
  // The person who made it: it is sent only with that person's session (a
  // shared phone never sends one person's action as another's).
  const item = { id: uuid(), person: app.me?.person, body, label, caseId, made: Date.now(), state: 'pending', answer: null };
  await putItem(item);
  await loadOutbox();
  renderOutbox();
  await flush();
  const done = app.results.get(item.id);
  app.results.delete(item.id);
  return done || app.outbox.find((x) => x.id === item.id) || item;
}

let flushing = null;
function flush() {
  flushing ||= (async () => {
    try {
      if (!app.meFresh && !(await refreshMe())) return;
      await loadOutbox();
      for (const item of app.outbox.filter((x) => x.state === 'pending')) {
        let r;
        try {
          r = await fetch('/api/wb/action', {
            method: 'POST', credentials: 'same-origin', cache: 'no-store',
            headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': app.me?.csrf || '' },
            body: JSON.stringify({ id: item.id, ...item.body }),
          });
        } catch { break; } // no signal: keep it and the rest
        if (r.status === 401) { app.meFresh = false; break; } // signed out: keep it for after the login
        if (r.status === 403 && r.headers.get('Content-Type')?.includes('json')) {
          const a = await r.clone().json().catch(() => ({}));
          if (a.error && !a.result) { app.meFresh = false; break; } // a new session's CSRF token: ask again
        }
        const answer = await r.json().catch(() => ({}));
        if (r.status === 503 || r.status >= 500) break; // resend later with the same id
        item.answer = answer;
        if (r.ok) {
          await dropItem(item.id);
          app.sent += 1;
          notice(`${item.label}：${answer.result === 'duplicate' ? '已提交过（未重复记录）' : '已提交'}`);
          item.state = 'done';
          app.results.set(item.id, item);
        } else {
          item.state = 'refused';
          await putItem(item);
        }
      }
    } finally {
      await loadOutbox();
      renderOutbox();
      flushing = null;
    }
  })();
  return flushing;
}

// --- reads ---------------------------------------------------------------------
async function getJSON(path) {
  const r = await fetch(path, { cache: 'no-store', credentials: 'same-origin' });
  if (r.status === 401) { app.me = null; location.hash = '#/login'; throw new Error('401'); }
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

function countdown(ms, now) {
  if (!ms) return '';
  const left = ms - now;
  const a = Math.abs(left);
  const h = Math.floor(a / 3600000), m = Math.floor((a % 3600000) / 60000);
  const text = h >= 48 ? `${Math.floor(h / 24)}天${h % 24}小时` : `${h}小时${m}分`;
  return left < 0 ? `<b class="late">已超期 ${text}</b>` : `<span class="due">剩余 ${text}</span>`;
}

function notice(text, cls = '') {
  const div = document.createElement('div');
  div.className = `wb-notice ${cls}`;
  div.textContent = text;
  const box = $('notices');
  box.prepend(div);
  while (box.children.length > 3) box.lastChild.remove();
  setTimeout(() => div.remove(), 5000);
}

function renderOutbox() {
  const box = $('outbox');
  if (!box) return;
  const pending = app.outbox.filter((x) => x.state === 'pending');
  const refused = app.outbox.filter((x) => x.state === 'refused');
  let html = '';
  if (pending.length) {
    html += `<h2>待发送 <small>${pending.length}</small></h2><ul class="wb-list">` +
      pending.map((x) => `<li class="pending" data-id="${x.id}">${esc(x.label)} <small>待发送</small></li>`).join('') + '</ul>';
  }
  if (refused.length) {
    html += `<h2>未被受理 <small>${refused.length}</small></h2><ul class="wb-list">` +
      refused.map((x) => `<li class="refused" data-id="${x.id}">${esc(x.label)}：${esc(x.answer?.message || x.answer?.error || '被拒绝')}` +
        `${x.answer?.state ? `（当前状态：${esc(STATES[x.answer.state] || x.answer.state)}）` : ''}` +
        ` <button data-drop="${x.id}">知道了</button></li>`).join('') + '</ul>';
  }
  box.innerHTML = html;
  box.querySelectorAll('[data-drop]').forEach((b) => b.addEventListener('click', async () => {
    await dropItem(b.dataset.drop); await loadOutbox(); renderOutbox();
  }));
}

function caseItem(c, now) {
  return `<li class="${c.overdue ? 'overdue' : ''}" data-case="${c.id}"><a href="#/case/${c.id}">` +
    `<b>#${c.id}</b> ${c.urgent ? '<em class="urgent">紧急</em>' : ''}${c.supervised ? '<em class="urgent">督办</em>' : ''}${esc(STATES[c.state] || c.state)}` +
    ` ${countdown(c.deadline, now)}<br><span class="desc">${esc(c.description)}</span></a></li>`;
}

// The views that read before they draw: each draws only if its route is
// still the page's when its read comes back.  Otherwise a slow read (a
// case page, when the person has meanwhile signed out and the login form
// is up) would draw over the newer view.
async function showQueue() {
  const r = route();
  const q = await getJSON('/api/wb/queue');
  if (route() !== r) return; // left while it loaded (stale)
  app.queue = q;
  const now = q.now;
  const section = (title, list, key) => `<h2>${title} <small id="n-${key}">${q.counts?.[key] || 0}</small></h2>` +
    (list.length ? `<ul class="wb-list" id="q-${key}">${list.map((c) => caseItem(c, now)).join('')}</ul>` : `<p class="empty" id="q-${key}">暂无</p>`);
  $('view').innerHTML = '<div id="notice-list"></div><div id="outbox"></div>' +
    section('待签收', q.sign, 'sign') + section('我的在办', q.mine, 'mine') + section('待部门答复', q.referrals, 'referrals');
  renderOutbox();
  renderNotices();
}

const FIELDS = {
  refer: '<label>部门代码<input name="department" required></label>',
  callback: '<label>回访结果<select name="satisfied"><option value="true">满意</option><option value="false">不满意</option></select></label>',
  assign: '<label>指派到三级网格<input name="grid" required></label>',
  merge: '<label>合并到案件号<input name="into" type="number" required></label>',
  classify: '<label>分级<select name="tier"><option value="pending">待解决</option><option value="hard">难解决</option></select></label>',
  reject: '<label>原因<select name="reason"><option value="invalid">无效</option><option value="duplicate">重复</option><option value="out_of_jurisdiction">不属管辖</option></select></label>',
};

async function showCase(id) {
  const r = route();
  const c = await getJSON(`/api/wb/case/${id}`).catch((e) => {
    if (e.message === '401' || route() !== r) return null;
    if (!(e instanceof TypeError)) $('view').innerHTML = '<p>案件不存在或不在您的网格范围内</p>';
    // No signal: the page already drawn for this case stays as it is (its
    // buttons still queue actions in the outbox); otherwise say so.
    else if (!(app.page?.id === id && $('case-state'))) {
      $('view').innerHTML = '<p>暂时无法读取（无网络？）。待发送的操作已保存在本机。</p><div id="outbox"></div>';
      renderOutbox();
    }
    return null;
  });
  if (!c || route() !== r) return;
  app.page = c;
  const tl = c.timeline.map((t) => `<li><time>${new Date(t.at).toLocaleString('zh-CN', { hour12: false })}</time> ` +
    `<b>${esc(t.actor_name)}</b> ${esc(ACTIONS[t.action] || t.action)} → ${esc(t.to_name || t.to)}` +
    `${t.note ? `<br><span class="why">${esc(t.note)}</span>` : ''}</li>`).join('');
  const buttons = c.allowed.map((a) => `<button class="act" data-action="${a}">${esc(ACTIONS[a] || a)}</button>`).join('');
  $('view').innerHTML = `<h1>案件 #${c.id} <small id="case-state" data-state="${esc(c.state)}" data-version="${c.version}">${esc(c.state_name || c.state)}</small></h1>
    <p class="desc">${esc(c.description)}</p>
    <dl class="wb-contact"><dt>居民</dt><dd>${esc(c.name || '—')}</dd><dt>电话</dt><dd>${c.phone ? `<a href="tel:${esc(c.phone)}">${esc(c.phone)}</a>` : '—'}</dd>
    <dt>地址</dt><dd>${esc(c.address || '—')}</dd><dt>网格</dt><dd>${esc(c.grid)}</dd>
    ${c.sign_by ? `<dt>签收时限</dt><dd>${countdown(c.sign_by, Date.now())}</dd>` : ''}</dl>
    <div id="answer"></div>
    <form id="act-form" class="wb-form" hidden><input type="hidden" name="action"><div id="act-fields"></div>
      <label>说明<textarea name="note" rows="2"></textarea></label><button type="submit" id="act-go">提交</button></form>
    <div class="wb-actions">${buttons}</div>
    <label class="wb-photo">拍照取证<input type="file" id="photo" accept="image/*" capture="environment"></label>
    <h2>办理经过</h2><ol class="wb-timeline">${tl}</ol>
    <h2>照片与附件 <small>${c.attachments.length}</small></h2>
    <ul class="wb-list" id="attachments">${c.attachments.map((a) => `<li><a href="/api/wb/attachment/${a.id}" target="_blank" rel="noopener">` +
      `${a.content_type.startsWith('image/') ? `<img class="wb-thumb" src="/api/wb/attachment/${a.id}" alt="" loading="lazy">` : ''}${esc(a.filename)}</a> · ${esc(a.actor)} · ${esc(a.at)}</li>`).join('')}</ul>
    <div id="outbox"></div>`;
  renderOutbox();
  const form = $('act-form');
  document.querySelectorAll('button.act').forEach((b) => b.addEventListener('click', () => {
    form.hidden = false;
    form.action.value = b.dataset.action;
    $('act-fields').innerHTML = FIELDS[b.dataset.action] || '';
    $('act-go').textContent = `提交：${ACTIONS[b.dataset.action] || b.dataset.action}`;
  }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const body = { kind: 'case.action', case: c.id, action: f.get('action'), version: c.version };
    if (f.get('note')) body.note = f.get('note');
    for (const k of ['department', 'grid', 'tier', 'reason']) if (f.get(k)) body[k] = f.get(k);
    if (f.get('into')) body.into = Number(f.get('into'));
    if (f.get('satisfied')) body.satisfied = f.get('satisfied') === 'true';
    await caseAction(c, body);
  });
  $('photo').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    const data = await shrink(file);
    await act({ kind: 'attachment.add', case: c.id, filename: file.name.replace(/[\\/]/g, '_').slice(0, 200) || 'photo.jpg', note: '现场照片', data },
      `案件 #${c.id} 照片`, c.id);
    if (route() === `case/${c.id}`) showCase(c.id);
  });
}

// A case action with its answer on the page: the conflict shows the case
// as it is now and a one-tap retry at that version (a new request id).
async function caseAction(c, body) {
  const label = `案件 #${c.id} ${ACTIONS[body.action] || body.action}`;
  const item = await act(body, label, c.id);
  const a = item.answer;
  const box = $('answer');
  if (!a) { if (box) box.innerHTML = `<p class="pending">已保存，待发送（无信号时将在恢复后自动发送）</p>`; return; }
  if (item.state === 'done') { showCase(c.id); return; }
  if (!box) return;
  if (a.code === 'conflict') {
    box.innerHTML = `<div class="conflict"><p>${esc(a.message)}</p><p>当前状态：<b id="conflict-state">${esc(STATES[a.state] || a.state)}</b>（版本 ${a.version}）</p>` +
      `<button id="retry">按当前状态重试「${esc(ACTIONS[body.action] || body.action)}」</button></div>`;
    $('retry').addEventListener('click', async () => {
      await dropItem(item.id);
      await caseAction(c, { ...body, version: a.version });
    });
  } else {
    box.innerHTML = `<p class="refused">${esc(a.message || a.error)}</p>`;
  }
}

// A photo as a JPEG of at most 1024 px a side, small enough for the
// gateway's max_body in base64.
async function shrink(file) {
  const url = await new Promise((ok) => { const r = new FileReader(); r.onload = () => ok(r.result); r.readAsDataURL(file); });
  const img = await new Promise((ok, fail) => { const i = new Image(); i.onload = () => ok(i); i.onerror = fail; i.src = url; });
  for (const side of [1024, 800, 600, 400]) {
    const k = Math.min(1, side / Math.max(img.width, img.height));
    const cv = document.createElement('canvas');
    cv.width = Math.max(1, Math.round(img.width * k)); cv.height = Math.max(1, Math.round(img.height * k));
    cv.getContext('2d').drawImage(img, 0, 0, cv.width, cv.height);
    const out = cv.toDataURL('image/jpeg', 0.6).split(',')[1];
    if (out.length < 48000) return out;
  }
  return url.split(',')[1];
}

// The household picker (the register): households of the person's grids
// whose address or head's name holds what was typed; the option's value is
// the household's id, its label the address and head.
function householdPicker(input) {
  let timer = null;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2 || /^H-/.test(q)) return;
    timer = setTimeout(async () => {
      try {
        const list = await getJSON(`/api/wb/households?q=${encodeURIComponent(q)}`);
        $('households').innerHTML = list.map((h) => `<option value="${esc(h.id)}" label="${esc(h.address)} ${esc(h.head_name)}">`).join('');
      } catch { /* offline: type the id */ }
    }, 250);
  });
}

function showNew() {
  $('view').innerHTML = `<h1>代居民登记诉求</h1><form id="new-form" class="wb-form">
    <label>来源<select name="source"><option value="app">来访代登</option><option value="visit">走访</option><option value="patrol">巡查</option></select></label>
    <label>诉求内容<textarea name="description" rows="4" required></textarea></label>
    <label>居民姓名<input name="name"></label><label>联系电话<input name="phone" type="tel"></label>
    <label>地址<input name="address"></label>
    <label>户（从台账选择：输入地址或户主姓名）<input name="household" list="households" autocomplete="off"></label><datalist id="households"></datalist>
    <label><input type="checkbox" name="urgent"> 紧急</label>
    <button type="submit">登记</button></form><div id="answer"></div><div id="outbox"></div>`;
  renderOutbox();
  householdPicker($('new-form').household);
  $('new-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = { kind: 'complaint.submit', source: f.get('source'), description: f.get('description') };
    for (const k of ['name', 'phone', 'address', 'household']) if (f.get(k)) body[k] = f.get(k);
    if (f.get('urgent')) body.urgent = true;
    const item = await act(body, `代为登记：${body.description.slice(0, 12)}`);
    $('answer').innerHTML = item.state === 'done' ? `<p class="ok">已登记，案件 #${item.answer.case}</p>`
      : item.answer ? `<p class="refused">${esc(item.answer.message || item.answer.error)}</p>` : '<p class="pending">已保存，待发送</p>';
    if (item.state === 'done') e.target.reset();
  });
}

function showLog() {
  $('view').innerHTML = `<h1>走访 / 巡查</h1>
    <form id="visit-form" class="wb-form"><h2>走访记录</h2><label>户（台账编号）<input name="household" required></label>
      <label>了解到的情况<textarea name="learned" rows="3"></textarea></label><label>需跟进的诉求<textarea name="follow_up" rows="2"></textarea></label>
      <button type="submit">记录走访</button></form>
    <form id="patrol-form" class="wb-form"><h2>巡查记录</h2><label>网格<input name="grid" value="${esc(app.me?.grid || '')}" required></label>
      <label>路线或地点（每行一处）<textarea name="places" rows="2"></textarea></label><label>发现的问题（每行一条，无则留空）<textarea name="findings" rows="2"></textarea></label>
      <button type="submit">记录巡查</button></form><div id="answer"></div><div id="outbox"></div>`;
  renderOutbox();
  const lines = (v) => String(v || '').split('\n').map((s) => s.trim().replace(/,/g, '，')).filter(Boolean);
  const done = (item) => {
    $('answer').innerHTML = item.state === 'done' ? '<p class="ok">已记录</p>'
      : item.answer ? `<p class="refused">${esc(item.answer.message || item.answer.error)}</p>` : '<p class="pending">已保存，待发送</p>';
  };
  $('visit-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = { kind: 'visit.logged', household: f.get('household'), done_at: Date.now() };
    if (f.get('learned')) body.learned = f.get('learned');
    if (f.get('follow_up')) body.follow_up = f.get('follow_up');
    done(await act(body, `走访 ${f.get('household')}`));
  });
  $('patrol-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    done(await act({ kind: 'patrol.logged', grid: f.get('grid'), done_at: Date.now(), places: lines(f.get('places')), findings: lines(f.get('findings')) },
      `巡查 ${f.get('grid')}`));
  });
}

async function showMeeting() {
  const r = route();
  const m = await getJSON('/api/wb/meeting').catch((e) => { if (e.message !== '401' && route() === r) $('view').innerHTML = '<p>暂无本级例会</p>'; return null; });
  if (!m || route() !== r) return;
  const kinds = DECISIONS[m.kind] || DECISIONS.weekly;
  const opts = Object.entries(kinds).map(([k, v]) => `<option value="${k}">${v}</option>`).join('');
  const rows = m.agenda.map((a) => `<li data-case="${a.case_id}"><a href="#/case/${a.case_id}"><b>#${a.case_id}</b></a> ${esc(a.category_name)} · ${esc(a.priority)} · ${esc(a.reason_name)} · ${esc(STATES[a.state] || a.state)}
      ${a.this_kind ? `<p class="ok decided">本次决定：${esc(kinds[a.this_kind] || a.this_kind)} ${esc(a.this_detail || '')}</p>` :
      `<form class="decide wb-form" data-case="${a.case_id}"><select name="decision">${opts}</select><input name="note" placeholder="说明"><input name="department" placeholder="部门（转办时）"><label>办理期限<input name="deadline" type="date"></label><button>决定</button></form>`}</li>`).join('');
  $('view').innerHTML = `<h1>${m.kind === 'monthly' ? '月例会' : '周例会'} · ${esc(m.grid)} · ${esc(m.day)} <small id="meeting-state">${m.state === 'open' ? '进行中' : m.state === 'closed' ? '已结束' : '已失效'}</small></h1>
    <h2>议程（${m.agenda.length} 件）</h2><ul class="wb-list" id="agenda">${rows || '<li>无</li>'}</ul>
    <h2>参会人员</h2><p id="attendees">${m.attendees.map((t) => esc(t.name)).join('、') || '—'}</p>
    <form id="attend-form" class="wb-form"><label>参会人（人员编号）<input name="person"></label><button>登记参会</button></form>
    <form id="minutes-form" class="wb-form"><label>会议纪要<textarea name="text" rows="3">${esc(m.minutes || '')}</textarea></label><button>保存纪要</button></form>
    <button id="close-meeting">结束例会</button><div id="answer"></div><div id="outbox"></div>`;
  renderOutbox();
  const send = async (body, label) => {
    const item = await act({ kind: 'meeting.action', meeting: m.meeting, ...body }, label);
    if (item.state === 'done') showMeeting();
    else $('answer').innerHTML = item.answer ? `<p class="refused">${esc(item.answer.message || item.answer.error)}：${esc(item.answer.detail || '')}</p>` : '<p class="pending">已保存，待发送</p>';
  };
  document.querySelectorAll('form.decide').forEach((f) => f.addEventListener('submit', (e) => {
    e.preventDefault();
    const d = new FormData(f);
    const body = { action: 'decide', case: Number(f.dataset.case), decision: d.get('decision') };
    if (d.get('note')) body.note = d.get('note');
    if (d.get('department')) body.department = d.get('department');
    if (d.get('deadline')) body.deadline = Date.parse(`${d.get('deadline')}T23:59:59+08:00`);
    send(body, `例会决定 #${f.dataset.case}`);
  }));
  $('attend-form').addEventListener('submit', (e) => { e.preventDefault(); send({ action: 'attend', person: new FormData(e.target).get('person') }, '登记参会'); });
  $('minutes-form').addEventListener('submit', (e) => { e.preventDefault(); send({ action: 'minutes', text: new FormData(e.target).get('text') }, '会议纪要'); });
  $('close-meeting').addEventListener('click', () => send({ action: 'close' }, '结束例会'));
}

// 月报 for L1/L2: this month's indicators (响应率, 解决率, 按时办结率, 满意率,
// 重办率, 督办; indicators.sql through /api/indicators.json, counts only)
// of the person's grid and the grids under it.
async function showReport() {
  const r = route();
  const data = await getJSON('/api/indicators.json');
  if (route() !== r) return;
  const g = app.me.grid;
  const root = (data.roots || []).find((r) => r.grid === g.split('.')[0]);
  if (!root) { $('view').innerHTML = '<p>暂无本月指标</p>'; return; }
  const mine = (k) => k === g || k.startsWith(`${g}.`);
  const rows = [...(g === root.grid ? [{ ...root.total, key: root.grid }] : []), ...root.by_l2.filter((r) => mine(r.key)),
    ...root.by_l3.filter((r) => mine(r.key))];
  const pct = (v) => (v === null || v === undefined ? '—' : `${v}%`);
  $('view').innerHTML = `<h1>${esc(root.month)} 月报 · 指标</h1><div class="wb-table"><table id="report"><thead><tr><th>网格</th><th>受理</th><th>响应率</th><th>解决率</th>` +
    `<th>按时办结率</th><th>满意率</th><th>重办率</th><th>督办</th><th>得分</th><th>排名</th></tr></thead><tbody>` +
    rows.map((r) => `<tr data-grid="${esc(r.key)}"><td>${esc(r.name)}<br><small>${esc(r.key)}</small></td><td>${r.received}</td><td>${pct(r.response_rate_pct)}</td>` +
      `<td>${pct(r.resolution_rate_pct)}</td><td>${pct(r.on_time_rate_pct)}</td><td>${pct(r.satisfaction_rate_pct)}</td><td>${pct(r.reopen_rate_pct)}</td>` +
      `<td>${r.supervised}</td><td>${r.score ?? '—'}</td><td>${r.rank ?? '—'}</td></tr>`).join('') + '</tbody></table></div>';
}

function showLogin() {
  $('view').innerHTML = `<h1>登录</h1><form id="login-form" class="wb-form">
    <label>人员编号<input name="person" autocomplete="username" required></label>
    <label>密码<input name="password" type="password" autocomplete="current-password" required></label>
    <label>动态验证码（已开启两步验证时填写）<input name="otp" inputmode="numeric" autocomplete="one-time-code" maxlength="8"></label>
    <label id="login-new" hidden>首次登录请设置新密码（至少8位）<input name="new_password" type="password" autocomplete="new-password" minlength="8"></label>
    <button type="submit">登录</button><p id="login-error" class="refused"></p></form>`;
  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = { person: f.get('person'), password: f.get('password') };
    if (f.get('otp')) body.otp = f.get('otp');
    if (!$('login-new').hidden) body.new_password = f.get('new_password');
    const answer = await signIn(body).catch(() => null);
    if (!answer) { $('login-error').textContent = '无网络，无法登录'; return; }
    if (answer.mustChange) { $('login-new').hidden = false; $('login-error').textContent = MUST_CHANGE; return; }
    if (!answer.me) { $('login-error').textContent = answer.message; return; }
    app.me = answer.me;
    localStorage.setItem('gf-wb-me', JSON.stringify(app.me));
    app.meFresh = true;
    app.noticeList = [];
    seenNotices.clear();
    app.noticeAfter = 0;
    if (signedIn) { loadNotices(); flush(); }
    startSignedIn();
    location.hash = '#/';
  });
}

const route = () => location.hash.replace(/^#\/?/, '');
async function render() {
  const r = route();
  const t0 = performance.now();
  try {
    if (!app.me && r !== 'login') { location.hash = '#/login'; return; }
    if (r === 'login') showLogin();
    else if (r.startsWith('case/')) await showCase(Number(r.slice(5)));
    else if (r === 'new') showNew();
    else if (r === 'log') showLog();
    else if (r === 'meeting') await showMeeting();
    else if (r === 'report') await showReport();
    else await showQueue();
  } catch (e) {
    if (e.message !== '401' && !app.queue) $('view').innerHTML = '<p>暂时无法读取（无网络？）。待发送的操作已保存在本机。</p><div id="outbox"></div>';
    renderOutbox();
  }
  app.renderMs = performance.now() - t0;
  app.rendered = (app.rendered || 0) + 1;
  document.body.dataset.route = r || 'queue';
}

// --- notices (the notifier's app channel, 送达有签收) ----------------------------
// The person's own app messages not yet acknowledged (GET /notices.json),
// read on sign-in, when the stream (re)connects and when it brings a
// notification for this person; each is shown once, then its receipt
// posted back.  The app holds one stream only: a browser keeps few
// connections to one host over HTTP/1.1, and actions need theirs.
app.noticeList = [];
app.noticeAfter = 0;
const seenNotices = new Set();
async function showNotice(n) {
  if (!n.delivery || seenNotices.has(n.delivery)) return;
  seenNotices.add(n.delivery);
  app.noticeList.unshift(n);
  notice(n.text || '新通知', 'info');
  renderNotices();
  try {
    const r = await fetch('/notices/ack', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': app.me?.csrf || '' },
      body: JSON.stringify({ delivery: n.delivery }),
    });
    if (r.ok) { n.acked = true; app.acked = (app.acked || 0) + 1; }
  } catch { seenNotices.delete(n.delivery); } // no signal: read again on the next look
  renderNotices();
}
let noticesLoading = null;
function loadNotices() {
  // One look at a time; a look asked for meanwhile runs after it.
  noticesLoading = (noticesLoading || Promise.resolve()).then(async () => {
    try {
      for (;;) {
        const page = (await getJSON(`/notices.json?after=${app.noticeAfter}`)).notices || [];
        for (const n of page) {
          app.noticeAfter = Math.max(app.noticeAfter, n.delivery);
          await showNotice(n);
        }
        if (page.length < 50) break;
      }
    } catch { /* offline, or signed out */ }
  });
  return noticesLoading;
}
function renderNotices() {
  const box = $('notice-list');
  if (!box) return;
  box.innerHTML = app.noticeList.length ? `<h2>通知 <small>${app.noticeList.length}</small></h2><ul class="wb-list">` +
    app.noticeList.slice(0, 10).map((n) => `<li class="notice" data-delivery="${n.delivery}">` +
      `${n.case ? `<a href="#/case/${n.case}">${esc(n.text)}</a>` : esc(n.text)}${n.acked ? ' <small>已签收</small>' : ''}</li>`).join('') + '</ul>' : '';
}

// --- live updates ----------------------------------------------------------------
let refreshTimer = null;
function onEvent(e) {
  let ev = {};
  try { ev = JSON.parse(e.data); } catch { /* a comment or heartbeat */ }
  app.events = (app.events || 0) + 1;
  if (ev.type === 'notification.created' && ev.recipient === app.me?.person) loadNotices();
  if (ev.type === 'case.routed' && app.queue && ev.grid && (ev.grid === app.me?.grid || ev.grid.startsWith(`${app.me?.grid}.`))) {
    notice(`新案件待签收 #${ev.case}`, 'info');
  }
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    const r = route();
    if (r === '' ) showQueue().catch(() => {});
    // The case page follows too, unless it shows a conflict to retry or a
    // form being filled in.
    else if (navigator.onLine && r === `case/${app.page?.id}` && ev.case === app.page?.id && !document.querySelector('#answer .conflict, #act-form:not([hidden])')) showCase(app.page.id);
  }, 300);
}
// SSE events are named by their type: the types from the vocabulary.
let eventTypes = null;
async function connect() {
  if (!eventTypes) {
    try { eventTypes = Object.keys((await getJSON('/api/vocabulary.json')).event_types || {}); } catch { eventTypes = []; }
    if (!eventTypes.length) eventTypes = ['case.routed', 'case.signed', 'case.resolved', 'notification.created'];
  }
  if (app.es) app.es.close();
  const es = new EventSource('/stream');
  app.es = es;
  for (const t of eventTypes) es.addEventListener(t, onEvent);
  es.onmessage = onEvent;
  es.onopen = () => loadNotices(); // what came while the stream was away
  es.onerror = () => { if (es.readyState === EventSource.CLOSED) setTimeout(connect, 3000); };
}

function setNet() {
  $('net').textContent = navigator.onLine ? '' : '离线';
  $('net').className = navigator.onLine ? 'wb-net' : 'wb-net off';
}

// Who is signed in (and the session's CSRF token).  False when there is no
// signal; app.me null when there is no session.
async function refreshMe() {
  try {
    const r = await fetch('/auth/me', { credentials: 'same-origin', cache: 'no-store' });
    app.me = r.ok ? await r.json() : null;
    if (app.me) localStorage.setItem('gf-wb-me', JSON.stringify(app.me));
    else localStorage.removeItem('gf-wb-me');
    app.meFresh = true;
    return true;
  } catch { return false; }
}

// 退出: this session ends (POST /auth/logout); what waits in the outbox stays
// with its person for the next sign-in.
async function logout() {
  try {
    await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin',
      headers: { 'X-CSRF-Token': app.me?.csrf || '' } });
  } catch { /* no signal: the session ends by itself (idle expiry) */ }
  if (app.es) app.es.close();
  app.es = null;
  app.me = null;
  signedIn = false;
  localStorage.removeItem('gf-wb-me');
  $('who').textContent = '';
  $('logout').hidden = true;
  location.hash = '#/login';
}

let signedIn = false;
function startSignedIn() {
  $('who').textContent = app.me ? `${app.me.name}（${app.me.grid}）` : '';
  $('logout').hidden = !app.me;
  $('nav-meeting').hidden = !app.me || app.me.grid.split('.').length > 2;
  $('nav-report').hidden = $('nav-meeting').hidden;
  if (signedIn) return;
  signedIn = true;
  connect();
  flush();
  loadNotices();
}

async function start() {
  app.firstRender = performance.now();
  setNet();
  window.addEventListener('online', async () => {
    setNet();
    await flush();
    if (!route().startsWith('case/')) render(); // what was unreadable offline
  });
  window.addEventListener('offline', setNet);
  $('logout').addEventListener('click', logout);
  setInterval(() => { if (navigator.onLine) flush(); }, 5000);
  setInterval(() => { if (route() === '' && app.queue) { app.queue.now += 30000; } }, 30000);
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/wb/sw.js', { scope: '/wb/' }).catch(() => {});
  if (!(await refreshMe())) {
    // No signal: the last signed-in person, so the shell and the outbox work.
    try { app.me = JSON.parse(localStorage.getItem('gf-wb-me')); } catch { app.me = null; }
  }
  await loadOutbox().catch(() => {});
  if (app.me) startSignedIn();
  window.addEventListener('hashchange', render);
  await render();
  app.firstRenderMs = performance.now() - app.firstRender;
  app.readyAt = performance.now(); // ms since the navigation started: the first render
  app.ready = true;
}
start();
