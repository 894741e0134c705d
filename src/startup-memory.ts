import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Gives back the memory the start itself used (ADR 0021). Loading ~1,900 modules, compiling
 * the routes' schemas and migrating allocate fast enough that V8 grows its young generation to
 * the largest size (64 MiB here) and keeps it: only a memory-reducing collection shrinks it,
 * and an idle server never reaches one. One such collection once the server listens leaves the
 * young generation at 1 MiB and returns the freed old-generation pages; under load V8 grows it
 * again as it needs. It costs one full collection before the server listens (about 65 ms here).
 *
 * The collector is reached the way Node documents for `--expose-gc`, switched on only long
 * enough to take `gc` from a new context, so no code in the process ever sees a global `gc`.
 */
export function releaseStartupMemory(): void {
  setFlagsFromString('--expose-gc');
  let gc: ((options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void) | undefined;
  try {
    gc = runInNewContext('gc') as typeof gc;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
