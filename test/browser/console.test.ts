// The agent console in a real browser: Debian's Chromium driven by playwright-core against a real
// Outband server, the customer's phone played by the headless authenticator client
// (src/authenticator/client.ts). Every scenario runs in English and in Dutch (the browser's
// language picks the console's), takes screenshots of each dialog state at desktop and phone
// size into test-results/screenshots/, and runs axe-core on each console page.
// Run alone: `npm run build:web --silent` first (npm test does it in pretest).
import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { Clock } from '../../src/services/deps.ts';
import { en, nl } from '../../web/console/texts.ts';
import { assertNoSeriousAxeViolations as axe, DESKTOP, launchChromium, PHONE, SCREENSHOTS } from '../helpers/browser.ts';
import { dialects } from '../helpers/databases.ts';
import { enrolHeadlessPhone, type HeadlessPhone, type HeadlessPhoneOptions } from '../helpers/phone.ts';
import { makeTestCertificate, startWebPushService, type TestCertificate, type WebPushService } from '../helpers/push-peers.ts';
import { codeFromOutbox, freePort, startTestServer, unlimited, type Tenant, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'correct horse battery staple';
const CHANNELS = { sms: 'outbox', voice: 'outbox', email: 'outbox', push: 'devices' };
const LOCALES = { en: { browser: 'en-GB', texts: en }, nl: { browser: 'nl-NL', texts: nl } } as const;

/** A console text, as the agent reads it. */
function say(texts: Record<string, string>, key: string): string {
  const text = texts[key];
  assert.ok(text !== undefined, `no text ${key}`);
  return text;
}

for (const dialect of dialects()) {
  describe(`${dialect}: the agent console in Chromium`, () => {
    let server: TestServer;
    let bank: Tenant;
    let insurer: Tenant;
    let browser: Browser;
    let agentEmail: string;
    /** A push service for phones reached by Web Push (the dialog's "sending" step lasts until the worker sends). */
    let certificate: TestCertificate;
    let webPush: WebPushService;
    const streams: AbortController[] = [];
    /** The server's clock runs with the real one, plus what a test moves it on by. */
    const offset = { ms: 0 };
    const clock: Clock = { now: () => Date.now() + offset.ms };
    // Screenshots once per run (the first dialect), not per database.
    const screenshots = dialect === dialects()[0];

    before(async () => {
      assert.ok(existsSync(fileURLToPath(new URL('../../web/dist/console/index.html', import.meta.url))), 'build the page first: npm run build:web');
      certificate = makeTestCertificate();
      webPush = await startWebPushService(certificate);
      const port = await freePort();
      server = await startTestServer({ dialect, clock, env: { PUBLIC_URL: `http://localhost:${port}`, PORT: String(port), WEBPUSH_CA_FILE: certificate.certFile } });
      await server.runtime.app.listen({ port, host: '127.0.0.1' });
      // Denials and expiries here would otherwise cool pushes to a person down (SEC-21).
      bank = await server.tenant({ name: `Acme Bank ${dialect}`, providers: CHANNELS, settings: unlimited() });
      insurer = await server.tenant({ name: `Acme Insurance ${dialect}`, providers: CHANNELS, settings: unlimited() });
      // At the insurer the caller reads a code from the app back to the agent.
      const policy = await insurer.request('PUT', '/v1/policies/verify-caller', {
        channel: 'push',
        device: 'primary',
        ttl_seconds: 120,
        user_verification: 'required',
        matching: 'read_back',
        purpose: 'caller_verification',
      });
      assert.equal(policy.statusCode, 200, policy.body);
      agentEmail = `sam-${dialect}@example.com`;
      await server.runtime.agents.create({ email: agentEmail, role: 'admin', password: PASSWORD, applications: [bank.applicationId, insurer.applicationId] });
      browser = await launchChromium();
    });
    after(async () => {
      for (const s of streams) s.abort();
      await browser?.close();
      await server?.close();
      await webPush?.close();
      certificate?.remove();
    });

    let people = 0;
    async function person(tenant: Tenant, name: string): Promise<{ id: string; email: string; phone: string }> {
      const n = ++people;
      const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${n}-${dialect}@example.com`;
      const phone = `+316123${String(40000 + n).padStart(5, '0')}`;
      const res = await tenant.request('POST', '/v1/users', { email, phone, display_name: name, external_id: `C-${dialect}-${n}` });
      assert.equal(res.statusCode, 201, res.body);
      return { id: res.json().id as string, email, phone };
    }

    /** The customer's phone. Its clock is the server's (which a test moves on to let requests run out). */
    function enrolPhone(tenant: Tenant, userId: string, transport?: HeadlessPhoneOptions['transport']): Promise<HeadlessPhone> {
      return enrolHeadlessPhone(tenant, userId, { capabilities: ['pin', 'biometric'], now: clock.now, streams, nextWithinMs: 15_000, transport });
    }

    /** A browser context in the agent's language, signed in. */
    async function console_(locale: keyof typeof LOCALES): Promise<{ page: Page; T: (key: string) => string; close(): Promise<void> }> {
      const context = await browser.newContext({ viewport: DESKTOP, locale: LOCALES[locale].browser });
      // A step that does not happen fails in seconds, naming itself, rather than at the test's timeout.
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const T = (key: string) => say(LOCALES[locale].texts, key);
      await page.goto(`${server.config.publicUrl}/console/`);
      await page.getByRole('heading', { name: T('signIn.title') }).waitFor();
      assert.equal(await page.getAttribute('html', 'lang'), locale, 'the page follows the browser language');
      await page.getByLabel(T('signIn.email')).fill(agentEmail);
      await page.getByLabel(T('signIn.password')).fill(PASSWORD);
      await page.getByRole('button', { name: T('signIn.submit') }).click();
      await page.getByRole('heading', { name: T('search.title') }).waitFor();
      return {
        page,
        T,
        close: async () => {
          assert.deepEqual(errors, [], 'no script errors in the page');
          await context.close();
        },
      };
    }

    /** Finds a person by the start of their e-mail, as the agent types, and opens them with the keyboard. */
    async function openPerson(page: Page, T: (key: string) => string, app: string, who: { email: string }, name: string): Promise<void> {
      await page.getByLabel(T('application')).selectOption({ label: app });
      const search = page.getByRole('combobox', { name: T('search.label') });
      // The start of the address, as far as the person's own part goes (others share the name).
      await search.pressSequentially(who.email.slice(0, who.email.indexOf('@')), { delay: 5 });
      await page.locator('#search-results [role=option]').filter({ hasText: who.email }).waitFor();
      // The answer to an earlier keystroke (a shorter prefix, more people) may still be on screen.
      await page.waitForFunction(`document.querySelectorAll('#search-results [role=option]').length === 1`);
      assert.equal(((await page.locator('#search-status').textContent()) ?? '').trim(), T('search.count.one'), 'the count of results is said');
      await search.press('ArrowDown');
      await search.press('Enter');
      await page.getByRole('heading', { name, level: 1 }).waitFor();
      await page.locator('dl.details').getByText(who.email).waitFor();
    }

    const dialog = (page: Page) => page.locator('dialog[open]');
    const state = async (page: Page, expected: string) => {
      await dialog(page).locator(`.state[data-state="${expected}"]`).waitFor();
    };
    const statusText = async (page: Page) => ((await dialog(page).locator('.status-text').textContent()) ?? '').trim();
    /** The label of the progress step marked current (its own text, without the words for screen readers). */
    const currentStep = (page: Page) =>
      page.evaluate(`[...document.querySelector('dialog[open] ol.steps li[aria-current=step]').childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('').trim()`) as Promise<string>;
    const timer = async (page: Page) => ((await dialog(page).locator('[role=timer]').textContent()) ?? '').trim();

    /** What the dialog says after one wrong code: the attempts the server has left for it (SEC-05). */
    async function wrongCodeText(tenant: Tenant, verificationId: string, T: (key: string) => string): Promise<string> {
      const v = await server.runtime.store.verifications.byId(tenant.applicationId, verificationId);
      assert.ok(v !== undefined);
      assert.equal(v.attempts, 1, 'one wrong code used one attempt');
      const left = v.maxAttempts - 1;
      assert.ok(left >= 1);
      return left === 1 ? T('code.wrong.one') : T('code.wrong').replace('{n}', String(left));
    }

    async function shot(page: Page, locale: string, name: string): Promise<void> {
      if (!screenshots) return;
      for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
        await page.setViewportSize(viewport);
        await page.screenshot({ path: `${SCREENSHOTS}console-${name}-${locale}-${size}.png` });
      }
      await page.setViewportSize(DESKTOP);
      // The dialog alone, small enough for the README (docs/screenshots/).
      if ((await dialog(page).count()) > 0) await dialog(page).screenshot({ path: `${SCREENSHOTS}console-dialog-${name}-${locale}.png`, animations: 'disabled' });
    }


    for (const locale of ['en', 'nl'] as const) {
      test(`${locale}: sign in → find the customer by e-mail → Verify caller → the phone picks the number read out and approves → approved, with time and method, the countdown stopped`, async () => {
        const anna = await person(bank, 'Anna de Vries');
        const phone = await enrolPhone(bank, anna.id);
        const { page, T, close } = await console_(locale);
        await axe(page, 'search');
        await openPerson(page, T, bank.name, anna, 'Anna de Vries');
        await axe(page, 'person page');
        const row = page.locator('table.devices tbody tr').filter({ hasText: 'Authenticator 1' });
        assert.equal(await row.locator('td').nth(1).textContent(), T('kind.push'));
        await shot(page, locale, 'person');

        const arriving = phone.next();
        await row.getByRole('button', { name: T('verify.button') }).click();
        await state(page, 'pending');
        // Focus is inside the modal dialog.
        assert.equal(await page.evaluate('document.activeElement.closest("dialog") !== null'), true);
        const number = ((await dialog(page).locator('.match-number').textContent()) ?? '').trim();
        assert.match(number, /^\d{2}$/, 'matching pick: the number the agent reads out');
        assert.equal(await statusText(page), T('verify.waiting').replace('{device}', 'Authenticator 1'));
        const request = await arriving;
        assert.ok(request.choices?.includes(number), 'the phone offers the number the console shows');
        // The countdown ticks each second while the caller has time.
        const first = await timer(page);
        assert.match(first, /^[12]:\d\d$/);
        await page.waitForFunction(`document.querySelector('dialog[open] [role=timer]').textContent !== ${JSON.stringify(first)}`);
        await axe(page, 'verify-caller dialog, waiting');
        await shot(page, locale, 'verify-waiting');

        const answer = await phone.client.respond(request.id, { decision: 'approve', userVerification: 'biometric', answer: number });
        assert.equal(answer.status, 'approved');
        await state(page, 'approved');
        assert.equal(await statusText(page), T('final.approved'));
        const detail = (await dialog(page).locator('.status-detail').textContent()) ?? '';
        assert.ok(detail.includes(T('method.biometric')), `the method is shown: ${detail}`);
        assert.match(detail, /\d{1,2}[:.]\d\d/, 'and the time');
        assert.equal(await dialog(page).locator('[role=timer]').getAttribute('data-running'), 'false');
        const stopped = await timer(page);
        await page.waitForTimeout(1300);
        assert.equal(await timer(page), stopped, 'the countdown stopped');
        assert.notEqual(stopped, '0:00', 'it stopped where the caller answered');
        assert.equal(await dialog(page).getByRole('button', { name: T('dialog.restart') }).count(), 0, 'no Restart after an approval');
        await axe(page, 'verify-caller dialog, approved');
        await shot(page, locale, 'verify-approved');
        await dialog(page).getByRole('button', { name: T('dialog.close') }).click();
        await dialog(page).waitFor({ state: 'detached' });
        assert.equal(await page.evaluate('document.activeElement.textContent'), T('verify.button'), 'focus returns to the button that opened the dialog');
        await close();
      });

      test(`${locale}: the customer denies → denied in words and icon, with Restart; then it runs out → expired; Restart starts anew`, async () => {
        const bram = await person(bank, 'Bram Jansen');
        const phone = await enrolPhone(bank, bram.id);
        const { page, T, close } = await console_(locale);
        await openPerson(page, T, bank.name, bram, 'Bram Jansen');

        let arriving = phone.next();
        await page.getByRole('button', { name: T('verify.button') }).click();
        await state(page, 'pending');
        let request = await arriving;
        await phone.client.respond(request.id, { decision: 'deny', userVerification: 'pin' });
        await state(page, 'denied');
        assert.equal(await statusText(page), T('final.denied'));
        assert.equal(await dialog(page).locator('.state-icon svg.icon-denied').count(), 1, 'an icon, not only colour');
        assert.equal(await page.evaluate('document.activeElement.textContent'), T('dialog.restart'), 'focus moves to Restart');
        await axe(page, 'verify-caller dialog, denied');
        await shot(page, locale, 'verify-denied');

        // Restart: a new request to the same phone; this one runs out.
        arriving = phone.next();
        await dialog(page).getByRole('button', { name: T('dialog.restart') }).click();
        await state(page, 'pending');
        request = await arriving;
        assert.equal(await dialog(page).locator('.state').getAttribute('data-verification-id'), request.id, 'the dialog follows the new verification');
        offset.ms += 121_000;
        await server.runtime.verifications.expireOverdue(100);
        await state(page, 'expired');
        assert.equal(await statusText(page), T('final.expired'));
        assert.equal(await dialog(page).locator('.state-icon svg.icon-expired').count(), 1);
        await shot(page, locale, 'verify-expired');

        arriving = phone.next();
        await dialog(page).getByRole('button', { name: T('dialog.restart') }).click();
        await state(page, 'pending');
        const third = await arriving;
        assert.notEqual(third.id, request.id);
        // Closing the dialog while pending cancels the request.
        await page.keyboard.press('Escape');
        await dialog(page).waitFor({ state: 'detached' });
        for (let i = 0; i < 50; i++) {
          if ((await bank.request('GET', `/v1/verifications/${third.id}`)).json().status === 'cancelled') break;
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal((await bank.request('GET', `/v1/verifications/${third.id}`)).json().status, 'cancelled');
        await close();
      });

      test(`${locale}: number matching pick: the customer picks a wrong number → denied as a mismatch; the right one approves`, async (t) => {
        const cas = await person(bank, 'Cas Visser');
        const phone = await enrolPhone(bank, cas.id);
        const { page, T, close } = await console_(locale);
        await openPerson(page, T, bank.name, cas, 'Cas Visser');

        let arriving = phone.next();
        await page.getByRole('button', { name: T('verify.button') }).click();
        await state(page, 'pending');
        let number = ((await dialog(page).locator('.match-number').textContent()) ?? '').trim();
        let request = await arriving;
        const wrong = request.choices?.find((c) => c !== number);
        assert.ok(wrong !== undefined);
        const answer = await phone.client.respond(request.id, { decision: 'approve', userVerification: 'pin', answer: wrong });
        assert.deepEqual([answer.status, answer.reason], ['denied', 'number_mismatch']);
        await state(page, 'denied');
        assert.equal(((await dialog(page).locator('.status-detail').textContent()) ?? '').trim(), T('reason.number_mismatch'));
        await shot(page, locale, 'verify-mismatch');

        arriving = phone.next();
        await dialog(page).getByRole('button', { name: T('dialog.restart') }).click();
        await state(page, 'pending');
        number = ((await dialog(page).locator('.match-number').textContent()) ?? '').trim();
        request = await arriving;
        await phone.client.respond(request.id, { decision: 'approve', userVerification: 'pin', answer: number });
        await state(page, 'approved');
        assert.ok(((await dialog(page).locator('.status-detail').textContent()) ?? '').includes(T('method.pin')));
        await close();
      });

      test(`${locale}: read_back: the console asks for the code the caller reads from the app; a wrong one is refused, the right one approves`, async (t) => {
        const dewi = await person(insurer, 'Dewi Smit');
        const phone = await enrolPhone(insurer, dewi.id);
        const { page, T, close } = await console_(locale);
        await openPerson(page, T, insurer.name, dewi, 'Dewi Smit');
        const arriving = phone.next();
        await page.getByRole('button', { name: T('verify.button') }).click();
        await state(page, 'pending');
        assert.equal(await dialog(page).locator('.match').isHidden(), true, 'no number to read out with read_back');
        const request = await arriving;
        const approved = await phone.client.respond(request.id, { decision: 'approve', userVerification: 'pin' });
        const code = approved.read_back_code;
        assert.match(code ?? '', /^\d{6}$/);
        const input = dialog(page).getByLabel(T('verify.readBackLabel'));
        await input.waitFor();
        await shot(page, locale, 'verify-read-back');
        await input.fill(code === '000000' ? '111111' : '000000');
        await dialog(page).getByRole('button', { name: T('code.check') }).click();
        await page.waitForFunction(`document.querySelector('#code-entry')?.getAttribute('aria-invalid') === 'true'`);
        assert.equal(await dialog(page).locator('.state').getAttribute('data-state'), 'pending');
        assert.equal(((await dialog(page).locator('#code-entry-error').textContent()) ?? '').trim(), await wrongCodeText(insurer, request.id, T));
        await input.fill(code!);
        await dialog(page).getByRole('button', { name: T('code.check') }).click();
        await state(page, 'approved');
        await close();
      });

      test(`${locale}: Verify caller on a phone reached by Web Push: sending until the worker has sent it, then sent to the device and waiting, then approved`, async (t) => {
        const joris = await person(bank, 'Joris Smit');
        const subscription = { endpoint: webPush.endpoint(`joris-${dialect}-${locale}`), keys: { p256dh: createECDH('prime256v1').generateKeys('base64url'), auth: randomBytes(16).toString('base64url') } };
        const phone = await enrolPhone(bank, joris.id, { type: 'webpush', subscription });
        const { page, T, close } = await console_(locale);
        await openPerson(page, T, bank.name, joris, 'Joris Smit');
        const row = page.locator('table.devices tbody tr').filter({ hasText: 'Authenticator 1' });
        const pushed = webPush.requests.length;
        // The delivery worker is held, so that the request waits in the queue for the push service.
        await server.runtime.worker.stop();
        t.after(() => server.runtime.worker.start());
        await row.getByRole('button', { name: T('verify.button') }).click();
        await state(page, 'pending');
        assert.equal(await statusText(page), T('verify.sending'));
        assert.equal(await currentStep(page), T('steps.sending'));
        assert.match(await timer(page), /^[12]:\d\d$/, 'the countdown runs from the start');
        assert.equal(webPush.requests.length, pushed, 'nothing sent yet');
        await axe(page, 'verify-caller dialog, sending');
        await shot(page, locale, 'verify-sending');

        const arriving = phone.next();
        await server.runtime.worker.runOnce();
        assert.equal(webPush.requests.length, pushed + 1, 'the worker sent the notice to the push service');
        await page.waitForFunction(`document.querySelector('dialog[open] .status-text')?.textContent.trim() === ${JSON.stringify(T('verify.waiting').replace('{device}', 'Authenticator 1'))}`);
        assert.equal(await currentStep(page), T('steps.waiting'));
        assert.equal(await dialog(page).locator('ol.steps li').nth(1).locator('.sr-only').textContent(), T('steps.done'), 'sent to the device: done');
        await shot(page, locale, 'verify-sent');

        const request = await arriving;
        const number = ((await dialog(page).locator('.match-number').textContent()) ?? '').trim();
        const answer = await phone.client.respond(request.id, { decision: 'approve', userVerification: 'pin', answer: number });
        assert.equal(answer.status, 'approved');
        await state(page, 'approved');
        assert.ok(((await dialog(page).locator('.status-detail').textContent()) ?? '').includes(T('method.pin')));
        phone.stop();
        await close();
      });

      test(`${locale}: Send code on the SMS device: the caller reads the code from the SMS; a wrong one is refused, the right one approves`, async (t) => {
        const eva = await person(bank, 'Eva Mulder');
        const sms = await bank.request('POST', `/v1/users/${eva.id}/devices`, { kind: 'sms', mode: 'automatic' });
        assert.equal(sms.statusCode, 201, sms.body);
        const { page, T, close } = await console_(locale);
        await openPerson(page, T, bank.name, eva, 'Eva Mulder');
        const row = page.locator('table.devices tbody tr').filter({ hasText: T('kind.sms') });
        assert.equal(await row.getByRole('button', { name: T('verify.button') }).count(), 0, 'an SMS device cannot be pushed to');
        // The delivery worker is held, so that the SMS waits in the queue.
        await server.runtime.worker.stop();
        t.after(() => server.runtime.worker.start());
        await row.getByRole('button', { name: T('code.button') }).click();
        await state(page, 'pending');
        const id = await dialog(page).locator('.state').getAttribute('data-verification-id');
        assert.ok(id !== null);
        // Queued, not yet handed to the provider.
        assert.equal(await statusText(page), T('code.sending'));
        assert.equal(await currentStep(page), T('steps.codeSending'));
        await shot(page, locale, 'code-sending');
        const code = await codeFromOutbox(bank, id, server.runtime.worker);
        await page.waitForFunction(`document.querySelector('dialog[open] .status-text')?.textContent.trim() === ${JSON.stringify(T('code.sent').replace('{device}', 'Phone 1'))}`);
        assert.equal(await currentStep(page), T('steps.codeWaiting'));
        await shot(page, locale, 'code-sent');
        const input = dialog(page).getByLabel(T('code.label'));
        await input.fill(code === '000000' ? '111111' : '000000');
        await dialog(page).getByRole('button', { name: T('code.check') }).click();
        await page.waitForFunction(`document.querySelector('#code-entry')?.getAttribute('aria-invalid') === 'true'`);
        const said = ((await dialog(page).locator('#code-entry-error').textContent()) ?? '').trim();
        assert.equal(said, await wrongCodeText(bank, id, T), 'the dialog says how many attempts are left');
        await axe(page, 'send-code dialog, wrong code');
        await shot(page, locale, 'code-wrong');
        await input.fill(code);
        await dialog(page).getByRole('button', { name: T('code.check') }).click();
        await state(page, 'approved');
        assert.equal(await statusText(page), T('final.codeApproved'));
        await shot(page, locale, 'code-approved');
        await close();
      });
    }

    test('the admin pages (audit trail, settings, messages, agents) pass axe-core at both sizes; a 422 is shown next to its field; the language switch sticks', async () => {
      const { page, T, close } = await console_('en');
      // A verification of its own for the audit trail: a code sent, then the dialog closed (cancelled).
      const fenna = await person(bank, 'Fenna Bos');
      assert.equal((await bank.request('POST', `/v1/users/${fenna.id}/devices`, { kind: 'sms', mode: 'automatic' })).statusCode, 201);
      await openPerson(page, T, bank.name, fenna, 'Fenna Bos');
      await page.getByRole('button', { name: T('code.button') }).click();
      await state(page, 'pending');
      await dialog(page).getByRole('button', { name: T('dialog.cancel') }).click();
      await state(page, 'cancelled');
      await dialog(page).getByRole('button', { name: T('dialog.close') }).click();

      const app = encodeURIComponent(bank.applicationId);
      const nav = (key: string) => page.getByRole('navigation').getByRole('link', { name: T(key), exact: true });
      for (const [path, link, heading] of [
        [`apps/${app}/audit`, 'nav.audit', T('audit.title')],
        [`apps/${app}/settings`, 'nav.settings', T('settings.title')],
        [`apps/${app}/templates`, 'nav.templates', T('templates.title')],
        ['agents', 'nav.agents', T('agents.title')],
      ] as const) {
        await nav(link).click();
        await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
        await page.waitForLoadState('networkidle');
        assert.equal(new URL(page.url()).pathname, `/console/${path}`);
        for (const viewport of [DESKTOP, PHONE]) {
          await page.setViewportSize(viewport);
          await axe(page, `${path} at ${viewport.width}×${viewport.height}`);
        }
        await page.setViewportSize(DESKTOP);
      }

      // The audit trail lists the verifications done from the console.
      await nav('nav.audit').click();
      await page.locator('table.audit tbody tr').filter({ hasText: 'Fenna Bos' }).first().waitFor();
      assert.ok((await page.locator('table.audit').textContent())?.includes(agentEmail));

      // Settings: a TTL above the longest allowed is refused and said next to the field.
      await nav('nav.settings').click();
      const ttl = page.getByLabel(T('settings.ttl'));
      await ttl.fill('100000');
      await page.getByRole('button', { name: T('save') }).click();
      await page.waitForFunction(`document.querySelector('#setting-ttl_seconds')?.getAttribute('aria-invalid') === 'true'`);
      assert.notEqual(((await page.locator('#setting-ttl_seconds-error').textContent()) ?? '').trim(), '');
      await ttl.fill('240');
      await page.getByRole('button', { name: T('save') }).click();
      await page.getByText(T('settings.saved')).waitFor();
      assert.equal((await bank.request('GET', '/v1/settings')).json().ttl_seconds, 240);

      // Messages: an unknown placeholder is refused with the problem shown; a good one is saved.
      await nav('nav.templates').click();
      await page.getByRole('button', { name: T('templates.add') }).click();
      await page.locator('#template-locale').fill('nl');
      await page.locator('#template-text').fill('Uw code voor {app_nmae} is {code}');
      await page.getByRole('button', { name: T('save') }).click();
      await page.waitForFunction(`document.querySelector('#template-text')?.getAttribute('aria-invalid') === 'true'`);
      assert.match((await page.locator('#template-text-error').textContent()) ?? '', /app_nmae/);
      await page.locator('#template-text').fill('Uw code voor {app_name} is {code}');
      await page.getByRole('button', { name: T('save') }).click();
      await page.locator('table.templates').getByText('Uw code voor {app_name} is {code}').waitFor();

      // Agents: a new agent's generated password is shown once.
      await nav('nav.agents').click();
      await page.locator('#new-agent-email').fill(`kim-${dialect}@example.com`);
      await page.getByRole('button', { name: T('agents.createButton') }).click();
      const secret = ((await page.locator('code.secret').textContent()) ?? '').trim();
      assert.ok(secret.length >= 12, 'a generated password is shown');
      await page.locator('table.agents').getByText(`kim-${dialect}@example.com`).waitFor();

      // The language switch: Dutch, kept after a reload.
      await page.getByLabel(T('language')).selectOption('nl');
      await page.getByRole('heading', { name: say(nl, 'agents.title'), level: 1 }).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: say(nl, 'agents.title'), level: 1 }).waitFor();
      assert.equal(await page.getAttribute('html', 'lang'), 'nl');

      // Signing out ends the session: a reload lands on the sign-in page.
      await page.getByRole('button', { name: say(nl, 'signOut') }).click();
      await page.getByRole('heading', { name: say(nl, 'signIn.title') }).waitFor();
      await page.goto(`${server.config.publicUrl}/console/agents`);
      await page.getByRole('heading', { name: say(nl, 'signIn.title') }).waitFor();
      await axe(page, 'sign-in');
      await close();
    });
  });
}
