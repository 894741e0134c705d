import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { hostOf, refusedAddress, urlProblem, type AddressClass } from '../domain/webhooks/ssrf.ts';

/** Resolves a host name to all its addresses (node:dns lookup with `all`; tests inject their own). */
export type HostResolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: HostResolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export type TargetCheck =
  | { ok: true; url: URL; address: { address: string; family: number } }
  | { ok: false; reason: 'scheme' | 'credentials' | 'unresolvable' | 'address'; detail: string; addressClass?: AddressClass };

/**
 * Checks a webhook URL as it would be sent now: its shape, then every address its host
 * resolves to. Answers the address to connect to, so that the connection goes where the
 * check looked (a name re-resolving between check and connect cannot slip past it).
 */
export async function checkTarget(raw: string, options: { allowInsecure: boolean; resolver: HostResolver }): Promise<TargetCheck> {
  const problem = urlProblem(raw, { allowInsecure: options.allowInsecure });
  if (problem !== null) return { ok: false, reason: problem.reason.includes('user name') ? 'credentials' : 'scheme', detail: problem.reason };
  const url = new URL(raw);
  const host = hostOf(url);
  let addresses: Array<{ address: string; family: number }>;
  if (isIP(host) !== 0) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await options.resolver(host);
    } catch {
      return { ok: false, reason: 'unresolvable', detail: `its host ${host} does not resolve` };
    }
    if (addresses.length === 0) return { ok: false, reason: 'unresolvable', detail: `its host ${host} does not resolve` };
  }
  const refused = refusedAddress(
    addresses.map((a) => a.address),
    { allowLoopback: options.allowInsecure },
  );
  if (refused !== null) {
    const named = refused.address === host ? host : `${host} (${refused.address})`;
    return { ok: false, reason: 'address', detail: `${named} is a ${refused.class.replace('_', '-')} address`, addressClass: refused.class };
  }
  return { ok: true, url, address: addresses[0]! };
}

export type SendOutcome =
  | { kind: 'answered'; statusCode: number; retryAfter: string | undefined; latencyMs: number }
  | { kind: 'refused'; error: string }
  | { kind: 'failed'; error: string; latencyMs: number };

/** Most of a receiver's answer that is read (then dropped): it is never used. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * One POST of a webhook. The host is checked and resolved here, on every attempt, and the
 * socket connects to the checked address (the TLS name is still the URL's host). Redirects
 * are not followed: a 3xx is an answer like any other. The whole exchange is cut at `timeoutMs`.
 */
export async function postWebhook(
  rawUrl: string,
  body: string,
  headers: Record<string, string>,
  options: { allowInsecure: boolean; resolver: HostResolver; timeoutMs: number; signal?: AbortSignal },
): Promise<SendOutcome> {
  const target = await checkTarget(rawUrl, options);
  if (!target.ok) return { kind: 'refused', error: `refused: ${target.detail}` };
  const { url, address } = target;
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all === true) (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [address]);
    else callback(null, address.address, address.family);
  };
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<SendOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: SendOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const req = send(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: pinned,
      agent: false,
    });
    const timer = setTimeout(() => {
      finish({ kind: 'failed', error: `timed out after ${options.timeoutMs} ms`, latencyMs: elapsed() });
      req.destroy();
    }, options.timeoutMs);
    const onAbort = () => {
      finish({ kind: 'failed', error: 'the server is shutting down', latencyMs: elapsed() });
      req.destroy();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error: NodeJS.ErrnoException) => finish({ kind: 'failed', error: (error.code ?? error.message).slice(0, 200), latencyMs: elapsed() }));
    req.on('response', (res: IncomingMessage) => {
      let read = 0;
      const answered = () =>
        finish({ kind: 'answered', statusCode: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], latencyMs: elapsed() });
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) {
          answered();
          res.destroy();
        }
      });
      res.on('end', answered);
      res.on('error', answered);
    });
    req.end(body);
  });
}
