// The two faces together, as issue [5] asks: ONE Chromium, TWO contexts. The agent's console
// (desktop) and the customer's web authenticator (phone, with a CDP virtual authenticator that
// verifies its user) talk to one real Outband server; nothing in between is played by the test.
// Each locale: the customer enrols the page from the enrolment link; the agent finds them by
// e-mail and presses Verify caller; the customer picks the number the agent reads out and
// approves; then "This wasn't me" (and the push cool-off that follows it, SEC-21), a wrong number,
// and a request that runs out. Screenshots of both faces at each state go to
// test-results/screenshots/two-faces-*. Run alone: `npm run build:web --silent` first.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext } from 'playwright-core';
import type { Clock } from '../../src/services/deps.ts';
import { textsFor, type Texts } from '../../web/authenticator/texts.ts';
import { en, nl } from '../../web/console/texts.ts';
import { assertNoSeriousAxeViolations as axe, DESKTOP, launchChromium, PHONE, SCREENSHOTS, type Evaluate } from '../helpers/browser.ts';
import { dialects } from '../helpers/databases.ts';
import { freePort, startTestServer, unlimited, type Tenant, type TestServer } from '../helpers/server.ts';
const PASSWORD = 'correct horse battery staple';
const CHANNELS = { sms: 'outbox', voice: 'outbox', email: 'outbox', push: 'devices' };
const LOCALES = { en: { browser: 'en-GB', texts: en }, nl: { browser: 'nl-NL', texts: nl } } as const;

/** A console text, as the agent reads it. */
function say(texts: Record<string, string>, key: string, params: Record<string, string> = {}): string {
  const text = texts[key];
  assert.ok(text !== undefined, `no console text ${key}`);
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => params[name] ?? whole);
}

