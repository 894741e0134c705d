import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Paths that may hold a secret if an object carrying one is ever logged. Nothing logs a
 * code, secret or token on purpose; this is the second line of defence, and a test greps a
 * full run's log output for codes and secrets to hold the first.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'code',
  '*.code',
  'client_secret',
  '*.client_secret',
  'access_token',
  '*.access_token',
  'secret',
  '*.secret',
  'password',
  '*.password',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination === undefined ? pino(options) : pino(options, destination);
}
