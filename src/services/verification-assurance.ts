import type { Application } from '../domain/application.ts';
import { reachableByPush } from '../domain/device/device.ts';
import { isRestricted, verificationReport, type VerificationAssuranceReport } from '../domain/policy/assurance.ts';
import type { Verification } from '../domain/verification/verification.ts';
import type { Store } from '../store/store.ts';

/**
 * The assurance report of a verification, for every response about it: from the application the
 * caller has already loaded, reading the user's devices only when SEC-13 asks whether a restricted
 * (sms, voice) verification's user has a push alternative.
 */
export async function verificationAssurance(store: Pick<Store, 'devices'>, app: Application, v: Verification): Promise<VerificationAssuranceReport> {
  const asksAlternative = isRestricted(v.channel) && v.userId !== null;
  const hasPush = asksAlternative ? (await store.devices.forUser(app.id, v.userId as string)).some(reachableByPush) : null;
  return verificationReport(app.settings.assuranceProfile, v, hasPush);
}
