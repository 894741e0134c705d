import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { ERRORS } from '../../src/domain/errors.ts';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  instance: string;
  [member: string]: unknown;
}

/** Text that would show internals leaking into an answer: stack frames, file paths, SQL errors. */
const INTERNALS = /\bat [\w.<>]+ \(|node:internal|\/src\/|\.ts:\d+|SQLITE_|syntax error at|violates|relation "|TypeError|ReferenceError|RangeError/;

/**
 * Asserts an RFC 9457 problem answer: the status, application/problem+json, the registry's
 * code and title, a non-empty detail, the request id as instance and in X-Request-Id, and no
 * internal text. Answers the body.
 */
export function assertProblem(res: LightMyRequestResponse, status: number, code?: string, context = ''): ProblemBody {
  const where = `${context ? `${context}: ` : ''}${res.statusCode} ${res.body.slice(0, 300)}`;
  assert.equal(res.statusCode, status, where);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/, where);
  const body = res.json() as ProblemBody;
  assert.equal(typeof body.code, 'string', where);
  assert.ok(Object.hasOwn(ERRORS, body.code), `${where}: code "${body.code}" is not in ERRORS`);
  if (code !== undefined) assert.equal(body.code, code, where);
  const entry = ERRORS[body.code as keyof typeof ERRORS];
  assert.equal(body.status, status, where);
  assert.equal(entry.status, status, `${where}: ERRORS.${body.code} has status ${entry.status}`);
  assert.equal(body.title, entry.title, where);
  assert.equal(body.type, `/errors/${body.code}`, where);
  assert.equal(typeof body.detail, 'string', where);
  assert.ok(body.detail.length > 0, `${where}: empty detail`);
  assert.equal(typeof body.instance, 'string', where);
  // docs/errors.md: `instance` is the request id, also in the X-Request-Id header.
  assert.equal(res.headers['x-request-id'], body.instance, `${where}: X-Request-Id is not the problem's instance`);
  assert.doesNotMatch(res.body, INTERNALS, `${where}: internal text in the answer`);
  return body;
}
