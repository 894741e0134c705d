// The web authenticator in a real browser: Debian's Chromium driven by playwright-core, with a
// CDP virtual authenticator (a platform authenticator that verifies its user), against a real
// Outband server. Run alone: `npm run build:web --silent` first (npm test does it in pretest).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import type { Clock } from '../../src/services/deps.ts';
import { assertNoSeriousAxeViolations, DESKTOP, launchChromium, PHONE, SCREENSHOTS, type Evaluate, within } from '../helpers/browser.ts';
import { dialects } from '../helpers/databases.ts';
import { freePort, startTestServer, unlimited, type Tenant, type TestServer } from '../helpers/server.ts';

/**
 * In-page helpers for what the page's own buttons would never do (replays, assertions over
 * another request, an approval without WebAuthn), using the page's stored device key: a test
 * stands in for an attacker who got hold of the page's script context, not for the page.
 */
const PAGE_HELPERS = `
globalThis.__ob = (() => {
  const enc = new TextEncoder();
  const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const unb64 = (t) => Uint8Array.from(atob(t.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const enrolment = () => new Promise((resolve, reject) => {
    const open = indexedDB.open('outband-authenticator', 1);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const get = open.result.transaction('enrolment').objectStore('enrolment').get('current');
      get.onsuccess = () => resolve(get.result);
      get.onerror = () => reject(get.error);
    };
  });
  const signingInput = (e, f) => ['outband-push-response/v1', f.id, e.deviceId, f.challenge, f.decision, f.uv, f.answer ?? ''].join('\\n');
  return {
    async call(method, path, body) {
      const e = await enrolment();
      const url = new URL(e.api + '/v1/device-api' + path);
      const bytes = body === undefined ? null : enc.encode(JSON.stringify(body));
      const claims = { aud: e.audience, iat: Math.floor(Date.now() / 1000), jti: b64(crypto.getRandomValues(new Uint8Array(16))), htm: method, htu: url.pathname + url.search };
      if (bytes) claims.bsh = b64(await crypto.subtle.digest('SHA-256', bytes));
      const input = b64(enc.encode(JSON.stringify({ alg: 'ES256', typ: 'device-api+jwt', kid: e.deviceId }))) + '.' + b64(enc.encode(JSON.stringify(claims)));
      const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, e.privateKey, enc.encode(input));
      const res = await fetch(url, { method, headers: { authorization: 'Device ' + input + '.' + b64(sig), 'content-type': 'application/json', accept: 'application/json' }, ...(bytes ? { body: bytes } : {}) });
      return { status: res.status, body: await res.json() };
    },
    async assertion(f, userVerification) {
      const e = await enrolment();
      const challenge = await crypto.subtle.digest('SHA-256', enc.encode(signingInput(e, f)));
      const credential = await navigator.credentials.get({ publicKey: { challenge, rpId: location.hostname, allowCredentials: [{ type: 'public-key', id: unb64(e.credentialId) }], userVerification } });
      return credential.toJSON();
    },
    async signature(f) {
      const e = await enrolment();
      return b64(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, e.privateKey, enc.encode(signingInput(e, f))));
    },
  };
})();
`;

interface Fields {
  id: string;
  challenge: string;
  decision: 'approve' | 'deny' | 'report_fraud';
  uv: 'webauthn' | 'none' | 'pin';
  answer?: string;
}

