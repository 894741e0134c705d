// The customer's phone in tests: an authenticator enrolled with the headless client
// (src/authenticator/client.ts), following its stream.
import assert from 'node:assert/strict';
import { createDeviceClient, enroll, type DeviceClient } from '../../src/authenticator/client.ts';
import type { StoredAuthenticator } from '../../src/authenticator/key-file.ts';
import type { Capability, DeviceRequest, Transport } from '../../src/authenticator/objects.ts';
import type { Tenant } from './server.ts';
import { within } from './within.ts';

/** An enrolled authenticator following its stream, with the requests it has seen. */
export interface HeadlessPhone {
  stored: StoredAuthenticator;
  client: DeviceClient;
  deviceId: string;
  seen: DeviceRequest[];
  withdrawn: Array<{ id: string; status: string }>;
  /** The next request on the stream (one that came before this was asked for is kept for it). */
  next(): Promise<DeviceRequest>;
  stop(): void;
}

export interface HeadlessPhoneOptions {
  /** Besides 'push'; default ['pin']. */
  capabilities?: Capability[] | undefined;
  /** The phone's clock (for device JWS times), e.g. a test server's; default the real one. */
  now?: () => number;
  /** Where the stream's AbortController goes, for the suite to abort in after(). */
  streams?: AbortController[];
  /** When set, next() fails after this many ms instead of waiting for the test's timeout. */
  nextWithinMs?: number;
  /** How the server reaches the phone when its stream is closed; default the stream itself. */
  transport?: Transport | undefined;
}

export async function enrolHeadlessPhone(tenant: Tenant, userId: string, options: HeadlessPhoneOptions = {}): Promise<HeadlessPhone> {
  const res = await tenant.request('POST', `/v1/users/${userId}/devices`, { kind: 'push' });
  assert.equal(res.statusCode, 201, res.body);
  const deps = options.now === undefined ? {} : { now: options.now };
  const { authenticator } = await enroll(res.json().enrolment.link, { capabilities: ['push', ...(options.capabilities ?? ['pin'])], ...(options.transport === undefined ? {} : { transport: options.transport }) }, deps);
  const client = createDeviceClient(authenticator, deps);
  const seen: DeviceRequest[] = [];
  const withdrawn: Array<{ id: string; status: string }> = [];
  const waiters: Array<(r: DeviceRequest) => void> = [];
  const unclaimed: DeviceRequest[] = [];
  const stop = new AbortController();
  options.streams?.push(stop);
  await new Promise<void>((resolve) => {
    void client.stream({
      signal: stop.signal,
      onOpen: resolve,
      onRequest: (r) => {
        seen.push(r);
        // A request that arrives before next() is asked for is kept for it, not lost.
        const waiter = waiters.shift();
        if (waiter === undefined) unclaimed.push(r);
        else waiter(r);
      },
      onWithdrawn: (w) => withdrawn.push(w),
      onRevoked: () => {},
    });
  });
  return {
    stored: authenticator,
    client,
    deviceId: authenticator.device_id,
    seen,
    withdrawn,
    next: () => {
      const early = unclaimed.shift();
      const request = early !== undefined ? Promise.resolve(early) : new Promise<DeviceRequest>((resolve) => waiters.push(resolve));
      return options.nextWithinMs === undefined ? request : within(request, 'the phone hears the request', options.nextWithinMs);
    },
    stop: () => stop.abort(),
  };
}
