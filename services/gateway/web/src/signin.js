// Staff sign-in (POST /auth/login, issue 16), shared by the login page of
// the dashboard and the workbench's own form: the answer in plain Chinese.
const MESSAGES = {
  400: '请填写人员编号和密码',
  401: '人员编号、密码或验证码不正确（多次错误将锁定账号）',
  429: '尝试次数过多，请稍后再试',
};

// body: {person, password, otp?, new_password?}.  Resolves to {me} when
// signed in, {mustChange: true} for a one-time password that must be
// replaced first, or {message}; rejects when there is no network.
export async function signIn(body) {
  const r = await fetch('/auth/login', {
    method: 'POST', credentials: 'same-origin', cache: 'no-store',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  if (r.ok) return { me: await r.json() };
  const answer = await r.json().catch(() => ({}));
  if (r.status === 403 && answer.must_change) return { mustChange: true };
  return { message: MESSAGES[r.status] ?? `登录失败（${r.status}），请稍后再试` };
}

export const MUST_CHANGE = '这是一次性密码，请设置新密码后再登录（不能与一次性密码相同）';
