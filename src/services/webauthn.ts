import { createHash } from 'node:crypto';
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { activationHmac } from '../domain/codes/code.ts';
import type { Device, WebAuthnCredential } from '../domain/device/device.ts';
import { OutbandError } from '../domain/errors.ts';
import type { ServiceDeps } from './deps.ts';

/**
 * The COSE algorithms a web authenticator may register: ES256 and RS256, what every platform
 * authenticator offers. Pinned, because @simplewebauthn's default (on runtimes whose WebCrypto
 * lists it) puts ML-DSA first, and a credential of it could not be verified everywhere.
 */
export const WEBAUTHN_ALGORITHMS = [-7, -257];

/** How long the browser waits for the person at `create()` and `get()`. */
const WEBAUTHN_TIMEOUT_MS = 120_000;
const RETRIES = 5;

/** The WebAuthn challenge of an answer: base64url(SHA-256(the response signing input)). */
export function assertionChallenge(signingInput: string): string {
  return createHash('sha256').update(signingInput, 'utf8').digest('base64url');
}

/**
 * The WebAuthn library, loaded at its first use: with its ASN.1 and X.509 dependencies it is
 * about 300 modules, which a server without web authenticators would load at every start for
 * nothing (bench/startup.ts).
 */
let library: Promise<typeof import('@simplewebauthn/server')> | undefined;
const webauthnLibrary = () => (library ??= import('@simplewebauthn/server'));

const invalidToken = () => new OutbandError('activation_invalid', 'the activation token is unknown, used or expired; ask for a new enrolment link');

/**
 * The web authenticator's WebAuthn side (docs/decisions/0015-web-authenticator.md): the
 * registration options of a pending enrolment, and the checks of a registration and of an
 * answer's assertion. The relying party is the server itself: RP ID PUBLIC_URL's host name,
 * origin PUBLIC_URL's origin, so the credential works only on the page the server serves.
 */
export function createWebAuthn(deps: Pick<ServiceDeps, 'store' | 'clock' | 'random' | 'keys'>, options: { publicUrl: string }) {
  const url = new URL(options.publicUrl);
  const rpID = url.hostname;
  const origin = url.origin;

  /** The pending push enrolment the token opens, as enrolling would find it. */
  async function pendingFor(token: string): Promise<Device> {
    const pending = await deps.store.devices.byActivationHmac(activationHmac(deps.keys.codeKey, token));
    if (pending === undefined || pending.status !== 'pending' || pending.kind !== 'push' || (pending.activationExpiresAt ?? 0) <= deps.clock.now()) throw invalidToken();
    return pending;
  }

  return {
    rpID,
    origin,

    /**
     * Creation options for the pending enrolment of `token`. The challenge is stored with the
     * enrolment: a later call replaces it, and enrolling uses it up (single use).
     */
    async registrationOptions(token: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
      for (let round = 0; round < RETRIES; round++) {
        const pending = await pendingFor(token);
        const app = await deps.store.applications.byId(pending.applicationId);
        const user = await deps.store.users.byId(pending.applicationId, pending.userId);
        if (app === undefined || user === undefined) throw invalidToken();
        const { generateRegistrationOptions } = await webauthnLibrary();
        const creation = await generateRegistrationOptions({
          rpName: app.name,
          rpID,
          userName: user.email ?? user.externalId ?? pending.name,
          userDisplayName: user.displayName ?? user.email ?? pending.name,
          // One user handle per device: a second enrolment on the same phone must not overwrite the first's credential.
          userID: new TextEncoder().encode(pending.id),
          challenge: new Uint8Array(deps.random.bytes(32)),
          timeout: WEBAUTHN_TIMEOUT_MS,
          attestationType: 'none',
          authenticatorSelection: { authenticatorAttachment: 'platform', residentKey: 'preferred', userVerification: 'required' },
          supportedAlgorithmIDs: WEBAUTHN_ALGORITHMS,
        });
        const now = deps.clock.now();
        const next: Device = { ...pending, webauthnChallenge: creation.challenge, updatedAt: now, version: pending.version + 1 };
        const result = await deps.store.commit({ writes: [{ kind: 'device.update', device: next, expectedVersion: pending.version }] });
        if (result.ok) return creation;
      }
      throw new OutbandError('concurrent_update', 'the enrolment changed concurrently; try again');
    },

    /**
     * Checks a registration against the pending enrolment's stored challenge, this origin and RP
     * ID, with user verification (the platform's screen lock or biometric) required. Returns the
     * credential and the challenge it used, which enrolling must still find stored.
     */
    async verifyRegistration(token: string, response: RegistrationResponseJSON): Promise<{ credential: WebAuthnCredential; challenge: string }> {
      const pending = await pendingFor(token);
      const challenge = pending.webauthnChallenge ?? null;
      const refuse = (why: string) => new OutbandError('webauthn_registration_invalid', `the WebAuthn registration does not verify: ${why}`);
      if (challenge === null) throw refuse('no registration options were asked for this enrolment');
      const { verifyRegistrationResponse } = await webauthnLibrary();
      let verified;
      try {
        verified = await verifyRegistrationResponse({
          response,
          expectedChallenge: challenge,
          expectedOrigin: origin,
          expectedRPID: rpID,
          requireUserVerification: true,
          supportedAlgorithmIDs: WEBAUTHN_ALGORITHMS,
        });
      } catch (error) {
        throw refuse((error as Error).message);
      }
      if (!verified.verified) throw refuse('not verified');
      const info = verified.registrationInfo;
      return {
        credential: { id: info.credential.id, publicKey: Buffer.from(info.credential.publicKey).toString('base64url'), counter: info.credential.counter },
        challenge,
      };
    },

    /**
     * Checks an answer's assertion: this device's credential, over base64url(SHA-256(the
     * response signing input)), from this origin, with user presence; a counter that does not
     * move forward (a replay, a cloned authenticator) is refused. Returns whether the user was
     * verified and the counter to keep.
     */
    async verifyAssertion(device: Device, response: AuthenticationResponseJSON, signingInput: string): Promise<{ userVerified: boolean; counter: number }> {
      const credential = device.webauthn ?? null;
      const refuse = () => new OutbandError('invalid_response_signature', "the WebAuthn assertion does not verify with this device's credential over this request's fields; see docs/device-api.md");
      if (credential === null || response.id !== credential.id) throw refuse();
      const { verifyAuthenticationResponse } = await webauthnLibrary();
      try {
        const verified = await verifyAuthenticationResponse({
          response,
          expectedChallenge: assertionChallenge(signingInput),
          expectedOrigin: origin,
          expectedRPID: rpID,
          credential: { id: credential.id, publicKey: Buffer.from(credential.publicKey, 'base64url'), counter: credential.counter },
          // Whether UV was needed is the caller's to decide, so that a missing UV answers as such (SEC-25).
          requireUserVerification: false,
        });
        if (!verified.verified) throw refuse();
        return { userVerified: verified.authenticationInfo.userVerified, counter: verified.authenticationInfo.newCounter };
      } catch (error) {
        if (error instanceof OutbandError) throw error;
        throw refuse();
      }
    },
  };
}

export type WebAuthn = ReturnType<typeof createWebAuthn>;
