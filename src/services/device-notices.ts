import type { OutgoingMessage } from '../channels/types.ts';
import type { Application } from '../domain/application.ts';
import { seal } from '../domain/codes/keys.ts';
import { queuedDelivery } from '../domain/delivery.ts';
import type { Device } from '../domain/device/device.ts';
import { renderDeviceNotice, type DeviceNoticeKind } from '../domain/device/notices.ts';
import type { User } from '../domain/user.ts';
import type { Write } from '../store/store.ts';
import type { ServiceDeps } from './deps.ts';

/**
 * The security notice of a device paired or removed, to each of the user's other addresses (its
 * e-mail, its phone by SMS) whose channel the application has on: an independent channel, so
 * that a device linked by someone else is noticed (SEC-28). Queued in the same unit as the
 * change. A notice carries no code; its delivery's subject is the device.
 */
export function deviceNoticeWrites(
  deps: Pick<ServiceDeps, 'random' | 'keys'>,
  app: Application,
  user: User,
  device: Device,
  kind: DeviceNoticeKind,
  now: number,
): Write[] {
  return contactNoticeWrites(deps, app, user, { kind, name: device.name, except: device.address, subjectId: device.id }, now);
}

/**
 * A security notice to the user's addresses (`user`'s e-mail, and its phone by SMS) other than
 * `except`, the authenticator the change is about; its deliveries' subject is `subjectId`.
 */
export function contactNoticeWrites(
  deps: Pick<ServiceDeps, 'random' | 'keys'>,
  app: Application,
  user: Pick<User, 'email' | 'phone' | 'locale'>,
  notice: { kind: DeviceNoticeKind; name: string; except: string | null; subjectId: string },
  now: number,
): Write[] {
  const words = renderDeviceNotice(notice.kind, user.locale ?? app.settings.defaultLocale, { appName: app.name, deviceName: notice.name });
  const targets = [
    { channel: 'email' as const, address: user.email, message: { subject: words.subject, text: words.text } satisfies OutgoingMessage },
    { channel: 'sms' as const, address: user.phone, message: { text: words.text } satisfies OutgoingMessage },
  ];
  return targets.flatMap(({ channel, address, message }): Write[] => {
    const provider = app.settings.providers[channel];
    if (address === null || address === notice.except || provider === undefined) return [];
    const sealedMessage = seal(deps.keys.sealKey, JSON.stringify(message), deps.random);
    const delivery = queuedDelivery({ applicationId: app.id, verificationId: notice.subjectId, channel, provider, recipient: address, sealedMessage, sendAt: now }, now, deps.random);
    return [{ kind: 'delivery.insert', delivery }];
  });
}
