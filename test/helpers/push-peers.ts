// Local peers for the push providers' tests, on 127.0.0.1: a Web Push service (HTTPS), FCM's
// token endpoint and HTTP v1 API (HTTP), and APNs (HTTP/2 over TLS). Each records what it got
// and checks credentials the way the real service does; an answer can be set per target.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer, type IncomingHttpHeaders as Http2Headers, type ServerHttp2Session } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { ProviderDeps, PushNotice } from '../../src/providers/types.ts';

/** The push providers use neither: any call is a test failure. */
export const noDeps: ProviderDeps = {
  outbox: { record: () => Promise.reject(new Error('a push provider wrote to the outbox')) },
  reports: {
    receipt: () => Promise.reject(new Error('a push provider reported a receipt')),
    inbound: () => Promise.reject(new Error('a push provider reported an inbound SMS')),
  },
};

export function testNotice(overrides: Partial<PushNotice> = {}): PushNotice {
  const verificationId = overrides.verificationId ?? `ver_${randomBytes(8).toString('hex')}`;
  return {
    verificationId,
    deviceId: 'dev_0123456789abcdef',
    title: 'Sign-in request',
    body: 'Open the app to approve or deny',
    ttlSeconds: 120,
    reference: { deliveryId: `del_${randomBytes(8).toString('hex')}`, verificationId, applicationId: 'app_test' },
    ...overrides,
  };
}

export interface TestCertificate {
  key: string;
  cert: string;
  /** The certificate as a PEM file, for the providers' caFile. */
  certFile: string;
  remove(): void;
}

/** A throwaway self-signed P-256 certificate for 127.0.0.1, made with openssl in a temp dir. */
export function makeTestCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'outband-push-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
    ],
    { stdio: 'ignore' },
  );
  return {
    key: readFileSync(keyFile, 'utf8'),
    cert: readFileSync(certFile, 'utf8'),
    certFile,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** How a peer answers one request: a status (headers, body), or never ('hang'). */
export type PeerAnswer = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function answer(res: ServerResponse, reply: PeerAnswer, hanging: Set<ServerResponse>): void {
  if (reply === 'hang') {
    hanging.add(res);
    res.on('close', () => hanging.delete(res));
    return;
  }
  res.writeHead(reply.status, reply.headers ?? {});
  res.end(reply.body ?? '');
}

// ---------------------------------------------------------------------------------------------
// Web Push service (RFC 8030), HTTPS: web-push only speaks https.

export interface PushServiceRequest {
  /** The endpoint's last path segment: the name given to `endpoint(name)`. */
  name: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** When it arrived, ms. */
  at: number;
}

export interface WebPushService {
  origin: string;
  /** A push resource URL of this service. */
  endpoint(name: string): string;
  requests: PushServiceRequest[];
  /** Answers by endpoint name; otherwise 201 Created with a Location, as RFC 8030 §5 says. */
  answers: Map<string, PeerAnswer>;
  close(): Promise<void>;
}

export async function startWebPushService(certificate: TestCertificate): Promise<WebPushService> {
  const requests: PushServiceRequest[] = [];
  const answers = new Map<string, PeerAnswer>();
  const hanging = new Set<ServerResponse>();
  const server = createHttpsServer({ key: certificate.key, cert: certificate.cert }, async (req, res) => {
    const body = await readBody(req);
    const name = (req.url ?? '').split('/').pop() ?? '';
    requests.push({ name, headers: req.headers, body, at: Date.now() });
    answer(res, answers.get(name) ?? { status: 201, headers: { location: `/message/${randomUUID()}` } }, hanging);
  });
  const origin = `https://127.0.0.1:${await listen(server)}`;
  return {
    origin,
    endpoint: (name) => `${origin}/push/${name}`,
    requests,
    answers,
    close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// FCM: Google's OAuth 2.0 token endpoint (JWT-bearer grant) and the HTTP v1 messages:send.

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface TokenRequest {
  form: Record<string, string>;
  /** null when the grant was valid, else why not (answered 400 invalid_grant). */
  problem: string | null;
  header?: ProtectedHeaderParameters;
  claims?: JWTPayload;
}

export interface FcmSend {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** Whether the bearer token was one the token endpoint issued and did not revoke. */
  authorized: boolean;
}

export interface FcmServer {
  baseUrl: string;
  tokenUrl: string;
  projectId: string;
  clientEmail: string;
  tokenRequests: TokenRequest[];
  sends: FcmSend[];
  /** Answers by registration token; otherwise 200 with the message name. */
  answers: Map<string, PeerAnswer>;
  /** Makes every access token issued so far invalid (as a revoked key would). */
  revokeTokens(): void;
  close(): Promise<void>;
}

/** An FCM error answer, as Google gives it (google.rpc.Status with an FcmError detail). */
export function fcmError(status: number, canonical: string, errorCode?: string): PeerAnswer {
  const details = errorCode === undefined ? [] : [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }];
  return {
    status,
    headers: { 'content-type': 'application/json; charset=UTF-8' },
    body: JSON.stringify({ error: { code: status, message: `test ${canonical}`, status: canonical, details } }),
  };
}

function json(status: number, body: unknown): PeerAnswer {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) };
}

