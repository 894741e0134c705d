/**
 * The watch loop's printing and asking on a real terminal (a prompt with a live countdown that
 * output never tramples) or on plain pipes (one line per event; replies read line by line).
 */
import { createInterface, type Interface } from 'node:readline';
import type { WatchIo } from './watch.ts';
import { human, plain } from './watch-format.ts';

export interface TerminalIo extends WatchIo {
  /** Stops reading input, so the process can exit. */
  close(): void;
}

interface Streams {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
  /** Called on Ctrl-C typed at the prompt (readline takes it from the process in raw mode). */
  onInterrupt(): void;
  /** False for --approve-all / --deny-all: stdin is then left alone. */
  interactive: boolean;
  now?: () => number;
}

const CLEAR_LINE = '\r\x1b[2K';

/** A TTY on both ends gets the human form; anything else the plain one. */
export function createTerminalIo(streams: Streams): TerminalIo {
  const tty = streams.input.isTTY === true && streams.output.isTTY === true;
  const now = streams.now ?? Date.now;
  return tty && streams.interactive ? ttyIo(streams, now) : pipeIo(streams, now);
}

function ttyIo(streams: Streams, now: () => number): TerminalIo {
  const rl: Interface = createInterface({ input: streams.input, output: streams.output, terminal: true });
  rl.on('SIGINT', streams.onInterrupt);
  let asking = false;
  let closed = false;
  rl.on('close', () => (closed = true));
  return {
    format: human,
    now,
    print(text) {
      if (!asking) return void streams.output.write(text);
      streams.output.write(CLEAR_LINE + text);
      rl.prompt(true);
    },
    ask(prompt, signal) {
      if (closed || signal.aborted) return Promise.resolve(null);
      return new Promise((resolve) => {
        asking = true;
        rl.setPrompt(prompt());
        rl.prompt();
        const tick = setInterval(() => {
          rl.setPrompt(prompt());
          rl.prompt(true);
        }, 1000);
        const done = (line: string | null) => {
          clearInterval(tick);
          asking = false;
          rl.off('line', onLine);
          rl.off('close', onClose);
          signal.removeEventListener('abort', onAbort);
          resolve(line);
        };
        const onLine = (line: string) => done(line);
        const onClose = () => done(null);
        const onAbort = () => {
          // Drop what was typed so far, and the prompt with it.
          rl.write(null, { ctrl: true, name: 'e' });
          rl.write(null, { ctrl: true, name: 'u' });
          streams.output.write(CLEAR_LINE);
          done(null);
        };
        rl.on('line', onLine);
        rl.once('close', onClose);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    close() {
      rl.close();
    },
  };
}

function pipeIo(streams: Streams, now: () => number): TerminalIo {
  const format = streams.output.isTTY === true ? human : plain;
  const print = (text: string) => void streams.output.write(text);
  if (!streams.interactive) return { format, now, print, ask: () => Promise.resolve(null), close() {} };
  const rl = createInterface({ input: streams.input, terminal: false });
  // Lines typed before the question are kept: a script may answer ahead.
  const lines: string[] = [];
  let ended = false;
  let waiting: ((line: string | null) => void) | null = null;
  rl.on('line', (line) => (waiting !== null ? waiting(line) : lines.push(line)));
  rl.on('close', () => {
    ended = true;
    waiting?.(null);
  });
  return {
    format,
    now,
    print,
    ask(prompt, signal) {
      if (signal.aborted) return Promise.resolve(null);
      print(format === plain ? prompt() : `${prompt()}\n`);
      if (lines.length > 0) return Promise.resolve(lines.shift() as string);
      if (ended) return Promise.resolve(null);
      return new Promise((resolve) => {
        const done = (line: string | null) => {
          waiting = null;
          signal.removeEventListener('abort', onAbort);
          resolve(line);
        };
        const onAbort = () => done(null);
        waiting = done;
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    close() {
      rl.close();
    },
  };
}