for (const dialect of dialects()) {
  describe(`${dialect}: the agent console and the customer's web authenticator, side by side in one Chromium`, () => {
    let server: TestServer;
    let bank: Tenant;
    let browser: Browser;
    let agentEmail: string;
    /** The server's clock runs with the real one, plus what a test moves it on by (the phone's page clock moves alike). */
    const offset = { ms: 0 };
    const clock: Clock = { now: () => Date.now() + offset.ms };
    // Screenshots once per run (the first dialect), not per database.
    const screenshots = dialect === dialects()[0];

    before(async () => {
      for (const face of ['console', 'authenticator']) {
        assert.ok(existsSync(fileURLToPath(new URL(`../../web/dist/${face}/index.html`, import.meta.url))), 'build the pages first: npm run build:web');
      }
      const port = await freePort();
      // WebAuthn needs a host name as RP ID: the pages are at localhost, the server listens on 127.0.0.1.
      server = await startTestServer({ dialect, clock, env: { PUBLIC_URL: `http://localhost:${port}`, PORT: String(port) } });
      await server.runtime.app.listen({ port, host: '127.0.0.1' });
      // Denials and expiries would otherwise cool pushes to a person down (SEC-21); a fraud
      // report still does, for the cool-off the settings name (shown below).
      bank = await server.tenant({ name: `Acme Bank ${dialect}`, providers: CHANNELS, settings: unlimited() });
      agentEmail = `sam-two-faces-${dialect}@example.com`;
      await server.runtime.agents.create({ email: agentEmail, role: 'agent', password: PASSWORD, applications: [bank.applicationId] });
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    for (const locale of ['en', 'nl'] as const) {
      test(`${locale}: SEC-25 SEC-26 SEC-21: enrol the web authenticator from the link → the agent verifies the caller → the phone shows three numbers, picks the one read out, approves with its screen lock → approved (method: screen lock), countdown stopped; "This wasn't me" → denied, and pushes cool off; a wrong number → denied as a mismatch; no answer → expired on both faces`, async () => {
        const T = (key: string, params?: Record<string, string>) => say(LOCALES[locale].texts, key, params);
        const A: Texts = textsFor(locale);
        const contexts: BrowserContext[] = [];
        const errors: string[] = [];
        try {
          // ------------------------------------------------------------ the customer
          const name = locale === 'en' ? 'Anna de Vries' : 'Bram Jansen';
          const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${locale}-${dialect}@example.com`;
          const created = await bank.request('POST', '/v1/users', { email, phone: locale === 'en' ? '+31612345001' : '+31612345002', display_name: name, external_id: `C-${locale}-${dialect}`, locale });
          assert.equal(created.statusCode, 201, created.body);
          const userId = created.json().id as string;

          const phoneContext = await browser.newContext({ viewport: PHONE, locale: LOCALES[locale].browser });
          contexts.push(phoneContext);
          phoneContext.setDefaultTimeout(15_000);
          // The page's clock follows the server's when a test moves it on (device JWS times, countdowns).
          await phoneContext.clock.install({ time: clock.now() });
          const phone = await phoneContext.newPage();
          phone.on('pageerror', (e) => errors.push(`authenticator: ${e.message}`));
          const cdp = await phoneContext.newCDPSession(phone);
          await cdp.send('WebAuthn.enable');
          const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
            options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
          });

          const enrolment = await bank.request('POST', `/v1/users/${userId}/devices`, { kind: 'push' });
          assert.equal(enrolment.statusCode, 201, enrolment.body);
          await phone.goto(enrolment.json().enrolment.link as string);
          assert.equal(await phone.getAttribute('html', 'lang'), locale, 'the authenticator follows the phone’s language');
          const deviceName = locale === 'en' ? 'Anna’s phone' : 'Telefoon van Bram';
          await phone.getByLabel(A.deviceName).fill(deviceName);
          await phone.getByRole('button', { name: A.enrolButton }).click();
          await phone.getByText(A.enrolled(deviceName)).waitFor();
          await phone.getByText(A.connected).waitFor();
          const devices = (await bank.request('GET', `/v1/users/${userId}/devices`)).json().items as Array<{ id: string; name: string; role: string; status: string; capabilities: string[] }>;
          assert.deepEqual(
            devices.map((d) => [d.name, d.role, d.status, d.capabilities]),
            [[deviceName, 'primary', 'paired', ['push', 'webauthn']]],
            'the web authenticator is the customer’s primary push device, with a WebAuthn credential',
          );
          assert.equal((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.length, 1);

          // ------------------------------------------------------------ the agent
          const consoleContext = await browser.newContext({ viewport: DESKTOP, locale: LOCALES[locale].browser });
          contexts.push(consoleContext);
          consoleContext.setDefaultTimeout(15_000);
          const agent = await consoleContext.newPage();
          agent.on('pageerror', (e) => errors.push(`console: ${e.message}`));
          await agent.goto(`${server.config.publicUrl}/console/`);
          await agent.getByRole('heading', { name: T('signIn.title') }).waitFor();
          await agent.getByLabel(T('signIn.email')).fill(agentEmail);
          await agent.getByLabel(T('signIn.password')).fill(PASSWORD);
          await agent.getByRole('button', { name: T('signIn.submit') }).click();
          await agent.getByRole('heading', { name: T('search.title') }).waitFor();
          // Found by e-mail, as the agent types it.
          const search = agent.getByRole('combobox', { name: T('search.label') });
          await search.pressSequentially(email.slice(0, email.indexOf('@')), { delay: 5 });
          await agent.locator('#search-results [role=option]').filter({ hasText: email }).waitFor();
          await search.press('ArrowDown');
          await search.press('Enter');
          await agent.getByRole('heading', { name, level: 1 }).waitFor();
          const row = agent.locator('table.devices tbody tr').filter({ hasText: deviceName });
          assert.equal(((await row.locator('td').nth(2).textContent()) ?? '').trim(), T('role.primary'));
          assert.ok(((await row.locator('td').nth(5).textContent()) ?? '').includes(T('capability.webauthn')), 'the capability is said in words');

          const dialog = agent.locator('dialog[open]');
          const state = (expected: string) => dialog.locator(`.state[data-state="${expected}"]`).waitFor();
          const text = async (selector: string) => ((await dialog.locator(selector).textContent()) ?? '').trim();
          const verificationId = async () => {
            const id = await dialog.locator('.state').getAttribute('data-verification-id');
            assert.ok(id !== null);
            return id;
          };
          const card = (id: string) => phone.locator(`article[data-request-id="${id}"]`);
          /** Both faces, as they are now: the console at desktop size, the authenticator at phone size. */
          const shot = async (name: string) => {
            if (!screenshots) return;
            await agent.screenshot({ path: `${SCREENSHOTS}two-faces-${name}-${locale}-console.png` });
            await phone.screenshot({ path: `${SCREENSHOTS}two-faces-${name}-${locale}-authenticator.png` });
            // The phone down to the end of its requests, small enough for the README (docs/screenshots/).
            const bottom = await (phone.evaluate as Evaluate)<number>(`Math.ceil(document.querySelector('.main-column').getBoundingClientRect().bottom) + 12`);
            await phone.screenshot({ path: `${SCREENSHOTS}authenticator-phone-${name}-${locale}.png`, clip: { x: 0, y: 0, width: PHONE.width, height: Math.min(PHONE.height, bottom) } });
          };
          /**
           * The server's clock and the phone's page clock move on together. The page's stream,
           * silent for that long by its clock, is given up as lost and made anew (with a device JWS
           * of the new time): wait until it is back.
           */
          const later = async (ms: number) => {
            offset.ms += ms;
            await phone.clock.fastForward(ms);
            await phone.waitForFunction(`document.querySelector('#connection')?.dataset.state !== 'open'`);
            await phone.waitForFunction(`document.querySelector('#connection')?.dataset.state === 'open'`);
            assert.equal(((await phone.locator('#connection').textContent()) ?? '').trim(), A.connected);
          };
          /** The console's number, and the phone's request offering it among three. */
          const asked = async () => {
            await state('pending');
            const number = await text('.match-number');
            assert.match(number, /^\d{2}$/, 'matching pick: the number the agent reads out');
            const id = await verificationId();
            await card(id).waitFor();
            const choices = (await card(id).locator('button.choice').allInnerTexts()).map((c) => c.trim());
            assert.equal(choices.length, 3, 'three numbers to pick from');
            assert.ok(choices.includes(number), `the phone offers the number the console shows: ${choices.join(', ')} / ${number}`);
            return { id, number, choices };
          };

          // 1. Verify caller → the phone shows the request → the right number, with the screen lock → approved.
          await row.getByRole('button', { name: T('verify.button') }).click();
          const first = await asked();
          const shown = await card(first.id).innerText();
          for (const part of [A.asks(bank.name), A.purpose['caller_verification'] as string]) assert.ok(shown.includes(part), `the request shows ${part}: ${shown}`);
          assert.match(await text('[role=timer]'), /^[12]:\d\d$/, 'the countdown runs');
          await axe(phone, `authenticator, a request (${locale})`);
          await shot('request');
          await card(first.id).getByRole('button', { name: first.number, exact: true }).click();
          await state('approved');
          await phone.getByText(A.approved(bank.name)).waitFor();
          await card(first.id).waitFor({ state: 'detached' });
          assert.equal(await text('.status-text'), T('final.approved'));
          const detail = await text('.status-detail');
          assert.ok(detail.includes(T('method.webauthn')), `the method is shown: ${detail}`);
          assert.match(detail, /\d{1,2}[:.]\d\d/, 'and the time');
          const approved = (await bank.request('GET', `/v1/verifications/${first.id}`)).json();
          assert.deepEqual([approved.status, approved.push.user_verified_with, approved.aal], ['approved', 'webauthn', 2], 'SEC-25: the platform verified the user');
          assert.equal(await dialog.locator('[role=timer]').getAttribute('data-running'), 'false');
          const stopped = await text('[role=timer]');
          await agent.waitForTimeout(1300);
          assert.equal(await text('[role=timer]'), stopped, 'the countdown stopped');
          assert.notEqual(stopped, '0:00', 'where the caller answered');
          await shot('approved');
          await dialog.getByRole('button', { name: T('dialog.close') }).click();
          await dialog.waitFor({ state: 'detached' });

          // 2. "This wasn't me" → denied, said as a fraud report; pushes to the customer cool off (SEC-21).
          await row.getByRole('button', { name: T('verify.button') }).click();
          const second = await asked();
          await card(second.id).getByRole('button', { name: A.deny, exact: true }).click();
          await shot('deny-choice');
          await card(second.id).getByRole('button', { name: A.notMe }).click();
          await state('denied');
          await phone.getByText(A.reported(bank.name)).waitFor();
          assert.equal(await text('.status-text'), T('final.denied'));
          assert.equal(await text('.status-detail'), T('reason.reported_fraud'));
          assert.equal(await dialog.locator('.state-icon svg.icon-denied').count(), 1, 'an icon, not only colour');
          await shot('denied');
          await dialog.getByRole('button', { name: T('dialog.restart') }).click();
          await state('refused');
          assert.ok((await text('.status-detail')).startsWith(T('error.push_cooldown')), 'SEC-21: no new push during the cool-off');
          assert.equal(await phone.locator('article.request').count(), 0, 'nothing reached the phone');
          await shot('cooling-off');
          const coolOff = (await bank.request('GET', '/v1/settings')).json().fraud.push_cooldown.cool_off_seconds as number;
          await later(coolOff * 1000 + 1000);

          // 3. After the cool-off: a wrong number → denied as a mismatch on both faces.
          await dialog.getByRole('button', { name: T('dialog.tryAgain') }).click();
          const third = await asked();
          const wrong = third.choices.find((c) => c !== third.number) as string;
          await card(third.id).getByRole('button', { name: wrong, exact: true }).click();
          await state('denied');
          await phone.getByText(A.mismatch).waitFor();
          assert.equal(await text('.status-detail'), T('reason.number_mismatch'));
          const mismatched = (await bank.request('GET', `/v1/verifications/${third.id}`)).json();
          assert.deepEqual([mismatched.status, mismatched.reason], ['denied', 'number_mismatch']);
          await shot('mismatch');

          // 4. Restart, and nobody answers: expired on the console, gone with a note on the phone.
          await dialog.getByRole('button', { name: T('dialog.restart') }).click();
          const fourth = await asked();
          await later(121_000);
          await server.runtime.verifications.expireOverdue(100);
          await state('expired');
          assert.equal(await text('.status-text'), T('final.expired'));
          assert.equal(await text('[role=timer]'), '0:00');
          await card(fourth.id).waitFor({ state: 'detached' });
          await phone.getByText(A.expired(bank.name)).waitFor();
          await axe(phone, `authenticator, after an expiry (${locale})`);
          await shot('expired');
          assert.equal(await dialog.getByRole('button', { name: T('dialog.restart') }).count(), 1, 'Restart is offered');
          assert.deepEqual(errors, [], 'no script errors in either page');
        } finally {
          for (const c of contexts) await c.close();
        }
      });
    }
  });
}
