// gridflow workbench service worker: keeps the app's shell (the page and
// its built assets) so that it opens without a signal.  The API and the
// stream are never cached: actions made offline wait in the page's own
// IndexedDB outbox (src/wb.js) and are sent when the signal returns.
const CACHE = 'gf-wb-shell-v1';

async function fillShell() {
  const cache = await caches.open(CACHE);
  const page = await fetch('/wb/', { cache: 'no-store' });
  const html = await page.clone().text();
  await cache.put('/wb/', page);
  const assets = [...html.matchAll(/(?:src|href)="(\/(?:assets|wb)\/[^"]+)"/g)].map((m) => m[1]);
  await cache.addAll([...new Set(assets)]);
}

self.addEventListener('install', (e) => { e.waitUntil(fillShell().then(() => self.skipWaiting())); });
self.addEventListener('activate', (e) => { e.waitUntil(self.clients.claim()); });

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/auth/') || url.pathname === '/stream') return;
  const key = e.request.mode === 'navigate' ? '/wb/' : e.request;
  // Network first (a new build shows at once), the shell when there is none.
  e.respondWith(fetch(e.request).then((r) => {
    if (r.ok) { const copy = r.clone(); caches.open(CACHE).then((c) => c.put(key, copy)); }
    return r;
  }).catch(() => caches.match(key).then((r) => r || new Response('离线', { status: 503 }))));
});
