// The web authenticator's service worker (scope /authenticator/). A push notice carries only
// ids (docs/device-api.md, "Push notice"): it shows a generic notification, and a tap opens or
// focuses the page, which fetches the request over the signed device API. It also keeps the
// page's shell for when the network is gone.
const SHELL = 'outband-authenticator-v1';

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.add('/authenticator/')).catch(() => {}).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== SHELL).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // The page: network first, the cached shell when offline. Hashed assets: cache first. The API: never cached.
  if (request.mode === 'navigate' && url.pathname.startsWith('/authenticator')) {
    event.respondWith(
      fetch(request)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            void caches.open(SHELL).then((cache) => cache.put('/authenticator/', copy));
          }
          return res;
        })
        .catch(() => caches.match('/authenticator/').then((cached) => cached ?? Response.error())),
    );
  } else if (url.pathname.startsWith('/assets/')) {
    event.respondWith(
      caches.match(request).then(
        (cached) =>
          cached ??
          fetch(request).then((res) => {
            if (res.ok) {
              const copy = res.clone();
              void caches.open(SHELL).then((cache) => cache.put(request, copy));
            }
            return res;
          }),
      ),
    );
  }
});

const TEXTS = {
  en: { title: 'Verification request', body: 'Open to review and answer it.' },
  nl: { title: 'Verificatieverzoek', body: 'Open om het te bekijken en te beantwoorden.' },
};

self.addEventListener('push', (event) => {
  let notice = {};
  try {
    notice = event.data ? event.data.json() : {};
  } catch {
    notice = {};
  }
  if (notice.type !== undefined && notice.type !== 'outband.request') return;
  const texts = (self.navigator.language || 'en').toLowerCase().startsWith('nl') ? TEXTS.nl : TEXTS.en;
  const id = typeof notice.verification_id === 'string' ? notice.verification_id : null;
  // Show nothing from the notice itself but the id to fetch: the details come over the signed API.
  event.waitUntil(
    self.registration.showNotification(texts.title, {
      body: texts.body,
      tag: id ?? 'outband',
      icon: '/authenticator/icon-192.png',
      data: { id },
      requireInteraction: true,
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const id = event.notification.data && event.notification.data.id;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const page = windows.find((w) => new URL(w.url).pathname.startsWith('/authenticator'));
      if (page !== undefined) {
        if (id) page.postMessage({ type: 'open', id });
        return page.focus();
      }
      return self.clients.openWindow(id ? `/authenticator/#request=${encodeURIComponent(id)}` : '/authenticator/');
    }),
  );
});
