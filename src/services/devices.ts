import { parseEmail } from '../domain/address/email.ts';
import { parsePhone } from '../domain/address/phone.ts';
import { maskRecipient } from '../domain/address/recipient.ts';
import type { Application, CodeChannel } from '../domain/application.ts';
import { activationHmac, generateBase32Code, generateCode } from '../domain/codes/code.ts';
import {
  ACTIVATION_TOKEN_BYTES,
  ACTIVATION_TTL_SECONDS,
  defaultDeviceName,
  MAX_BYPASS_SECONDS,
  roleForNewlyPaired,
  successorOf,
  type Capability,
  type Device,
  type DeviceKind,
  type Transport,
  type WebAuthnCredential,
} from '../domain/device/device.ts';
import { parseDevicePublicKey, parseTransport } from '../domain/device/keys.ts';
import { OutbandError } from '../domain/errors.ts';
import { requireEnabled } from '../domain/policy/settings.ts';
import { newId } from '../domain/random.ts';
import type { User } from '../domain/user.ts';
import type { Write } from '../store/store.ts';
import type { ServiceDeps } from './deps.ts';
import { deviceNoticeWrites } from './device-notices.ts';
import { eventWrite } from './events.ts';
import { deviceEventData } from './pairing.ts';
import type { Principal } from './tokens.ts';
import type { VerificationService, VerificationView } from './verifications.ts';

/** The QR code library (with its PNG encoder, some 60 modules), loaded at the first push enrolment rather than at every start. */
let qrcodeLibrary: Promise<typeof import('qrcode')> | undefined;
const loadQrcode = () => (qrcodeLibrary ??= import('qrcode'));

/** Who did something to a device, and from where: the lifecycle record SEC-28 asks for. */
export interface Actor {
  id: string;
  ip: string | null;
}

export interface DeviceView {
  id: string;
  user_id: string;
  kind: DeviceKind;
  name: string;
  role: Device['role'];
  status: Device['status'];
  capabilities: Capability[];
  /** The phone number or e-mail address, masked; null for push. */
  address: string | null;
  transport: { type: Transport['type']; stale: boolean } | null;
  created_at: string;
  paired_at: string | null;
  last_used_at: string | null;
}

export function deviceView(d: Device): DeviceView {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: d.id,
    user_id: d.userId,
    kind: d.kind,
    name: d.name,
    role: d.role,
    status: d.status,
    capabilities: d.capabilities,
    address: d.address === null ? null : maskRecipient(d.kind === 'email' ? 'email' : 'sms', d.address),
    transport: d.transport === null ? null : { type: d.transport.type, stale: d.transportStaleAt !== null },
    created_at: new Date(d.createdAt).toISOString(),
    paired_at: iso(d.pairedAt),
    last_used_at: iso(d.lastUsedAt),
  };
}

export interface PairingInput {
  kind: DeviceKind;
  name?: string;
  /** sms, voice, email: the address to pair; default the user's phone or e-mail. */
  address?: string;
  country?: string;
  /** manual: a code goes to the address; automatic (admin only): paired at once. */
  mode?: 'manual' | 'automatic';
}

export interface Enrolment {
  token: string;
  link: string;
  qr_svg: string;
  expires_at: string;
}

export interface EnrollInput {
  token: string;
  publicKey: unknown;
  transport: Transport;
  capabilities: Capability[];
  name?: string;
  /** The web authenticator's WebAuthn credential, verified already, and the registration challenge it used. */
  webauthn?: { credential: WebAuthnCredential; challenge: string };
}

const RETRIES = 5;

