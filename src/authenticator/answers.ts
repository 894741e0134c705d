/**
 * What to answer to a request: read from what the user typed, or decided at once by
 * `--approve-all` / `--deny-all`. Pure functions; the watch command does the asking.
 */
import type { DeviceRequest } from './objects.ts';
import type { Decision } from './signing-input.ts';

export interface Answer {
  decision: Decision;
  /** The picked number (pick) or the typed code (type). */
  answer?: string;
}

export type AutoMode = 'approve-all' | 'deny-all';

export type AutoOutcome = { kind: 'answer'; answer: Answer } | { kind: 'skip'; why: 'pick' | 'type' };

/**
 * `--deny-all` denies everything. `--approve-all` approves `none` and `read_back` requests, but
 * skips `pick` and `type` (leaving them pending): it cannot know which number the relying party
 * shows or which code it displays, and a guess would defeat the matching.
 */
export function autoAnswer(request: Pick<DeviceRequest, 'matching'>, mode: AutoMode): AutoOutcome {
  if (mode === 'deny-all') return { kind: 'answer', answer: { decision: 'deny' } };
  if (request.matching === 'pick' || request.matching === 'type') return { kind: 'skip', why: request.matching };
  return { kind: 'answer', answer: { decision: 'approve' } };
}

/** The replies the prompt offers, as a short parseable list: `approve|deny|fraud`, `pick:07,42,91|deny|fraud`, `code|deny|fraud`. */
export function replyOptions(request: Pick<DeviceRequest, 'matching' | 'choices'>): string {
  switch (request.matching) {
    case 'pick':
      return `pick:${(request.choices ?? []).join(',')}|deny|fraud`;
    case 'type':
      return 'code|deny|fraud';
    default:
      return 'approve|deny|fraud';
  }
}

const DENY = new Set(['d', 'deny', 'n', 'no']);
const FRAUD = new Set(['f', 'fraud', 'report', 'report_fraud']);
const APPROVE = new Set(['a', 'approve', 'y', 'yes']);

/** Reads a typed reply; an error names what the prompt accepts. */
export function parseReply(request: Pick<DeviceRequest, 'matching' | 'choices'>, line: string): Answer | { error: string } {
  const text = line.trim().toLowerCase();
  if (DENY.has(text)) return { decision: 'deny' };
  if (FRAUD.has(text)) return { decision: 'report_fraud' };
  switch (request.matching) {
    case 'pick': {
      const choices = request.choices ?? [];
      const chosen = choices.find((c) => c === text) ?? (/^\d+$/.test(text) ? choices.find((c) => /^\d+$/.test(c) && Number(c) === Number(text)) : undefined);
      if (chosen !== undefined) return { decision: 'approve', answer: chosen };
      return { error: `type the number shown to you (one of ${choices.join(', ')}), d to deny or f to report fraud` };
    }
    case 'type': {
      const code = text.replace(/[\s-]/g, '');
      if (/^\d{6}$/.test(code)) return { decision: 'approve', answer: code };
      return { error: 'type the 6-digit code shown to you, d to deny or f to report fraud' };
    }
    default:
      if (APPROVE.has(text)) return { decision: 'approve' };
      return { error: 'type a to approve, d to deny or f to report fraud' };
  }
}
