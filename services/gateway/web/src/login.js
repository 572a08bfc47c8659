// Staff login (issue 16): POST /auth/login, then back to the page that sent
// us here (?next=, same-site paths only) or the dashboard.
import './style.css';

const $ = (id) => document.getElementById(id);
const MESSAGES = {
  400: '请填写人员编号和密码',
  401: '人员编号、密码或验证码不正确，或账号已被锁定',
  429: '尝试次数过多，请稍后再试',
};

function nextPage() {
  const next = new URLSearchParams(window.location.search).get('next') ?? '/';
  return /^\/(?!\/)[A-Za-z0-9_./?=&-]*$/.test(next) ? next : '/';
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('submit').disabled = true;
  $('msg').textContent = '正在登录…';
  const body = { person: $('person').value.trim(), password: $('password').value };
  if ($('otp').value.trim()) body.otp = $('otp').value.trim();
  if (!$('new-row').hidden) body.new_password = $('new-password').value;
  try {
    const r = await fetch('/auth/login', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body), cache: 'no-store',
    });
    if (r.ok) {
      $('msg').textContent = '登录成功';
      window.location.assign(nextPage());
      return;
    }
    if (r.status === 403 && (await r.json().catch(() => ({}))).must_change) {
      // A one-time password (accounts made from the directory): set one's own.
      $('new-row').hidden = false;
      $('msg').textContent = '这是一次性密码，请设置新密码后再登录（不能与一次性密码相同）';
      $('submit').disabled = false;
      return;
    }
    $('msg').textContent = MESSAGES[r.status] ?? `登录失败（${r.status}），请稍后再试`;
  } catch {
    $('msg').textContent = '无法连接服务器，请检查网络';
  }
  $('password').value = '';
  $('submit').disabled = false;
});
