import { createPublicKey, verify } from 'node:crypto';
import { responseSigningInput } from '../authenticator/signing-input.ts';
import type { Device, Transport } from '../domain/device/device.ts';
import { parseDevicePublicKey } from '../domain/device/keys.ts';
import { OutbandError } from '../domain/errors.ts';
import { statusAt, type PushDecision, type UserVerificationMethod, type Verification } from '../domain/verification/verification.ts';
import type { ServiceDeps } from './deps.ts';
import type { DeviceAuth, DeviceRequest } from './device-auth.ts';
import { TRANSPORT_UPDATE_WINDOW_SECONDS } from './device-auth.ts';
import type { DeviceService, EnrollInput } from './devices.ts';
import type { VerificationService } from './verifications.ts';

/** A request as the authenticator sees it: what to show, and the challenge to sign. */
export interface PushRequestView {
  id: string;
  status: string;
  challenge: string;
  application: string;
  message: string;
  context: Record<string, string>;
  purpose: string;
  user_verification: 'required' | 'preferred';
  matching: 'none' | 'pick' | 'type' | 'read_back';
  choices: string[] | null;
  created_at: string;
  expires_at: string;
}

export interface StreamListener {
  request(view: PushRequestView): void;
  withdrawn(change: { id: string; status: string; reason: string | null }): void;
  revoked(): void;
}

/**
 * The device API: what an enrolled authenticator may do, each call signed by its key. The
 * server never trusts a field the device did not sign: an answer is checked against the
 * request's challenge and this device's key before it reaches the verification.
 */
export function createDeviceApi(
  deps: Pick<ServiceDeps, 'store' | 'clock' | 'notifier' | 'logger'>,
  parts: { auth: DeviceAuth; devices: DeviceService; verifications: VerificationService; vapidPublicKey: string | null },
) {
  const { auth, devices, verifications } = parts;
  const appNames = new Map<string, string>();

  async function applicationName(applicationId: string): Promise<string> {
    let name = appNames.get(applicationId);
    if (name === undefined) {
      name = (await deps.store.applications.byId(applicationId))?.name ?? '';
      appNames.set(applicationId, name);
    }
    return name;
  }

  async function view(v: Verification): Promise<PushRequestView> {
    const push = v.push as NonNullable<Verification['push']>;
    return {
      id: v.id,
      status: statusAt(v, deps.clock.now()),
      challenge: push.challenge,
      application: await applicationName(v.applicationId),
      message: push.message,
      context: push.context,
      purpose: v.purpose,
      user_verification: push.userVerification,
      matching: push.matching,
      choices: push.choices,
      created_at: new Date(v.createdAt).toISOString(),
      expires_at: new Date(v.expiresAt).toISOString(),
    };
  }

  return {
    audience: auth.audience,

    async enroll(request: DeviceRequest, input: EnrollInput, ip: string | null): Promise<{ device: Device; audience: string; vapidPublicKey: string | null }> {
      await auth.authenticateEnrolment(request, parseDevicePublicKey(input.publicKey));
      const device = await devices.enroll(input, { id: 'device', ip });
      return { device, audience: auth.audience, vapidPublicKey: parts.vapidPublicKey };
    },

    authenticate: (request: DeviceRequest) => auth.authenticate(request),

    async updateTransport(request: DeviceRequest, transport: Transport): Promise<Device> {
      const device = await auth.authenticate({ ...request, windowSeconds: TRANSPORT_UPDATE_WINDOW_SECONDS });
      return devices.updateTransport(device, transport);
    },

    async requests(device: Device): Promise<PushRequestView[]> {
      return Promise.all((await verifications.pendingForDevice(device)).map(view));
    },

    async request(device: Device, id: string): Promise<PushRequestView> {
      return view(await verifications.requestForDevice(device, id));
    },

    /**
     * An answer: signed by this device's key over the request id, the device id, the request's
     * challenge, the decision, the user verification and the answer (SEC-22). A signature that
     * does not verify changes nothing.
     */
    async respond(
      device: Device,
      id: string,
      input: { decision: PushDecision; userVerification: UserVerificationMethod; answer: string | null; signature: string },
    ): Promise<{ id: string; status: string; reason: string | null; read_back_code?: string }> {
      const v = await verifications.requestForDevice(device, id);
      const signed = responseSigningInput({
        requestId: v.id,
        deviceId: device.id,
        challenge: (v.push as NonNullable<Verification['push']>).challenge,
        decision: input.decision,
        userVerification: input.userVerification,
        answer: input.answer,
      });
      const key = createPublicKey({ key: device.publicJwk as Record<string, string>, format: 'jwk' });
      const valid = verify('sha256', Buffer.from(signed, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(input.signature, 'base64url'));
      if (!valid) throw new OutbandError('invalid_response_signature', "the signature does not verify with this device's key over this request's fields; see docs/device-api.md");
      const result = await verifications.respond(device, v, { decision: input.decision, method: input.userVerification, answer: input.answer });
      await devices.touch(device).catch(() => {});
      return { id: v.id, status: result.view.status, reason: result.view.reason, ...(result.readBackCode === undefined ? {} : { read_back_code: result.readBackCode }) };
    },

    /**
     * Follows a device's requests until `signal` aborts: every pending one now, new ones as
     * they are sent, a withdrawal when one ends (answered, cancelled, expired), and `revoked`
     * when the device is unpaired. Wake-ups are hints; each re-reads the state.
     */
    async watch(device: Device, listener: StreamListener, signal: AbortSignal): Promise<void> {
      const shown = new Map<string, { unsubscribe: () => void; timer: NodeJS.Timeout }>();
      let pass = Promise.resolve();
      const withdraw = (id: string, status: string, reason: string | null) => {
        const entry = shown.get(id);
        if (entry === undefined) return;
        entry.unsubscribe();
        clearTimeout(entry.timer);
        shown.delete(id);
        listener.withdrawn({ id, status, reason });
      };
      const recheck = (id: string) => {
        pass = pass.then(async () => {
          if (signal.aborted || !shown.has(id)) return;
          const v = await verifications.current(device.applicationId, id);
          const status = statusAt(v, deps.clock.now());
          if (status !== 'pending') withdraw(id, status, status === 'expired' ? 'expired' : v.reason);
        }).catch((error: unknown) => deps.logger.warn({ err: error, device_id: device.id }, 'device stream recheck failed'));
      };
      const refresh = () => {
        pass = pass.then(async () => {
          if (signal.aborted) return;
          if ((await deps.store.devices.byIdForDevice(device.id)) === undefined) {
            listener.revoked();
            return;
          }
          for (const v of await verifications.pendingForDevice(device)) {
            if (shown.has(v.id)) continue;
            const unsubscribe = deps.notifier.subscribe(v.id, () => recheck(v.id));
            const timer = setTimeout(() => recheck(v.id), Math.max(0, v.expiresAt - deps.clock.now()) + 5);
            shown.set(v.id, { unsubscribe, timer });
            listener.request(await view(v));
          }
        }).catch((error: unknown) => deps.logger.warn({ err: error, device_id: device.id }, 'device stream refresh failed'));
      };
      const unsubscribeDevice = deps.notifier.subscribe(device.id, refresh);
      refresh();
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      unsubscribeDevice();
      for (const { unsubscribe, timer } of shown.values()) {
        unsubscribe();
        clearTimeout(timer);
      }
      await pass;
    },
  };
}

export type DeviceApi = ReturnType<typeof createDeviceApi>;