export async function startFcmServer(options: { publicKey: KeyObject; projectId?: string; clientEmail?: string }): Promise<FcmServer> {
  const projectId = options.projectId ?? 'outband-test';
  const clientEmail = options.clientEmail ?? `outband@${projectId}.iam.gserviceaccount.com`;
  const tokenRequests: TokenRequest[] = [];
  const sends: FcmSend[] = [];
  const answers = new Map<string, PeerAnswer>();
  const issued = new Set<string>();
  const hanging = new Set<ServerResponse>();
  let tokenUrl = '';

  async function grant(form: Record<string, string>): Promise<TokenRequest> {
    if (form['grant_type'] !== JWT_BEARER) return { form, problem: `grant_type ${form['grant_type']}` };
    const assertion = form['assertion'] ?? '';
    try {
      const header = decodeProtectedHeader(assertion);
      const { payload } = await jwtVerify(assertion, options.publicKey, { algorithms: ['RS256'], issuer: clientEmail, audience: tokenUrl });
      if (payload['scope'] !== FCM_SCOPE) return { form, header, claims: payload, problem: `scope ${String(payload['scope'])}` };
      if (payload.iat === undefined || payload.exp === undefined) return { form, header, claims: payload, problem: 'no iat or exp' };
      if (payload.exp - payload.iat > 3600) return { form, header, claims: payload, problem: 'assertion lives over an hour' };
      return { form, header, claims: payload, problem: null };
    } catch (error) {
      return { form, problem: (error as Error).message };
    }
  }

  const server = createHttpServer(async (req, res) => {
    const raw = await readBody(req);
    const path = req.url ?? '';
    if (path === '/token' && req.method === 'POST') {
      const request = await grant(Object.fromEntries(new URLSearchParams(raw.toString('utf8'))));
      tokenRequests.push(request);
      if (request.problem !== null) return answer(res, json(400, { error: 'invalid_grant', error_description: request.problem }), hanging);
      const token = `ya29.test-${randomBytes(16).toString('hex')}`;
      issued.add(token);
      return answer(res, json(200, { access_token: token, expires_in: 3599, token_type: 'Bearer' }), hanging);
    }
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      // recorded as {}
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const authorized = bearer !== undefined && issued.has(bearer);
    sends.push({ path, headers: req.headers, body, authorized });
    if (req.method !== 'POST' || path !== `/v1/projects/${projectId}/messages:send`) return answer(res, fcmError(404, 'NOT_FOUND'), hanging);
    if (!authorized) return answer(res, fcmError(401, 'UNAUTHENTICATED'), hanging);
    const token = (body['message'] as { token?: unknown } | undefined)?.token;
    const reply = typeof token === 'string' ? answers.get(token) : undefined;
    answer(res, reply ?? json(200, { name: `projects/${projectId}/messages/0:${sends.length}%${randomBytes(4).toString('hex')}` }), hanging);
  });
  const baseUrl = `http://127.0.0.1:${await listen(server)}`;
  tokenUrl = `${baseUrl}/token`;
  return {
    baseUrl,
    tokenUrl,
    projectId,
    clientEmail,
    tokenRequests,
    sends,
    answers,
    revokeTokens: () => issued.clear(),
    close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// APNs provider API: HTTP/2 over TLS, ES256 provider tokens.

export interface ApnsRequest {
  headers: Http2Headers;
  body: Record<string, unknown>;
  /** Which HTTP/2 session carried it: 1 for the first session the server saw, and so on. */
  session: number;
  /** null when the provider token verified, else why not (answered 403 InvalidProviderToken). */
  jwtProblem: string | null;
  jwtHeader?: ProtectedHeaderParameters;
  jwtClaims?: JWTPayload;
}

export interface ApnsServer {
  url: string;
  requests: ApnsRequest[];
  /** Sessions opened so far. */
  sessionCount(): number;
  /** Sessions open now. */
  openSessions(): number;
  /** Answers by device token, as status and Apple's `reason`; otherwise 200 with an apns-id. */
  answers: Map<string, { status: number; reason: string }>;
  /** Drops every open session, as APNs does to idle or old connections. */
  dropSessions(): void;
  close(): Promise<void>;
}

export async function startApnsServer(
  certificate: TestCertificate,
  options: { publicKey: KeyObject; keyId: string; teamId: string },
): Promise<ApnsServer> {
  const requests: ApnsRequest[] = [];
  const answers = new Map<string, { status: number; reason: string }>();
  const sessions = new Map<ServerHttp2Session, number>();
  let opened = 0;

  async function verify(authorization: string | undefined): Promise<Pick<ApnsRequest, 'jwtProblem' | 'jwtHeader' | 'jwtClaims'>> {
    const jwt = /^bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (jwt === undefined) return { jwtProblem: 'no bearer token' };
    try {
      const jwtHeader = decodeProtectedHeader(jwt);
      if (jwtHeader.alg !== 'ES256' || jwtHeader.kid !== options.keyId) return { jwtProblem: `header ${JSON.stringify(jwtHeader)}`, jwtHeader };
      const { payload } = await jwtVerify(jwt, options.publicKey, { algorithms: ['ES256'], issuer: options.teamId });
      // Apple refuses tokens issued over an hour ago.
      if (payload.iat === undefined || Math.abs(Date.now() / 1000 - payload.iat) > 3600) return { jwtProblem: 'iat missing or over an hour off', jwtHeader, jwtClaims: payload };
      return { jwtProblem: null, jwtHeader, jwtClaims: payload };
    } catch (error) {
      return { jwtProblem: (error as Error).message };
    }
  }

  const server = createSecureServer({ key: certificate.key, cert: certificate.cert });
  server.on('session', (session) => {
    sessions.set(session, ++opened);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', async () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        // recorded as {}
      }
      const checked = await verify(headers.authorization);
      requests.push({ headers, body, session: sessions.get(stream.session as ServerHttp2Session) ?? 0, ...checked });
      const deviceToken = /^\/3\/device\/([^/]+)$/.exec(headers[':path'] ?? '')?.[1] ?? '';
      const reply =
        checked.jwtProblem !== null
          ? { status: 403, reason: 'InvalidProviderToken' }
          : headers[':method'] !== 'POST' || deviceToken === ''
            ? { status: 405, reason: 'MethodNotAllowed' }
            : answers.get(deviceToken);
      if (stream.destroyed) return;
      if (reply === undefined) {
        stream.respond({ ':status': 200, 'apns-id': randomUUID() });
        stream.end();
        return;
      }
      stream.respond({ ':status': reply.status, 'apns-id': randomUUID(), 'content-type': 'application/json' });
      stream.end(JSON.stringify(reply.status === 410 ? { reason: reply.reason, timestamp: Date.now() } : { reason: reply.reason }));
    });
  });
  const port = await listen(server);
  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    sessionCount: () => opened,
    openSessions: () => sessions.size,
    answers,
    dropSessions() {
      for (const session of sessions.keys()) session.destroy();
    },
    close() {
      for (const session of sessions.keys()) session.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