for (const dialect of dialects()) {
  describe(`${dialect}: the web authenticator in Chromium`, () => {
    let server: TestServer;
    let tenant: Tenant;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let cdp: CDPSession;
    let authenticatorId: string;
    let userId: string;
    /** The server's clock runs with the real one, plus what a test moves it on by. */
    const offset = { ms: 0 };
    const clock: Clock = { now: () => Date.now() + offset.ms };

    before(async () => {
      assert.ok(existsSync(fileURLToPath(new URL('../../web/dist/authenticator/index.html', import.meta.url))), 'build the page first: npm run build:web');
      const port = await freePort();
      // WebAuthn needs a host name, not an IP, as RP ID: the page is at localhost, the server listens on 127.0.0.1.
      server = await startTestServer({ dialect, clock, env: { PUBLIC_URL: `http://localhost:${port}`, PORT: String(port), OUTBAND_WORKERS: 'false' } });
      await server.runtime.app.listen({ port, host: '127.0.0.1' });
      // Fraud reports here would otherwise cool pushes to this user down (SEC-21).
      tenant = await server.tenant({ name: `Acme Bank ${dialect}`, settings: unlimited(), plan: 'licensed' });
      userId = (await tenant.request('POST', '/v1/users', { email: `web-${dialect}@example.com`, display_name: 'Alex' })).json().id as string;
      browser = await launchChromium();
      context = await browser.newContext({ viewport: PHONE, locale: 'en-GB' });
      // A clock the test can move on, so a request can run out without waiting its 30 s.
      await context.clock.install();
      page = await context.newPage();
      cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      authenticatorId = (
        await cdp.send('WebAuthn.addVirtualAuthenticator', {
          options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
        })
      ).authenticatorId;
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    const shot = async (name: string) => {
      for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
        await page.setViewportSize(viewport);
        await page.screenshot({ path: `${SCREENSHOTS}authenticator-${name}-${size}.png`, fullPage: true });
      }
      await page.setViewportSize(PHONE);
    };
    const axe = (where: string) => assertNoSeriousAxeViolations(page, where);
    const inPage = async <T,>(expression: string): Promise<T> => {
      await page.addScriptTag({ content: PAGE_HELPERS });
      return (page.evaluate as Evaluate)<T>(expression);
    };
    const push = async (body: Record<string, unknown>) => {
      const res = await tenant.request('POST', '/v1/verifications', { channel: 'push', user_id: userId, message: 'Sign in to Acme Bank?', context: { requester: 'Acme support', agent: 'Sam' }, ...body });
      assert.equal(res.statusCode, 201, res.body);
      const started = res.json() as { id: string; match_number?: string };
      return { ...started, longPoll: tenant.request('GET', `/v1/verifications/${started.id}?wait=20`).then((r) => r.json()) };
    };
    const card = (id: string) => page.locator(`article[data-request-id="${id}"]`);
    const challengeOf = async (id: string) => (await inPage<{ status: number; body: { challenge: string } }>(`__ob.call('GET', '/requests/${id}')`)).body.challenge;
    const events = async (id: string) => (await server.runtime.store.events.forSubject(id)).map((e) => e.type);

    test('enrol from the link: the page makes a device key and a WebAuthn credential (user verification required), and the device is paired with capability webauthn', async () => {
      const res = await tenant.request('POST', `/v1/users/${userId}/devices`, { kind: 'push' });
      assert.equal(res.statusCode, 201, res.body);
      const link = res.json().enrolment.link as string;
      assert.match(link, /^http:\/\/localhost:\d+\/authenticator\/enroll#token=/);
      await page.goto(link);
      await page.getByLabel('Device name').fill('Test phone');
      await axe('enrolment page');
      await shot('enrol');
      await page.getByRole('button', { name: 'Set up this device' }).click();
      await page.getByText('This device is set up as “Test phone”.').waitFor();
      await page.getByText('Connected. New requests appear here.').waitFor();
      assert.ok(!page.url().includes('token='), 'the used token leaves the address bar');

      const devices = (await tenant.request('GET', `/v1/users/${userId}/devices`)).json().items as Array<{ name: string; status: string; capabilities: string[] }>;
      assert.equal(devices.length, 1);
      assert.equal(devices[0]?.name, 'Test phone');
      assert.equal(devices[0]?.status, 'paired');
      assert.deepEqual(devices[0]?.capabilities, ['push', 'webauthn']);
      const credentials = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
      assert.equal(credentials.length, 1, 'one credential on the platform authenticator');
      // The manifest and service worker of the installable app are served under /authenticator/.
      const origin = new URL(page.url()).origin;
      const manifest = await page.request.get(`${origin}/authenticator/manifest.webmanifest`);
      assert.equal(manifest.status(), 200);
      assert.ok(((await manifest.json()) as { icons: unknown[] }).icons.length >= 2);
      assert.equal((await page.request.get(`${origin}/authenticator/sw.js`)).status(), 200);
      assert.equal(await (page.evaluate as Evaluate)<string>(`navigator.serviceWorker.ready.then((r) => r.scope)`), `${origin}/authenticator/`);
    });

    test('a Web Push notice reaches the service worker, which shows a generic notification naming only the request to fetch', async () => {
      // Headless Chromium has no push service to subscribe with, so the notice is delivered to the
      // service worker through the DevTools protocol, as a push service would deliver it.
      const origin = new URL(page.url()).origin;
      await context.grantPermissions(['notifications'], { origin });
      const registrations = new Promise<string>((resolve) => {
        cdp.on('ServiceWorker.workerRegistrationUpdated', (event: { registrations: Array<{ registrationId: string; scopeURL: string; isDeleted: boolean }> }) => {
          const found = event.registrations.find((r) => r.scopeURL === `${origin}/authenticator/` && !r.isDeleted);
          if (found !== undefined) resolve(found.registrationId);
        });
      });
      await cdp.send('ServiceWorker.enable');
      const registrationId = await within(registrations, 'the service worker registration');
      const notice = JSON.stringify({ type: 'outband.request', verification_id: 'vrf_pushnotice', device_id: 'dev_x' });
      await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data: notice });
      let shown: Array<{ title: string; body: string; tag: string; data: { id: string | null } }> = [];
      for (let i = 0; i < 100 && shown.length === 0; i++) {
        shown = await (page.evaluate as Evaluate)<typeof shown>(
          `navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) => ns.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })))`,
        );
        if (shown.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(shown, [{ title: 'Verification request', body: 'Open to review and answer it.', tag: 'vrf_pushnotice', data: { id: 'vrf_pushnotice' } }]);
      await (page.evaluate as Evaluate)(`navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) => ns.forEach((n) => n.close()))`);
      await cdp.send('ServiceWorker.disable');
    });

    test('SEC-25: number matching: the page shows who asks, the message, a countdown and three numbers; the right pick approves with user verification', async () => {
      const request = await push({ matching: 'pick', purpose: 'caller_verification' });
      const shown = card(request.id);
      await shown.waitFor();
      await page.getByText('New request from').first().waitFor();
      const text = await shown.innerText();
      for (const part of [`${tenant.name} asks`, 'Sign in to Acme Bank?', 'Acme support', 'Sam', 'left']) assert.ok(text.includes(part), `shows ${part}: ${text}`);
      assert.equal(await shown.locator('button.choice').count(), 3);
      await axe('a request');
      await shot('request-pick');
      await shown.getByRole('button', { name: request.match_number as string, exact: true }).click();
      const done = await request.longPoll;
      assert.equal(done.status, 'approved');
      assert.equal(done.push.user_verified_with, 'webauthn');
      assert.equal(done.aal, 2);
      await page.getByText(`Approved. ${tenant.name} has been told.`).waitFor();
      assert.equal(await shown.count(), 0);
    });

    test('a wrong pick denies with number_mismatch, and the page says so', async () => {
      const request = await push({ matching: 'pick' });
      const shown = card(request.id);
      await shown.waitFor();
      const wrong = (await shown.locator('button.choice').allInnerTexts()).find((n) => n !== request.match_number) as string;
      await shown.getByRole('button', { name: wrong, exact: true }).click();
      const done = await request.longPoll;
      assert.deepEqual([done.status, done.reason], ['denied', 'number_mismatch']);
      await page.getByText('That was not the right number').waitFor();
    });

    test('SEC-25: when the platform cannot verify the user, Approve sends nothing; an assertion without UV is refused where UV is required', async () => {
      const request = await push({});
      const shown = card(request.id);
      await shown.waitFor();
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
      try {
        await shown.getByRole('button', { name: 'Approve' }).click();
        await shown.getByText('You were not verified, so nothing was sent.').waitFor();
        const challenge = await challengeOf(request.id);
        const fields: Fields = { id: request.id, challenge, decision: 'approve', uv: 'webauthn' };
        const assertion = await inPage<unknown>(`__ob.assertion(${JSON.stringify(fields)}, 'discouraged')`);
        const refused = await inPage<{ status: number; body: { code: string } }>(
          `__ob.call('POST', '/requests/${request.id}/respond', ${JSON.stringify({ decision: 'approve', user_verification: 'webauthn', webauthn: assertion })})`,
        );
        assert.deepEqual([refused.status, refused.body.code], [422, 'user_verification_required']);
      } finally {
        await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });
      }
      // An approval from this device must come from the platform authenticator, not the device key.
      const challenge = await challengeOf(request.id);
      const signature = await inPage<string>(`__ob.signature(${JSON.stringify({ id: request.id, challenge, decision: 'approve', uv: 'none' })})`);
      const bare = await inPage<{ status: number; body: { code: string } }>(
        `__ob.call('POST', '/requests/${request.id}/respond', ${JSON.stringify({ decision: 'approve', user_verification: 'none', signature })})`,
      );
      assert.deepEqual([bare.status, bare.body.code], [422, 'webauthn_assertion_required']);
      assert.equal((await tenant.request('GET', `/v1/verifications/${request.id}`)).json().status, 'pending');
      await shown.getByRole('button', { name: 'Approve' }).click();
      assert.equal((await request.longPoll).status, 'approved');
    });

    test('SEC-22 SEC-24: an assertion made for one request is refused on another, and a replayed assertion is refused', async () => {
      const a = await push({});
      const b = await push({});
      await card(a.id).waitFor();
      await card(b.id).waitFor();
      const fieldsA: Fields = { id: a.id, challenge: await challengeOf(a.id), decision: 'approve', uv: 'webauthn' };
      const assertionA = await inPage<unknown>(`__ob.assertion(${JSON.stringify(fieldsA)}, 'required')`);
      const body = { decision: 'approve', user_verification: 'webauthn', webauthn: assertionA };
      const onB = await inPage<{ status: number; body: { code: string } }>(`__ob.call('POST', '/requests/${b.id}/respond', ${JSON.stringify(body)})`);
      assert.deepEqual([onB.status, onB.body.code], [403, 'invalid_response_signature']);
      assert.equal((await tenant.request('GET', `/v1/verifications/${b.id}`)).json().status, 'pending');
      // A changed decision is not what was asserted either.
      const changed = await inPage<{ status: number; body: { code: string } }>(`__ob.call('POST', '/requests/${a.id}/respond', ${JSON.stringify({ ...body, decision: 'report_fraud' })})`);
      assert.deepEqual([changed.status, changed.body.code], [403, 'invalid_response_signature']);

      const onA = await inPage<{ status: number; body: { status: string } }>(`__ob.call('POST', '/requests/${a.id}/respond', ${JSON.stringify(body)})`);
      assert.deepEqual([onA.status, onA.body.status], [200, 'approved']);
      assert.equal((await a.longPoll).status, 'approved');
      const replay = await inPage<{ status: number; body: { code: string } }>(`__ob.call('POST', '/requests/${a.id}/respond', ${JSON.stringify(body)})`);
      assert.equal(replay.status, 403, 'the same assertion again: its counter does not move forward');
      assert.equal((await events(a.id)).filter((t) => t === 'verification.approved').length, 1);
      // b is still there to answer on the page.
      await card(a.id).waitFor({ state: 'detached' });
      await card(b.id).getByRole('button', { name: 'Deny', exact: true }).click();
      await card(b.id).getByRole('button', { name: 'Deny this request' }).click();
      assert.deepEqual([(await b.longPoll).status, (await b.longPoll).reason], ['denied', 'denied']);
    });

    test('typed matching, in Dutch: the page follows the language switch; a wrong code keeps the request open', async () => {
      await page.getByLabel('Language').selectOption('nl');
      const request = await push({ matching: 'type' });
      const shown = card(request.id);
      await shown.waitFor();
      await page.getByText('De code die je ziet (6 cijfers)').waitFor();
      await axe('a request, in Dutch');
      await shot('request-type-nl');
      const code = (request as unknown as { match_code: string }).match_code;
      const wrong = code === '000000' ? '111111' : '000000';
      await shown.getByLabel('De code die je ziet (6 cijfers)').fill(wrong);
      await shown.getByRole('button', { name: 'Goedkeuren' }).click();
      await shown.getByText('Die code klopt niet.').waitFor();
      await shown.getByLabel('De code die je ziet (6 cijfers)').fill(code);
      await shown.getByRole('button', { name: 'Goedkeuren' }).click();
      assert.equal((await request.longPoll).status, 'approved');
      await page.getByLabel('Taal').selectOption('en');
    });

    test('offline tolerant: after the connection drops the page reconnects and shows what is still pending; an expired request disappears with a note', async () => {
      await context.setOffline(true);
      // The open stream dies with the network; reconnecting fails while offline.
      server.runtime.app.server.closeAllConnections();
      await page.getByText('You are offline.').waitFor();
      const request = await push({ ttl_seconds: 30 });
      await context.setOffline(false);
      const shown = card(request.id);
      await shown.waitFor({ timeout: 15_000 });
      await page.getByText('Connected. New requests appear here.').waitFor();
      // 31 s later, on the server and in the page.
      offset.ms += 31_000;
      await page.clock.fastForward(31_000);
      await shown.waitFor({ state: 'detached' });
      await page.getByText(`A request from ${tenant.name} expired before it was answered.`).waitFor();
      await shot('expired');
      assert.equal((await tenant.request('GET', `/v1/verifications/${request.id}`)).json().status, 'expired');
    });
    // Last: a fraud report cools further pushes to this user down (SEC-21).
    test('Deny offers "This wasn\'t me": a fraud report, signed by the device key without user verification', async () => {
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
      try {
        const request = await push({});
        const shown = card(request.id);
        await shown.waitFor();
        await shown.getByRole('button', { name: 'Deny', exact: true }).click();
        await shot('request-deny');
        await shown.getByRole('button', { name: 'This wasn’t me' }).click();
        const done = await request.longPoll;
        assert.deepEqual([done.status, done.reason], ['denied', 'reported_fraud']);
        assert.equal(done.push.user_verified_with, 'none');
        await page.getByText(`Reported. ${tenant.name} has been told this was not you.`).waitFor();
      } finally {
        await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });
      }
    });
  });
}
