/**
 * A small, strict device-API peer for the authenticator's own tests: a real HTTP server on
 * 127.0.0.1 that checks every device JWS (signature, typ, aud, htm, htu, bsh, iat, jti replay)
 * and every response signature as docs/device-api.md says, and records what crossed the wire.
 * It is not the Outband server; the end-to-end tests against that live in test/.
 */
import { createHash, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import type { PublicJwk } from '../../src/authenticator/device-key.ts';
import type { DeviceRequest } from '../../src/authenticator/objects.ts';
import { responseSigningInput, type Decision, type UserVerification } from '../../src/authenticator/signing-input.ts';

export interface RecordedCall {
  method: string;
  url: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  body: string;
}

export interface RecordedResponse {
  id: string;
  decision: Decision;
  user_verification: UserVerification;
  answer?: string;
}

export interface FakeDeviceApi {
  api: string;
  calls: RecordedCall[];
  responses: RecordedResponse[];
  /** A fresh activation token, and the link that carries it. */
  issueLink(): { token: string; link: string };
  /** Adds a pending request for a device and sends it on the device's open streams. */
  addRequest(deviceId: string, fields?: Partial<DeviceRequest>): DeviceRequest;
  withdraw(id: string, status: string, reason?: string | null): void;
  revoke(deviceId: string): void;
  /** Cuts every open stream (as a crashed proxy would). */
  dropStreams(): void;
  /** How many streams are open now. */
  openStreams(): number;
  close(): Promise<void>;
}

interface FakeDevice {
  id: string;
  name: string;
  publicJwk: PublicJwk;
}

function problem(res: ServerResponse, status: number, code: string, detail: string): void {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: `/errors/${code}`, title: code, status, code, detail, instance: '' }));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeDeviceApi(options: { now?: () => number } = {}): Promise<FakeDeviceApi> {
  const now = options.now ?? Date.now;
  const tokens = new Set<string>();
  const devices = new Map<string, FakeDevice>();
  const requests = new Map<string, { deviceId: string; request: DeviceRequest; done: boolean }>();
  const streams = new Map<ServerResponse, string>();
  const jtis = new Set<string>();
  const calls: RecordedCall[] = [];
  const responses: RecordedResponse[] = [];
  let counter = 0;
  let api = '';

  const deviceView = (d: FakeDevice) => ({
    id: d.id,
    user_id: 'usr_test',
    kind: 'push',
    name: d.name,
    role: 'primary',
    status: 'paired',
    capabilities: ['push', 'pin'],
    transport: { type: 'stream', stale: false },
    address: null,
    created_at: new Date(0).toISOString(),
    paired_at: new Date(0).toISOString(),
    last_used_at: null,
  });

  /** The device the JWS proves, or null (answered 401 by the caller). */
  async function authenticate(req: IncomingMessage, body: Buffer): Promise<FakeDevice | { enrolling: PublicJwk } | null> {
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Device ')) return null;
    const jws = auth.slice('Device '.length);
    try {
      const header = decodeProtectedHeader(jws);
      let key: PublicJwk;
      let device: FakeDevice | null = null;
      if (header.kid === undefined) {
        if (req.url !== '/v1/device-api/enroll') return null;
        key = (JSON.parse(body.toString('utf8')) as { public_key: PublicJwk }).public_key;
      } else {
        device = devices.get(header.kid) ?? null;
        if (device === null) return null;
        key = device.publicJwk;
      }
      const { payload, protectedHeader } = await compactVerify(jws, await importJWK(key as JWK, 'ES256'), { algorithms: ['ES256'] });
      const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
      calls.push({ method: req.method ?? '', url: req.url ?? '', header: { ...protectedHeader }, claims, body: body.toString('utf8') });
      const fresh = typeof claims['iat'] === 'number' && Math.abs(now() / 1000 - claims['iat']) <= (req.url === '/v1/device-api/transport' ? 300 : 60);
      const bodyOk = body.length === 0 ? claims['bsh'] === undefined : claims['bsh'] === createHash('sha256').update(body).digest('base64url');
      const jti = claims['jti'];
      if (
        protectedHeader.typ !== 'device-api+jwt' ||
        claims['aud'] !== `${api}/v1/device-api` ||
        claims['htm'] !== req.method ||
        claims['htu'] !== req.url ||
        !fresh ||
        !bodyOk ||
        typeof jti !== 'string' ||
        Buffer.from(jti, 'base64url').length < 16 ||
        jtis.has(jti)
      ) {
        return null;
      }
      jtis.add(jti);
      return device ?? { enrolling: key };
    } catch {
      return null;
    }
  }

  function writeEvent(res: ServerResponse, type: string, data: unknown): void {
    res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const who = await authenticate(req, body);
    if (who === null) return problem(res, 401, 'invalid_device_signature', 'The device signature is not valid');
    const url = req.url ?? '';
    const input = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};

    if ('enrolling' in who) {
      if (req.method !== 'POST' || !tokens.delete(String(input['token']))) return problem(res, 400, 'activation_invalid', 'The activation token is unknown, used or expired');
      const device: FakeDevice = { id: `dev_${++counter}`, name: typeof input['name'] === 'string' ? input['name'] : `Authenticator ${counter}`, publicJwk: who.enrolling };
      devices.set(device.id, device);
      return send(res, 201, { device: deviceView(device), audience: `${api}/v1/device-api`, vapid_public_key: null });
    }
    const device = who;
    if (req.method === 'GET' && url === '/v1/device-api/device') return send(res, 200, deviceView(device));
    if (req.method === 'GET' && url === '/v1/device-api/requests') {
      return send(res, 200, { items: [...requests.values()].filter((r) => r.deviceId === device.id && !r.done).map((r) => r.request) });
    }
    if (req.method === 'GET' && url === '/v1/device-api/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': hello\n\n');
      for (const r of requests.values()) if (r.deviceId === device.id && !r.done) writeEvent(res, 'request', r.request);
      streams.set(res, device.id);
      res.on('close', () => streams.delete(res));
      return;
    }
    const match = /^\/v1\/device-api\/requests\/([^/]+)(\/respond)?$/.exec(url);
    const entry = match ? requests.get(decodeURIComponent(match[1] as string)) : undefined;
    if (match === null || entry === undefined || entry.deviceId !== device.id) return problem(res, 404, 'request_not_found', 'No such request');
    if (req.method === 'GET' && match[2] === undefined) return send(res, 200, entry.request);
    if (req.method !== 'POST' || match[2] === undefined) return problem(res, 404, 'request_not_found', 'No such route');
    if (entry.done) return problem(res, 409, 'verification_not_pending', 'The verification is no longer pending');
    const answer = typeof input['answer'] === 'string' ? input['answer'] : undefined;
    const fields = {
      requestId: entry.request.id,
      deviceId: device.id,
      challenge: entry.request.challenge,
      decision: input['decision'] as Decision,
      userVerification: input['user_verification'] as UserVerification,
      answer,
    };
    const signature = Buffer.from(String(input['signature']), 'base64url');
    const publicKey = { key: device.publicJwk as unknown as JWK & Record<string, string>, format: 'jwk' as const, dsaEncoding: 'ieee-p1363' as const };
    if (signature.length !== 64 || !verify('sha256', Buffer.from(responseSigningInput(fields), 'utf8'), publicKey, signature)) {
      return problem(res, 403, 'invalid_response_signature', 'The response signature does not verify');
    }
    const approve = fields.decision === 'approve';
    if (approve && entry.request.user_verification === 'required' && fields.userVerification === 'none') return problem(res, 422, 'user_verification_required', 'User verification is required');
    if (approve && (entry.request.matching === 'pick' || entry.request.matching === 'type') && answer === undefined) return problem(res, 422, 'answer_required', 'An answer is required');
    entry.done = true;
    responses.push({ id: entry.request.id, decision: fields.decision, user_verification: fields.userVerification, ...(answer === undefined ? {} : { answer }) });
    // In this peer the first of the choices is the one the relying party shows.
    const status = approve ? (entry.request.matching === 'pick' && !(entry.request.choices ?? []).slice(0, 1).includes(answer ?? '') ? 'failed' : 'approved') : 'denied';
    const result: Record<string, unknown> = { id: entry.request.id, status, reason: fields.decision === 'report_fraud' ? 'fraud_reported' : status === 'failed' ? 'wrong_answer' : null };
    if (status === 'approved' && entry.request.matching === 'read_back') result['read_back_code'] = '123456';
    return send(res, 200, result);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => problem(res, 500, 'internal_error', 'Internal error'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    api,
    calls,
    responses,
    issueLink() {
      const token = randomBytes(16).toString('base64url');
      tokens.add(token);
      return { token, link: `${api}/authenticator/enroll#token=${token}` };
    },
    addRequest(deviceId, fields = {}) {
      const request: DeviceRequest = {
        id: `vrf_${++counter}`,
        challenge: randomBytes(32).toString('base64url'),
        application: 'Acme Bank',
        message: 'Sign in to Acme Bank?',
        context: { requester: 'Acme support', agent: 'Sam' },
        purpose: 'authentication',
        user_verification: 'required',
        matching: 'none',
        choices: null,
        created_at: new Date(now()).toISOString(),
        expires_at: new Date(now() + 120_000).toISOString(),
        ...fields,
      };
      requests.set(request.id, { deviceId, request, done: false });
      for (const [res, id] of streams) if (id === deviceId) writeEvent(res, 'request', request);
      return request;
    },
    withdraw(id, status, reason = null) {
      const entry = requests.get(id);
      if (entry === undefined) return;
      entry.done = true;
      for (const [res, deviceId] of streams) if (deviceId === entry.deviceId) writeEvent(res, 'withdrawn', { id, status, reason });
    },
    revoke(deviceId) {
      devices.delete(deviceId);
      for (const [res, id] of streams) {
        if (id !== deviceId) continue;
        res.end('event: revoked\ndata: {}\n\n');
        streams.delete(res);
      }
    },
    dropStreams() {
      for (const res of streams.keys()) res.socket?.destroy();
      streams.clear();
    },
    openStreams: () => streams.size,
    async close() {
      for (const res of streams.keys()) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