export function createDeviceService(
  deps: Pick<ServiceDeps, 'store' | 'clock' | 'random' | 'keys'>,
  options: { verifications: VerificationService; publicUrl: string; wakeDelivery?: () => void },
) {
  const { verifications } = options;

  async function loadApp(applicationId: string): Promise<Application> {
    const app = await deps.store.applications.byId(applicationId);
    if (app === undefined) throw new OutbandError('invalid_token', 'the application of this token no longer exists');
    return app;
  }

  async function loadUser(applicationId: string, userId: string): Promise<User> {
    const user = await deps.store.users.byId(applicationId, userId);
    if (user === undefined) throw new OutbandError('user_not_found', `no user ${userId}`);
    return user;
  }

  async function loadDevice(applicationId: string, id: string): Promise<Device> {
    const device = await deps.store.devices.byId(applicationId, id);
    if (device === undefined) throw new OutbandError('device_not_found', `no device ${id}`);
    return device;
  }

  function deviceEvent(type: string, d: Device, actor: Actor, extra: Record<string, unknown> = {}): Write {
    return eventWrite(deps.random, {
      applicationId: d.applicationId,
      type,
      subjectType: 'device',
      subjectId: d.id,
      actor: actor.id,
      data: deviceEventData(d, { ip: actor.ip, ...extra }),
      createdAt: deps.clock.now(),
    });
  }

  /** Another device's role changes as a consequence (a new primary, the primary gone): the write and its event. */
  function roleChange(d: Device, role: Device['role'], actor: Actor): Write[] {
    const changed: Device = { ...d, role, updatedAt: deps.clock.now(), version: d.version + 1 };
    return [{ kind: 'device.update', device: changed, expectedVersion: d.version }, deviceEvent('device.updated', changed, actor, { changed: ['role'] })];
  }

  /** The address a new sms, voice or e-mail device pairs: given, or the user's own. */
  function addressFor(kind: Exclude<DeviceKind, 'push'>, user: User, input: PairingInput): string {
    if (kind === 'email') {
      const address = input.address ?? user.email;
      if (address === null) throw new OutbandError('recipient_missing', 'give address: the user has no e-mail address');
      return parseEmail(address);
    }
    const address = input.address ?? user.phone;
    if (address === null) throw new OutbandError('recipient_missing', 'give address: the user has no phone number');
    return parsePhone(address, input.country).e164;
  }

  /**
   * Starts pairing a device. The user's unfinished pairings of the same kind end first (and
   * only those); what is left counts against max_devices. A push device gets a one-time
   * activation token (128 bits, 10 minutes); an sms, voice or e-mail device a code to confirm
   * (manual) or, for an admin, is paired at once (automatic).
   */
  async function pair(
    principal: Principal,
    userId: string,
    input: PairingInput,
    actor: Actor,
  ): Promise<{ device: Device; enrolment?: Enrolment; verification?: VerificationView }> {
    const app = await loadApp(principal.applicationId);
    requireEnabled(app);
    const mode = input.mode ?? 'manual';
    if (mode === 'automatic' && !principal.scopes.has('admin')) throw new OutbandError('insufficient_scope', 'automatic pairing needs the "admin" scope', { scope: 'admin' });
    if (mode === 'automatic' && input.kind === 'push') throw new OutbandError('pairing_not_permitted', 'a push authenticator pairs by enrolling its key; automatic pairing is for sms, voice and email');
    const channel = input.kind;
    if (app.settings.providers[channel] === undefined) throw new OutbandError('channel_not_enabled', `the ${channel} channel is not enabled for this application`);
    // SEC-27: a pairing code must not travel by e-mail under NIST; e-mail is contact confirmation only there.
    if (channel === 'email' && mode === 'manual' && app.settings.assuranceProfile === 'nist') {
      throw new OutbandError('pairing_not_permitted', 'under the nist assurance profile a pairing code is never sent by e-mail (NIST SP 800-63B-4 §4.1.2.2)');
    }

    for (let round = 0; round < RETRIES; round++) {
      const user = await loadUser(app.id, userId);
      if (user.status === 'suspended') throw new OutbandError('user_suspended', 'a suspended user cannot pair a device; reactivate the user first');
      const existing = await deps.store.devices.forUser(app.id, user.id);
      // Everything that can refuse this pairing is checked before an unfinished one is ended.
      const address = input.kind === 'push' ? null : addressFor(input.kind, user, input);
      if (address !== null) {
        // SEC-30: an address may serve several users (a family phone), up to the application's cap.
        const cap = app.settings.fraud.deviceShareCap;
        const others = await deps.store.devices.otherUsersOnAddress(app.id, address, user.id, cap);
        if (others.length >= cap) {
          throw new OutbandError('device_share_limit', `devices of ${others.length} other users hold this address already, the most this application allows (fraud.device_share_cap: ${cap})`, {
            device_share_cap: cap,
          });
        }
      }
      const replaced = existing.filter((d) => d.kind === input.kind && d.status === 'pending');
      const kept = existing.filter((d) => !replaced.includes(d));
      if (kept.length >= app.settings.maxDevices) {
        throw new OutbandError('max_devices_reached', `the user has ${kept.length} devices, the most this application allows (${app.settings.maxDevices}); unpair one first`, { max_devices: app.settings.maxDevices });
      }
      // Pairings that a code would complete end as cancelled, which removes their device.
      for (const d of replaced) if (d.pairingVerificationId !== null) await verifications.cancelFor(app.id, d.pairingVerificationId, actor.id).catch(() => {});
      const now = deps.clock.now();
      const name = input.name ?? defaultDeviceName(input.kind, kept);
      const base: Device = {
        id: newId('dev', deps.random),
        applicationId: app.id,
        userId: user.id,
        kind: input.kind,
        name,
        role: 'secondary',
        status: 'pending',
        address: null,
        publicJwk: null,
        transport: null,
        transportStaleAt: null,
        capabilities: [],
        activationHmac: null,
        activationExpiresAt: null,
        pairingVerificationId: null,
        createdAt: now,
        pairedAt: null,
        lastUsedAt: null,
        updatedAt: now,
        version: 0,
      };
      // Push enrolments still pending are simply dropped: their tokens die with them.
      const dropped: Write[] = replaced
        .filter((d) => d.pairingVerificationId === null)
        .flatMap((d) => [{ kind: 'device.delete' as const, applicationId: app.id, id: d.id, expectedVersion: d.version }, deviceEvent('device.pairing_cancelled', d, actor)]);
      const guard: Write = { kind: 'user.bump', applicationId: app.id, id: user.id, expectedVersion: user.version };

      if (input.kind === 'push') {
        const token = Buffer.from(deps.random.bytes(ACTIVATION_TOKEN_BYTES)).toString('base64url');
        const device: Device = { ...base, activationHmac: activationHmac(deps.keys.codeKey, token), activationExpiresAt: now + ACTIVATION_TTL_SECONDS * 1000 };
        const result = await deps.store.commit({ writes: [guard, ...dropped, { kind: 'device.insert', device }, deviceEvent('device.pairing_started', device, actor)] });
        if (!result.ok) continue;
        const link = `${options.publicUrl}/authenticator/enroll#token=${token}`;
        const qr = await (await loadQrcode()).toString(link, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
        return { device, enrolment: { token, link, qr_svg: qr, expires_at: new Date(device.activationExpiresAt as number).toISOString() } };
      }

      if (address === null) throw new Error('unreachable: push returned above');
      if (mode === 'automatic') {
        const device: Device = { ...base, address, status: 'paired', role: roleForNewlyPaired(kept), pairedAt: now };
        const result = await deps.store.commit({
          writes: [guard, ...dropped, { kind: 'device.insert', device }, deviceEvent('device.paired', device, actor, { method: 'automatic' }), ...deviceNoticeWrites(deps, app, user, device, 'paired', now)],
        });
        if (!result.ok) continue;
        options.wakeDelivery?.();
        return { device };
      }
      // SEC-27: 6 digits as the seeds pair phones under standard; 8 Crockford base32 characters (40 bits) under nist.
      const code = app.settings.assuranceProfile === 'nist' ? generateBase32Code(8, deps.random) : generateCode(6, deps.random);
      let device: Device = { ...base, address };
      try {
        const verification = await verifications.startPairing(app, user, { deviceId: device.id, channel: channel as CodeChannel, address, code, actor: actor.id }, (v) => {
          device = { ...device, pairingVerificationId: v.id };
          return [guard, ...dropped, { kind: 'device.insert', device }, deviceEvent('device.pairing_started', device, actor, { verification_id: v.id })];
        });
        return { device, verification };
      } catch (error) {
        if (error instanceof OutbandError && error.code === 'concurrent_update') continue;
        throw error;
      }
    }
    throw new OutbandError('concurrent_update', "the user's devices kept changing while the pairing started; try again");
  }

  /** Runs a change of a user's devices guarded by the user's version; retried when another change got there first. */
  async function changeDevices(applicationId: string, userId: string, build: (user: User, devices: Device[]) => Write[]): Promise<void> {
    for (let round = 0; round < RETRIES; round++) {
      const user = await loadUser(applicationId, userId);
      const devices = await deps.store.devices.forUser(applicationId, userId);
      const writes = build(user, devices);
      if (writes.length === 0) return;
      const result = await deps.store.commit({ writes: [{ kind: 'user.bump', applicationId, id: userId, expectedVersion: user.version }, ...writes] });
      if (result.ok) return;
    }
    throw new OutbandError('concurrent_update', "the user's devices kept changing; try again");
  }

  return {
    pair,

    async list(principal: Principal, userId: string): Promise<Device[]> {
      await loadUser(principal.applicationId, userId);
      return deps.store.devices.forUser(principal.applicationId, userId);
    },

    get: (principal: Principal, id: string) => loadDevice(principal.applicationId, id),

    /** Renames a device or makes it primary (the primary before it becomes secondary). */
    async update(principal: Principal, id: string, input: { name?: string; role?: 'primary' | 'secondary' }, actor: Actor): Promise<Device> {
      const first = await loadDevice(principal.applicationId, id);
      await changeDevices(principal.applicationId, first.userId, (_user, devices) => {
        const device = devices.find((d) => d.id === id);
        if (device === undefined) throw new OutbandError('device_not_found', `no device ${id}`);
        const now = deps.clock.now();
        const writes: Write[] = [];
        let next: Device = { ...device };
        if (input.name !== undefined && input.name !== device.name) next.name = input.name;
        if (input.role !== undefined && input.role !== device.role) {
          if (device.status !== 'paired') throw new OutbandError('invalid_request', 'only a paired device can change role');
          if (input.role === 'primary') {
            for (const other of devices.filter((d) => d.id !== id && d.role === 'primary')) {
              writes.push(...roleChange(other, 'secondary', actor));
            }
          } else {
            const successor = successorOf(devices.filter((d) => d.id !== id));
            if (successor === undefined) throw new OutbandError('invalid_request', "the user's only paired device stays primary");
            writes.push(...roleChange(successor, 'primary', actor));
          }
          next.role = input.role;
        }
        if (next.name === device.name && next.role === device.role) return [];
        next = { ...next, updatedAt: now, version: device.version + 1 };
        const changed = [...(next.name !== device.name ? ['name'] : []), ...(next.role !== device.role ? ['role'] : [])];
        return [...writes, { kind: 'device.update', device: next, expectedVersion: device.version }, deviceEvent('device.updated', next, actor, { changed })];
      });
      return loadDevice(principal.applicationId, id);
    },

    /**
     * Unpairs a device: its key and transport go with it, so nothing it signs is accepted any
     * more (SEC-29); every pending verification it was part of is cancelled; if it was the
     * primary, the oldest paired device left becomes primary. Its open streams hear it.
     */
    async unpair(principal: Principal, id: string, actor: Actor): Promise<void> {
      const device = await loadDevice(principal.applicationId, id);
      const app = await loadApp(principal.applicationId);
      await changeDevices(principal.applicationId, device.userId, (user, devices) => {
        const current = devices.find((d) => d.id === id);
        if (current === undefined) throw new OutbandError('device_not_found', `no device ${id}`);
        const writes: Write[] = [
          { kind: 'device.delete', applicationId: current.applicationId, id, expectedVersion: current.version },
          deviceEvent('device.unpaired', current, actor),
          { kind: 'wake', subjectId: id },
          // A pending device was never in use: only removing a paired one is news to the user.
          ...(current.status === 'paired' ? deviceNoticeWrites(deps, app, user, current, 'unpaired', deps.clock.now()) : []),
        ];
        if (current.role === 'primary' && current.status === 'paired') {
          const successor = successorOf(devices.filter((d) => d.id !== id));
          if (successor !== undefined) writes.push(...roleChange(successor, 'primary', actor));
        }
        return writes;
      });
      options.wakeDelivery?.();
      for (const v of await deps.store.verifications.pendingInvolving({ id, userId: device.userId })) {
        await verifications.cancelFor(v.applicationId, v.id, actor.id).catch(() => {});
      }
    },

    /**
     * A push authenticator enrols: the activation token (single use, 10 minutes) is traded for
     * a paired device holding the authenticator's public key and push transport. An unknown,
     * used or expired token answers the same 400 activation_invalid.
     */
    async enroll(input: EnrollInput, actor: Actor): Promise<Device> {
      const publicJwk = parseDevicePublicKey(input.publicKey);
      const transport = parseTransport(input.transport);
      const hmac = activationHmac(deps.keys.codeKey, input.token);
      for (let round = 0; round < RETRIES; round++) {
        const now = deps.clock.now();
        const pending = await deps.store.devices.byActivationHmac(hmac);
        if (pending === undefined || pending.status !== 'pending' || pending.kind !== 'push' || (pending.activationExpiresAt ?? 0) <= now) {
          throw new OutbandError('activation_invalid', 'the activation token is unknown, used or expired; ask for a new enrolment link');
        }
        // The registration was checked against the challenge stored then: it must still be the one (single use).
        if (input.webauthn !== undefined && pending.webauthnChallenge !== input.webauthn.challenge) {
          throw new OutbandError('webauthn_registration_invalid', 'the WebAuthn registration does not verify: newer registration options replaced its challenge');
        }
        const user = await loadUser(pending.applicationId, pending.userId);
        const app = await loadApp(pending.applicationId);
        requireEnabled(app);
        const others = (await deps.store.devices.forUser(pending.applicationId, pending.userId)).filter((d) => d.id !== pending.id);
        const device: Device = {
          ...pending,
          status: 'paired',
          role: roleForNewlyPaired(others),
          name: input.name ?? pending.name,
          publicJwk,
          transport,
          // webauthn is the server's to grant, for a verified credential only.
          capabilities: [...new Set<Capability>(['push', ...input.capabilities.filter((c) => c !== 'webauthn'), ...(input.webauthn === undefined ? [] : (['webauthn'] as const))])],
          webauthn: input.webauthn?.credential ?? null,
          webauthnChallenge: null,
          activationHmac: null,
          activationExpiresAt: null,
          pairedAt: now,
          updatedAt: now,
          version: pending.version + 1,
        };
        const result = await deps.store.commit({
          writes: [
            { kind: 'user.bump', applicationId: user.applicationId, id: user.id, expectedVersion: user.version },
            { kind: 'device.update', device, expectedVersion: pending.version },
            deviceEvent('device.paired', device, { id: `device:${device.id}`, ip: actor.ip }, { method: 'enrolment', transport: transport.type }),
            ...deviceNoticeWrites(deps, app, user, device, 'paired', now),
          ],
        });
        if (result.ok) {
          options.wakeDelivery?.();
          return device;
        }
      }
      throw new OutbandError('concurrent_update', 'the enrolment changed concurrently; try again');
    },

    /** A push token or subscription changed: the new one replaces the old, and is fresh again. */
    async updateTransport(device: Device, input: Transport): Promise<Device> {
      const transport = parseTransport(input);
      for (let round = 0; round < RETRIES; round++) {
        const current = await deps.store.devices.byIdForDevice(device.id);
        if (current === undefined) throw new OutbandError('invalid_device_signature', 'the device request is not validly signed');
        const now = deps.clock.now();
        const next: Device = { ...current, transport, transportStaleAt: null, updatedAt: now, version: current.version + 1 };
        const result = await deps.store.commit({
          writes: [{ kind: 'device.update', device: next, expectedVersion: current.version }, deviceEvent('device.transport_updated', next, { id: `device:${device.id}`, ip: null }, { transport: transport.type })],
        });
        if (result.ok) return next;
      }
      throw new OutbandError('concurrent_update', 'the device changed concurrently; try again');
    },

    /** A push service said the registration is gone: push no more until the device registers anew. */
    async markTransportStale(deviceId: string, reason: string): Promise<void> {
      for (let round = 0; round < RETRIES; round++) {
        const current = await deps.store.devices.byIdForDevice(deviceId);
        if (current === undefined || current.transportStaleAt !== null) return;
        const now = deps.clock.now();
        const next: Device = { ...current, transportStaleAt: now, updatedAt: now, version: current.version + 1 };
        const result = await deps.store.commit({ writes: [{ kind: 'device.update', device: next, expectedVersion: current.version }, deviceEvent('device.transport_stale', next, { id: 'system', ip: null }, { reason })] });
        if (result.ok) return;
      }
    },

    /** Best effort: when the device last answered. */
    async touch(device: Device): Promise<void> {
      const current = await deps.store.devices.byIdForDevice(device.id);
      if (current === undefined) return;
      const now = deps.clock.now();
      await deps.store.commit({ writes: [{ kind: 'device.update', device: { ...current, lastUsedAt: now, version: current.version + 1 }, expectedVersion: current.version }] });
    },

    /**
     * Bypass: until `until` (at most 24 h ahead), the user's verifications are approved at once
     * and marked `bypass: true`, so the relying party decides. An event names who set it.
     */
    async setBypass(principal: Principal, userId: string, until: number | null, actor: Actor): Promise<User> {
      const now = deps.clock.now();
      if (until !== null && (until <= now || until > now + MAX_BYPASS_SECONDS * 1000)) {
        throw new OutbandError('invalid_bypass', `until must be in the future and at most ${MAX_BYPASS_SECONDS / 3600} h ahead`);
      }
      for (let round = 0; round < RETRIES; round++) {
        const user = await loadUser(principal.applicationId, userId);
        const next: User = { ...user, bypassUntil: until, updatedAt: now, version: user.version + 1 };
        const result = await deps.store.commit({
          writes: [
            { kind: 'user.update', user: next, expectedVersion: user.version },
            eventWrite(deps.random, {
              applicationId: user.applicationId,
              type: until === null ? 'user.bypass_ended' : 'user.bypass_set',
              subjectType: 'user',
              subjectId: user.id,
              actor: actor.id,
              data: { user_id: user.id, until: until === null ? null : new Date(until).toISOString(), ip: actor.ip },
              createdAt: now,
            }),
          ],
        });
        if (result.ok) return next;
      }
      throw new OutbandError('concurrent_update', 'the user kept changing; try again');
    },
  };
}

export type DeviceService = ReturnType<typeof createDeviceService>;
