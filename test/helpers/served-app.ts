import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from './databases.ts';
import { cleanupStack, runCli, startServerProcess, type ServerProcess } from './process.ts';
import { startSmsGateway, type GatewayRequest, type SmsGateway } from './sms-gateway.ts';

/**
 * The end-to-end crash tests' setting: a fresh database, a real HTTP SMS gateway, and one
 * application whose SMS go to that gateway (provider `webhook`), with an API client, both made
 * through the CLI as an operator would. `serve` starts `outband serve` on the database as often
 * as a test restarts it; every process is killed when the test ends, whatever happens.
 */
export interface ServedApp {
  /** Registers a cleanup; cleanups run last first when the test ends. */
  defer: (fn: () => unknown) => void;
  database: TestDatabase;
  /** The server's environment (the CLI ran with it too). */
  env: Record<string, string>;
  gateway: SmsGateway;
  clientId: string;
  clientSecret: string;
  /** Starts `outband serve` on the database with `env` and `extraEnv` on top. */
  serve(extraEnv?: Record<string, string>): Promise<ServerProcess>;
}

export async function setUpServedApp(
  t: { after(fn: () => Promise<void>): void },
  dialect: 'sqlite' | 'postgres',
  options: { name: string; scopes: string; env?: Record<string, string> },
): Promise<ServedApp> {
  const defer = cleanupStack(t);
  const database = await createTestDatabase(dialect);
  defer(() => database.drop());
  const gateway = await startSmsGateway();
  defer(() => gateway.close());
  const env = {
    DATABASE_URL: database.url,
    OUTBAND_SECRET: 'served-app-secret-0123456789-abcdefghijklmnop',
    OUTBAND_DEMO: 'false',
    LOG_LEVEL: 'warn',
    SMS_WEBHOOK_URL: gateway.url,
    SMS_WEBHOOK_SECRET: gateway.secret,
    ...options.env,
  };
  await runCli(['apps', 'create', '--name', options.name, '--sms-provider', 'webhook'], env);
  const { stdout } = await runCli(['clients', 'create', '--app', options.name, '--scopes', options.scopes, '--json'], env);
  const credentials = JSON.parse(stdout) as { client_id: string; client_secret: string };
  return {
    defer,
    database,
    env,
    gateway,
    clientId: credentials.client_id,
    clientSecret: credentials.client_secret,
    async serve(extraEnv = {}) {
      const server = await startServerProcess({ ...env, ...extraEnv });
      defer(() => server.stop('SIGKILL'));
      return server;
    },
  };
}

/** One API call with a JSON body (if any) and answer. */
export async function callApi(server: ServerProcess, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: Record<string, any> }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const response = await fetch(server.baseUrl + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

/** An access token for the app's client (client credentials). */
export async function issueToken(server: ServerProcess, app: Pick<ServedApp, 'clientId' | 'clientSecret'>): Promise<string> {
  const issued = await callApi(server, 'POST', '/oauth/token', { grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret });
  assert.equal(issued.status, 200, JSON.stringify(issued.json));
  return issued.json['access_token'] as string;
}

/** The code in an SMS the gateway received, as the user reads it. */
export function codeOf(request: GatewayRequest): string {
  const match = /code is (\d{4,10})\b/.exec(String(request.body['text'] ?? ''));
  assert.ok(match?.[1] !== undefined, `a code in the SMS: ${request.rawBody}`);
  return match[1];
}

/**
 * The `n`-th of 10,000 Dutch mobile numbers, each in its own 1000-block, so that the per-prefix
 * velocity guard (SEC-32) never sees two of them.
 */
export function mobileNumber(n: number): string {
  assert.ok(Number.isInteger(n) && n >= 0 && n < 10_000, `mobileNumber(${n}): 0–9999`);
  return `+3162${String(n).padStart(4, '0')}123`;
}
