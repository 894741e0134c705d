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
import { createWebAuthn } from './webauthn.ts';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

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
  deps: Pick<ServiceDeps, 'store' | 'clock' | 'notifier' | 'logger' | 'random' | 'keys'>,
  parts: { auth: DeviceAuth; devices: DeviceService; verifications: VerificationService; vapidPublicKey: string | null },
) {
  const { auth, devices, verifications } = parts;
  // The audience is PUBLIC_URL + /v1/device-api: the web authenticator's page is served under the same PUBLIC_URL.
  const webauthn = createWebAuthn(deps, { publicUrl: auth.audience.replace(/\/v1\/device-api$/, '') });
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

  /**
   * A web authenticator's answer: the assertion over base64url(SHA-256(signing input)) must
   * verify with the device's credential; `webauthn` as user verification needs its UV flag
   * (SEC-25). The counter it carries is kept before the answer counts, so the same assertion
   * never verifies twice (SEC-24) even where the state machine would not already refuse it.
   */
  async function checkAssertion(device: Device, assertion: AuthenticationResponseJSON, signed: string, claimed: UserVerificationMethod): Promise<void> {
    const { userVerified, counter } = await webauthn.verifyAssertion(device, assertion, signed);
    if (claimed === 'webauthn' && !userVerified) {
      throw new OutbandError('user_verification_required', 'the WebAuthn assertion does not show user verification (UV flag): the platform must verify the user');
    }
    const current = await deps.store.devices.byIdForDevice(device.id);
    const credential = current?.webauthn ?? null;
    if (current === undefined || credential === null) throw new OutbandError('invalid_device_signature', 'the device request is not validly signed');
    // Authenticators without a counter send 0 forever; one that counts must move forward.
    if (counter === 0 && credential.counter === 0) return;
    if (counter <= credential.counter) throw new OutbandError('invalid_response_signature', 'the WebAuthn assertion was used before (its counter did not move forward)');
    const next: Device = { ...current, webauthn: { ...credential, counter }, updatedAt: deps.clock.now(), version: current.version + 1 };
    const result = await deps.store.commit({ writes: [{ kind: 'device.update', device: next, expectedVersion: current.version }] });
    if (!result.ok) throw new OutbandError('concurrent_update', 'the device answered concurrently; try again');
  }

  return {
    audience: auth.audience,

    async enroll(
      request: DeviceRequest,
      input: Omit<EnrollInput, 'webauthn'> & { webauthn?: RegistrationResponseJSON },
      ip: string | null,
    ): Promise<{ device: Device; audience: string; vapidPublicKey: string | null }> {
      await auth.authenticateEnrolment(request, parseDevicePublicKey(input.publicKey));
      const { webauthn: registration, ...rest } = input;
      const enrolment: EnrollInput = registration === undefined ? rest : { ...rest, webauthn: await webauthn.verifyRegistration(input.token, registration) };
      const device = await devices.enroll(enrolment, { id: 'device', ip });
      return { device, audience: auth.audience, vapidPublicKey: parts.vapidPublicKey };
    },

    /** The web authenticator's WebAuthn creation options for the enrolment the token opens; signed with the key it will enrol. */
    async webauthnOptions(request: DeviceRequest, token: string, publicKey: unknown) {
      await auth.authenticateEnrolment(request, parseDevicePublicKey(publicKey));
      return webauthn.registrationOptions(token);
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
      input: { decision: PushDecision; userVerification: UserVerificationMethod; answer: string | null; signature?: string | undefined; webauthn?: AuthenticationResponseJSON | undefined },
    ): Promise<{ id: string; status: string; reason: string | null; read_back_code?: string }> {
      if ((input.signature === undefined) === (input.webauthn === undefined)) throw new OutbandError('invalid_request', 'send exactly one of signature and webauthn');
      if (input.userVerification === 'webauthn' && input.webauthn === undefined) throw new OutbandError('invalid_request', 'user_verification "webauthn" needs the webauthn assertion that proves it');
      const hasCredential = (device.webauthn ?? null) !== null;
      if (input.webauthn !== undefined && !hasCredential) throw new OutbandError('invalid_request', 'this device enrolled no WebAuthn credential: sign with signature');
      // The web authenticator's device key proves no user: its approvals must come from the platform authenticator.
      if (hasCredential && input.decision === 'approve' && input.webauthn === undefined) {
        throw new OutbandError('webauthn_assertion_required', 'this device enrolled a WebAuthn credential: approve with a WebAuthn assertion (webauthn), see docs/device-api.md');
      }
      const v = await verifications.requestForDevice(device, id);
      const signed = responseSigningInput({
        requestId: v.id,
        deviceId: device.id,
        challenge: (v.push as NonNullable<Verification['push']>).challenge,
        decision: input.decision,
        userVerification: input.userVerification,
        answer: input.answer,
      });
      if (input.webauthn !== undefined) {
        await checkAssertion(device, input.webauthn, signed, input.userVerification);
      } else {
        const valid = await auth.verifiesWithDeviceKey(device, signed, Buffer.from(input.signature as string, 'base64url'));
        if (!valid) throw new OutbandError('invalid_response_signature', "the signature does not verify with this device's key over this request's fields; see docs/device-api.md");
      }
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
