// The published star ratings (星级评定公示, /api/ratings.json): every round,
// newest first; groups by L3 grid with stars, households as counts only.
import './style.css';

const esc = (s) => String(s ?? '').replace(/[&<>"']/g,
  (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const stars = (n) => '★'.repeat(n) + '☆'.repeat(5 - n);

async function start() {
  const r = await fetch('/api/ratings.json', { cache: 'no-store' });
  const rounds = await r.json();
  document.getElementById('rounds').innerHTML = rounds.length === 0 ? '<p>暂无公示。</p>' : rounds.map((x) => {
    const head = `<h2>${esc(x.grid_name)}（${esc(x.grid)}）${esc(x.period)} ` +
      `${x.subject_kind === 'grid' ? '自治小组' : '住户'}星级评定</h2>` +
      `<p class="intro">公布于 ${esc(x.published_at)}；评分项：` +
      `${(x.criteria ?? []).map((c) => `${esc(c.name)} ${c.max_points} 分`).join('、')}</p>`;
    const rows = (x.results ?? []).map((s) => (x.subject_kind === 'grid'
      ? `<tr><td>${esc(s.name)}</td><td>${esc(s.grid)}</td><td>${s.points}</td><td>${stars(s.stars)}</td></tr>`
      : `<tr><td>${esc(s.grid)}</td><td>${stars(s.stars)}</td><td>${s.households} 户</td></tr>`)).join('');
    const th = x.subject_kind === 'grid'
      ? '<tr><th>自治小组</th><th>编码</th><th>得分</th><th>星级</th></tr>'
      : '<tr><th>网格</th><th>星级</th><th>户数</th></tr>';
    return `${head}<table><thead>${th}</thead><tbody>${rows}</tbody></table>`;
  }).join('');
}

start();
