import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { seal, unseal } from '../domain/codes/keys.ts';
import { OutbandError } from '../domain/errors.ts';
import { base32 } from '../domain/random.ts';
import { isScope, type Scope } from '../domain/scopes.ts';
import type { SigningKey } from '../store/store.ts';
import type { ServiceDeps } from './deps.ts';
import { dummyHash, verifySecret } from './secret-hash.ts';

export const TOKEN_AUDIENCE = 'outband-api';
const ALG = 'ES256';
/** Verified tokens remembered at once (about 1 KiB each); past it the oldest is forgotten. */
const VERIFIED_TOKENS = 1000;

/** Who a verified access token speaks for. */
export interface Principal {
  applicationId: string;
  clientId: string;
  scopes: ReadonlySet<Scope>;
  /** Who the events it causes name; left out, `client:<clientId>`. The console sets `agent:<id>`. */
  actor?: string;
}

/** The actor of the events a principal causes: the one place it is decided. */
export function actorOf(principal: Principal): string {
  return principal.actor ?? `client:${principal.clientId}`;
}

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

interface LoadedKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
  createdAt: number;
  rotatedAt: number | null;
}

/**
 * OAuth2 client credentials (RFC 6749 §4.4) with ES256 JWT access tokens. Signing keys live
 * in the store (private halves sealed under the server key), so every node signs with the
 * same active key and verifies any key that is still within a token lifetime of its rotation.
 */
export function createTokenService(deps: Pick<ServiceDeps, 'store' | 'clock' | 'random' | 'keys'>, options: { issuer: string; ttlSeconds: number }) {
  let keys: LoadedKey[] = [];
  let loadedAt = 0;
  /** Tokens that verified, oldest first: their principal, `exp` (seconds) and key id. */
  const verified = new Map<string, { principal: Principal; expiresAt: number; kid: string }>();

  async function load(): Promise<void> {
    const stored = await deps.store.signingKeys.list();
    keys = await Promise.all(stored.map(toLoaded));
    loadedAt = deps.clock.now();
  }

  async function toLoaded(key: SigningKey): Promise<LoadedKey> {
    const privateJwk = JSON.parse(unseal(deps.keys.sealKey, key.privateJwk)) as JWK;
    const publicJwk = JSON.parse(key.publicJwk) as JWK;
    return {
      kid: key.kid,
      privateKey: (await importJWK(privateJwk, ALG)) as CryptoKey,
      publicKey: (await importJWK(publicJwk, ALG)) as CryptoKey,
      publicJwk,
      createdAt: key.createdAt,
      rotatedAt: key.rotatedAt,
    };
  }

  async function newKey(): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = base32(deps.random.bytes(10));
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG };
    return {
      kid,
      alg: ALG,
      privateJwk: seal(deps.keys.sealKey, JSON.stringify(privateJwk), deps.random),
      publicJwk: JSON.stringify(publicJwk),
      createdAt: deps.clock.now(),
      rotatedAt: null,
    };
  }

  /** Keys that may still verify a token: the active one and those rotated less than a token lifetime ago. */
  function usable(now: number): LoadedKey[] {
    return keys.filter((k) => k.rotatedAt === null || k.rotatedAt + options.ttlSeconds * 1000 > now);
  }

  function active(): LoadedKey {
    const key = keys.find((k) => k.rotatedAt === null);
    if (key === undefined) throw new Error('no active signing key: the token service was not started');
    return key;
  }

  return {
    /** Loads the keys, creating the first one on a new database. */
    async start(): Promise<void> {
      await load();
      if (keys.some((k) => k.rotatedAt === null)) return;
      const key = await newKey();
      await deps.store.signingKeys.rotate(key);
      await load();
    },

    async rotate(): Promise<string> {
      const key = await newKey();
      await deps.store.signingKeys.rotate(key);
      await load();
      return key.kid;
    },

    jwks(): { keys: JWK[] } {
      return { keys: usable(deps.clock.now()).map((k) => k.publicJwk) };
    },

    /** Authenticates a client and issues a token with the requested scopes (default: all it holds). */
    async issue(clientId: string, clientSecret: string, requested: string | undefined): Promise<IssuedToken> {
      const client = await deps.store.clients.byId(clientId);
      // Verify against a dummy hash when the client is unknown: the answer takes as long either way.
      const valid = await verifySecret(clientSecret, client?.secretHash ?? dummyHash());
      if (client === undefined || !valid || client.revokedAt !== null) {
        throw new OutbandError('invalid_client', 'unknown client or wrong secret', { error: 'invalid_client' });
      }
      let scopes: Scope[] = client.scopes.filter(isScope);
      if (requested !== undefined && requested.trim() !== '') {
        const asked = [...new Set(requested.trim().split(/\s+/))];
        const refused = asked.filter((s) => !scopes.includes(s as Scope));
        if (refused.length > 0) {
          throw new OutbandError('invalid_scope', `this client may not request: ${refused.join(' ')}`, { error: 'invalid_scope' });
        }
        scopes = asked as Scope[];
      }
      const now = Math.floor(deps.clock.now() / 1000);
      const key = active();
      const token = await new SignJWT({ scope: scopes.join(' '), app: client.applicationId })
        .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'at+jwt' })
        .setIssuer(options.issuer)
        .setAudience(TOKEN_AUDIENCE)
        .setSubject(client.id)
        .setIssuedAt(now)
        .setExpirationTime(now + options.ttlSeconds)
        .setJti(base32(deps.random.bytes(16)))
        .sign(key.privateKey);
      return { access_token: token, token_type: 'Bearer', expires_in: options.ttlSeconds, scope: scopes.join(' ') };
    },

    /**
     * Verifies a bearer token; throws `invalid_token`. A client sends the same token with every
     * request until it expires, so a token that verified is remembered with its expiry and key:
     * later requests skip the ES256 signature check (the largest CPU cost of a small request)
     * while the token is unexpired and its key still usable.
     */
    async verify(token: string): Promise<Principal> {
      const now = deps.clock.now();
      const known = verified.get(token);
      if (known !== undefined) {
        if (known.expiresAt > Math.floor(now / 1000) && usable(now).some((k) => k.kid === known.kid)) return known.principal;
        verified.delete(token);
      }
      let payload: JWTPayload;
      let kid: string | undefined;
      try {
        ({ payload } = await jwtVerify(
          token,
          async (header) => {
            let key = usable(now).find((k) => k.kid === header.kid);
            // A key created on another node since we loaded; reload at most every 5 s.
            if (key === undefined && now - loadedAt > 5000) {
              await load();
              key = usable(now).find((k) => k.kid === header.kid);
            }
            if (key === undefined) throw new Error('unknown key');
            kid = key.kid;
            return key.publicKey;
          },
          { algorithms: [ALG], issuer: options.issuer, audience: TOKEN_AUDIENCE, currentDate: new Date(now), typ: 'at+jwt' },
        ));
      } catch {
        throw new OutbandError('invalid_token', 'the access token is expired, malformed or not signed by this server');
      }
      const app = payload['app'];
      const scope = payload['scope'];
      if (typeof app !== 'string' || typeof scope !== 'string' || typeof payload.sub !== 'string') {
        throw new OutbandError('invalid_token', 'the access token lacks its claims');
      }
      const principal: Principal = { applicationId: app, clientId: payload.sub, scopes: new Set(scope.split(' ').filter(isScope)) };
      if (kid !== undefined && typeof payload.exp === 'number') {
        if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
        verified.set(token, { principal, expiresAt: payload.exp, kid });
      }
      return principal;
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
