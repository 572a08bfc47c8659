// Staff login (issue 16): POST /auth/login, then back to the page that sent
// us here (?next=, same-site paths only) or the dashboard.
import './style.css';
import { MUST_CHANGE, signIn } from './signin.js';

const $ = (id) => document.getElementById(id);
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
    const answer = await signIn(body);
    if (answer.me) {
      $('msg').textContent = '登录成功';
      window.location.assign(nextPage());
      return;
    }
    if (answer.mustChange) {
      // A one-time password (accounts made from the directory): set one's own.
      $('new-row').hidden = false;
      $('msg').textContent = MUST_CHANGE;
      $('submit').disabled = false;
      return;
    }
    $('msg').textContent = answer.message;
  } catch {
    $('msg').textContent = '无法连接服务器，请检查网络';
  }
  $('password').value = '';
  $('submit').disabled = false;
});
