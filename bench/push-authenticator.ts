/**
 * Many phones in one process, for push-roundtrip: the reference authenticator's own device
 * client (src/authenticator/client.ts: the signed device API calls, the SSE stream with its
 * reconnects, the response signature) for every device of a key file, approving each request
 * the moment its stream delivers it, without waiting for the previous answer. That is how
 * separate phones behave; `outband authenticator watch` instead answers one request at a time
 * per process, as a person at one terminal would.
 *
 *   node_modules/.bin/node bench/push-authenticator.ts <key file>
 *
 * Prints the lines `outband authenticator watch` prints when stdout is not a terminal, for the
 * events the benchmark counts: `connected <device>`, `request <id>` (as it arrives), `approved <id>`,
 * `failed <id> <code>`.
 * Stops on SIGTERM.
 */
import { createDeviceClient } from '../src/authenticator/client.ts';
import { readKeyFile } from '../src/authenticator/key-file.ts';
import { errorCode } from '../src/authenticator/watch-format.ts';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: push-authenticator.ts <key file>\n');
  process.exit(2);
}
const { authenticators } = await readKeyFile(file);
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
process.once('SIGINT', () => stop.abort());

const out = (line: string) => process.stdout.write(`${line}\n`);

await Promise.all(
  authenticators.map(async (authenticator) => {
    const client = createDeviceClient(authenticator);
    const answered = new Set<string>();
    await client.stream({
      signal: stop.signal,
      onOpen: () => out(`connected ${client.deviceId}`),
      onRequest: (request) => {
        // A reconnect re-sends what is pending: answer each request once.
        if (answered.has(request.id)) return;
        answered.add(request.id);
        out(`request ${request.id}`);
        client.respond(request.id, { decision: 'approve', userVerification: 'pin' }).then(
          (result) => out(`${result.status} ${request.id}`),
          (error: unknown) => out(`failed ${request.id} ${errorCode(error)}`),
        );
      },
      onWithdrawn: (withdrawal) => answered.delete(withdrawal.id),
      onRevoked: () => out(`revoked ${client.deviceId}`),
      onError: (error, retryInMs) => out(`error ${client.deviceId} ${errorCode(error)} ${retryInMs ?? ''}`),
    });
  }),
);
