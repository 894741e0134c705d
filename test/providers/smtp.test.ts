import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { dialects } from '../helpers/databases.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

interface ReceivedMail {
  mailFrom: string | null;
  rcptTo: string[];
  parsed: ParsedMail;
}

interface LocalSmtpServer {
  port: number;
  /** Every message accepted, in order. */
  received: ReceivedMail[];
  /** Every RCPT TO the server answered, accepted or not. */
  recipientsSeen: string[];
  close(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1. STARTTLS and AUTH are off: smtp-server's built-in
 * certificate has expired, and nodemailer would upgrade to it. Recipients for which
 * `rejects` answers true get "550 5.1.1 no such user" at RCPT TO; with `hangs`, the server
 * reads the message and then never answers it.
 */
async function startSmtpServer(behaviour: { rejects?: (address: string) => boolean; hangs?: boolean }): Promise<LocalSmtpServer> {
  const rejects = behaviour.rejects ?? (() => false);
  const received: ReceivedMail[] = [];
  const recipientsSeen: string[] = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    closeTimeout: 100,
    onRcptTo(address, _session, callback) {
      recipientsSeen.push(address.address);
      if (rejects(address.address)) {
        callback(Object.assign(new Error('5.1.1 no such user here'), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      if (behaviour.hangs) {
        stream.resume();
        return; // never answers: the client waits for the reply to DATA
      }
      simpleParser(stream).then(
        (parsed) => {
          const mailFrom = session.envelope.mailFrom === false ? null : session.envelope.mailFrom.address;
          received.push({ mailFrom, rcptTo: session.envelope.rcptTo.map((r) => r.address), parsed });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, recipientsSeen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function addresses(field: AddressObject | AddressObject[] | undefined): Array<{ address: string | undefined; name: string }> {
  if (field === undefined) return [];
  return (Array.isArray(field) ? field : [field]).flatMap((a) => a.value.map((v) => ({ address: v.address, name: v.name })));
}

const FROM_ADDRESS = 'verify@outband.test';
const FROM_NAME = 'Outband Verification';

for (const dialect of dialects()) {
  describe(`${dialect}: e-mail verification through a real SMTP server`, () => {
    let smtp: LocalSmtpServer;
    let server: TestServer;
    let tenant: Tenant;

    before(async () => {
      smtp = await startSmtpServer({ rejects: (address) => address.startsWith('nobody@') });
      server = await startTestServer({
        dialect,
        env: { OUTBAND_WORKERS: 'false', SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, SMTP_FROM: `${FROM_NAME} <${FROM_ADDRESS}>` },
      });
      tenant = await server.tenant({ providers: { email: 'smtp' } });
    });
    after(async () => {
      await server?.close();
      await smtp?.close();
    });

    async function startFor(email: string): Promise<{ id: string; status: string; to: string }> {
      const user = await tenant.request('POST', '/v1/users', { email });
      assert.equal(user.statusCode, 201, user.body);
      const started = await tenant.request('POST', '/v1/verifications', { channel: 'email', user_id: user.json().id });
      assert.equal(started.statusCode, 201, started.body);
      return started.json();
    }

    test('the code arrives by e-mail (to, from, subject; text and html) and approves the verification', async () => {
      const v = await startFor('alice@example.com');
      assert.equal(v.status, 'pending');
      const before = smtp.received.length;
      assert.equal(await server.runtime.worker.runOnce(), 1);
      assert.equal(smtp.received.length, before + 1, 'one message reached the SMTP server');
      const mail = smtp.received.at(-1) as ReceivedMail;

      assert.deepEqual(mail.rcptTo, ['alice@example.com']);
      assert.equal(mail.mailFrom, FROM_ADDRESS);
      assert.deepEqual(addresses(mail.parsed.to), [{ address: 'alice@example.com', name: '' }]);
      assert.deepEqual(addresses(mail.parsed.from), [{ address: FROM_ADDRESS, name: FROM_NAME }]);
      assert.equal(mail.parsed.subject, `Your ${tenant.name} verification code`);

      const text = mail.parsed.text ?? '';
      const code = /code is (\d{6})\b/.exec(text)?.[1];
      assert.ok(code !== undefined, `a 6-digit code in the text part: ${text}`);
      assert.equal(typeof mail.parsed.html, 'string', 'an html part');
      assert.ok((mail.parsed.html as string).includes(`>${code}<`), 'the html part holds the same code');
      assert.ok(!mail.parsed.subject?.includes(code), 'the code is not in the subject');

      const [delivery] = await server.runtime.store.deliveries.byVerification(v.id);
      assert.equal(delivery?.status, 'sent');
      assert.equal(delivery?.attempts, 1);
      assert.equal(delivery?.sealedMessage, null, 'the message is dropped once sent');
      assert.equal(delivery?.providerMessageId, mail.parsed.messageId, "the provider's message id is the Message-ID that arrived");

      const checked = await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code });
      assert.equal(checked.statusCode, 200, checked.body);
      assert.equal(checked.json().status, 'approved');
      assert.equal(checked.json().valid, true);
      const read = await tenant.request('GET', `/v1/verifications/${v.id}`);
      assert.equal(read.json().status, 'approved');
    });

    test('a recipient rejected with 550 fails the delivery for good and the verification with delivery_failed', async () => {
      const v = await startFor('nobody@example.com');
      const before = smtp.received.length;
      const seenBefore = smtp.recipientsSeen.length;
      assert.equal(await server.runtime.worker.runOnce(), 1);
      assert.equal(smtp.received.length, before, 'no message was accepted');
      assert.deepEqual(smtp.recipientsSeen.slice(seenBefore), ['nobody@example.com']);

      const [delivery] = await server.runtime.store.deliveries.byVerification(v.id);
      assert.equal(delivery?.status, 'failed');
      assert.equal(delivery?.attempts, 1, 'a permanent failure is not retried');
      assert.equal(delivery?.sealedMessage, null);
      assert.match(delivery?.error ?? '', /550/);

      const read = await tenant.request('GET', `/v1/verifications/${v.id}`);
      assert.equal(read.statusCode, 200, read.body);
      assert.equal(read.json().status, 'failed');
      assert.equal(read.json().reason, 'delivery_failed');
      assert.notEqual(read.json().decided_at, null);

      // Nothing is left to send, and the SMTP server is not asked again.
      assert.equal(await server.runtime.worker.runOnce(), 0);
      assert.equal(smtp.recipientsSeen.length, seenBefore + 1);

      const checked = await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code: '000000' });
      assert.equal(checked.statusCode, 409, checked.body);
      assert.equal(checked.json().code, 'verification_not_pending');
      assert.ok(server.logs.some((line) => line.includes('delivery failed for good')));
    });
  });

  describe(`${dialect}: an SMTP server that never answers`, () => {
    let smtp: LocalSmtpServer;
    let server: TestServer;
    before(async () => {
      smtp = await startSmtpServer({ hangs: true });
      // A lease of 1 s bounds one send to 1 s (the send timeout is never longer than the lease).
      server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false', SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, DELIVERY_LEASE_MS: '1000' } });
    });
    after(async () => {
      await server?.close();
      await smtp?.close();
    });

    test('the send is cut off at the send timeout and retried later, the verification still pending', async () => {
      const tenant = await server.tenant({ providers: { email: 'smtp' } });
      const user = await tenant.request('POST', '/v1/users', { email: 'slow@example.com' });
      const started = await tenant.request('POST', '/v1/verifications', { channel: 'email', user_id: user.json().id });
      assert.equal(started.statusCode, 201, started.body);
      const id = started.json().id as string;

      assert.equal(await server.runtime.worker.runOnce(), 1, 'runOnce returns although the SMTP server never answers');
      const [delivery] = await server.runtime.store.deliveries.byVerification(id);
      assert.equal(delivery?.status, 'queued', 'a timeout is transient');
      assert.equal(delivery?.attempts, 1);
      assert.match(delivery?.error ?? '', /^smtp: aborted/);
      assert.notEqual(delivery?.sealedMessage, null, 'the message is kept for the retry');
      assert.equal((await tenant.request('GET', `/v1/verifications/${id}`)).json().status, 'pending');
      assert.equal(smtp.recipientsSeen.length, 1);
    });
  });
}
