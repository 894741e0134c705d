import { roleForNewlyPaired, type Device } from '../domain/device/device.ts';
import type { Verification } from '../domain/verification/verification.ts';
import type { Write } from '../store/store.ts';
import type { ServiceDeps } from './deps.ts';
import { deviceNoticeWrites } from './device-notices.ts';
import { eventWrite } from './events.ts';

/** The device's side of an event: which device, of what kind, for whom. Never its address. */
export function deviceEventData(d: Device, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { device_id: d.id, user_id: d.userId, kind: d.kind, role: d.role, status: d.status, ...extra };
}

/**
 * What a pairing verification's end does to its device, in the same unit as the verification:
 * approved → the device is paired (primary if the user has no primary yet), guarded by the
 * user's version so that two pairings are decided one after the other; failed, expired or
 * cancelled → the pending device goes. Nothing for other verifications.
 */
export async function pairingOutcomeWrites(
  deps: Pick<ServiceDeps, 'store' | 'random' | 'keys'>,
  next: Verification,
  actor: string,
  now: number,
  /** Where the request came from, for the lifecycle record (SEC-28). */
  ip: string | null = null,
): Promise<Write[]> {
  if (next.purpose !== 'pairing' || next.deviceId === null || next.status === 'pending') return [];
  const device = await deps.store.devices.byId(next.applicationId, next.deviceId);
  if (device === undefined || device.status !== 'pending' || device.pairingVerificationId !== next.id) return [];
  if (next.status !== 'approved') {
    return [
      { kind: 'device.delete', applicationId: device.applicationId, id: device.id, expectedVersion: device.version },
      eventWrite(deps.random, {
        applicationId: device.applicationId,
        type: next.status === 'cancelled' ? 'device.pairing_cancelled' : 'device.pairing_failed',
        subjectType: 'device',
        subjectId: device.id,
        actor,
        data: deviceEventData(device, { verification_id: next.id, reason: next.status === 'failed' ? next.reason : next.status, ip }),
        createdAt: now,
      }),
    ];
  }
  const user = await deps.store.users.byId(device.applicationId, device.userId);
  const app = await deps.store.applications.byId(device.applicationId);
  if (user === undefined || app === undefined) return [];
  const others = (await deps.store.devices.forUser(device.applicationId, device.userId)).filter((d) => d.id !== device.id);
  const paired: Device = { ...device, status: 'paired', role: roleForNewlyPaired(others), pairedAt: now, updatedAt: now, version: device.version + 1 };
  return [
    { kind: 'user.bump', applicationId: user.applicationId, id: user.id, expectedVersion: user.version },
    { kind: 'device.update', device: paired, expectedVersion: device.version },
    eventWrite(deps.random, {
      applicationId: device.applicationId,
      type: 'device.paired',
      subjectType: 'device',
      subjectId: device.id,
      actor,
      data: deviceEventData(paired, { verification_id: next.id, method: 'code', ip }),
      createdAt: now,
    }),
    ...deviceNoticeWrites(deps, app, user, paired, 'paired', now),
  ];
}
