// The city dashboard (市级汇总, /api/city.json, issue 18): each district's
// freshness and the city monthly report, the districts' own reports added
// up (gridctl city report prints the same).  Staff of the city's database
// only: a session or a kiosk link, else the sign-in page is offered.
import './style.css';

const esc = (s) => String(s ?? '').replace(/[&<>"']/g,
  (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const num = (v) => (v === null || v === undefined ? '—' : esc(v));
const SECTIONS = { total: '合计', district: '地区', category: '类别', priority: '优先级', escalation: '督办升级' };
const monthInput = document.getElementById('month');

function freshness(lines, staleAfter) {
  if (lines.length === 0) return '<p>尚未接入任何地区。</p>';
  const rows = lines.map((f) => `<tr><td>${esc(f.district)}</td>` +
    `<td class="${f.state === 'live' ? 'ok' : 'bad'}">${f.state === 'live' ? '实时' : '滞后'}</td>` +
    `<td>${f.connected ? '已连接' : '未连接'}</td>` +
    `<td>${num(f.last_message_age_s)} 秒前</td><td>${num(f.newest_change_age_s)} 秒前</td>` +
    `<td>${num(f.newest_seq)}</td><td>${num(f.cases)}</td></tr>`).join('');
  return `<table><thead><tr><th>地区</th><th>状态</th><th>复制连接</th><th>最近消息</th>` +
    `<th>最新变更</th><th>事件序号</th><th>案件数</th></tr></thead><tbody>${rows}</tbody></table>` +
    `<p class="intro">超过 ${esc(staleAfter)} 秒未收到某地区的消息即标为“滞后”。</p>`;
}

function report(rows) {
  if (rows.length === 0) return '<p>本月无数据。</p>';
  let section = '';
  const body = rows.map((r) => {
    const head = r.section !== section
      ? `<tr class="section"><th colspan="10">${esc(SECTIONS[r.section] ?? r.section)}</th></tr>` : '';
    section = r.section;
    return `${head}<tr><td>${esc(r.name)}</td><td>${num(r.received)}</td><td>${num(r.resolved)}</td>` +
      `<td>${num(r.open)}</td><td>${num(r.resolution_rate_pct)}</td><td>${num(r.on_time)}</td>` +
      `<td>${num(r.late)}</td><td>${num(r.on_time_rate_pct)}</td><td>${num(r.avg_hours_to_resolve)}</td>` +
      `<td>${num(r.escalations)}</td></tr>`;
  }).join('');
  return `<table><thead><tr><th>名称</th><th>受理</th><th>办结</th><th>未结</th><th>办结率%</th>` +
    `<th>按时</th><th>超时</th><th>按时率%</th><th>平均办结时长(小时)</th><th>督办</th></tr></thead>` +
    `<tbody>${body}</tbody></table>`;
}

async function load() {
  const q = monthInput.value ? `?month=${encodeURIComponent(monthInput.value)}` : '';
  const r = await fetch(`/api/city.json${q}`, { cache: 'no-store', credentials: 'same-origin' });
  const updated = document.getElementById('updated');
  if (r.status === 401) {
    updated.innerHTML = '请先<a href="/login">登录</a>（或使用大屏链接）';
    return;
  }
  const d = await r.json();
  if (!r.ok) {
    updated.textContent = `暂时无法读取：${d.error ?? r.status}`;
    return;
  }
  monthInput.value = d.month;
  document.getElementById('freshness').innerHTML = freshness(d.freshness, d.stale_after);
  document.getElementById('report').innerHTML = report(d.report);
  updated.textContent = `${d.month} 月 · 更新于 ${new Date().toLocaleTimeString('zh-CN')}`;
}

monthInput.addEventListener('change', load);
load();
setInterval(load, 60000);
