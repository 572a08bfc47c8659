// The public grid directory (四公开): leader, position, phone, commitment.
import './style.css';

const esc = (s) => String(s ?? '').replace(/[&<>"']/g,
  (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const LEVELS = { 1: '一级', 2: '二级', 3: '三级' };

async function start() {
  const r = await fetch('/api/directory.json', { cache: 'no-store' });
  const grids = await r.json();
  const tbody = document.querySelector('#directory tbody');
  tbody.innerHTML = grids.map((g) => {
    const l = g.leader ?? {};
    const text = [g.name, g.code, l.name].join(' ');
    return `<tr class="lv${g.level}" data-code="${esc(g.code)}" data-text="${esc(text)}">` +
      `<td>${esc(g.name)}</td><td>${esc(g.code)}</td><td>${LEVELS[g.level]}</td><td>${esc(l.name ?? '—')}</td>` +
      `<td>${esc(l.position ?? '')}</td><td>${l.phone ? `<a href="tel:${esc(l.phone)}">${esc(l.phone)}</a>` : '—'}</td>` +
      `<td>${esc(l.commitment ?? g.commitment ?? '')}</td></tr>`;
  }).join('');
  document.getElementById('filter').addEventListener('input', (e) => {
    const q = e.target.value.trim();
    for (const tr of tbody.rows) tr.hidden = q !== '' && !tr.dataset.text.includes(q);
  });
}

start();
