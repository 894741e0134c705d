// docs/errors.md is the caller's reference of every error code: it must cover the registry in
// src/domain/errors.ts exactly, with the same status and title.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERRORS } from '../../src/domain/errors.ts';

interface Section {
  code: string;
  text: string;
}

function sections(): Section[] {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const parts = doc.split(/^### /m).slice(1);
  return parts.map((part) => {
    const newline = part.indexOf('\n');
    return { code: part.slice(0, newline).trim(), text: part.slice(newline + 1).split(/^## /m)[0] ?? '' };
  });
}

test('every code in ERRORS is documented in docs/errors.md', () => {
  const documented = new Set(sections().map((s) => s.code));
  const missing = Object.keys(ERRORS).filter((code) => !documented.has(code));
  assert.deepEqual(missing, [], `add a "### code" section to docs/errors.md for: ${missing.join(', ')}`);
});

test('every code documented in docs/errors.md exists in ERRORS, once', () => {
  const codes = sections().map((s) => s.code);
  const unknown = codes.filter((code) => !Object.hasOwn(ERRORS, code));
  assert.deepEqual(unknown, [], `docs/errors.md documents codes that do not exist: ${unknown.join(', ')}`);
  assert.deepEqual(codes.filter((code, i) => codes.indexOf(code) !== i), [], 'a code is documented twice');
});

test('each documented code has the status and title of the registry, and says when it happens and what to do', () => {
  for (const { code, text } of sections()) {
    const entry = ERRORS[code as keyof typeof ERRORS];
    if (entry === undefined) continue; // reported by the test above
    assert.match(text, new RegExp(`^- \\*\\*Status:\\*\\* ${entry.status}$`, 'm'), `${code}: status ${entry.status}`);
    const title = /^- \*\*Title:\*\* (.+)$/m.exec(text)?.[1];
    assert.equal(title, entry.title, `${code}: title`);
    assert.match(text, /\*\*When:\*\* \S/, `${code}: when it happens`);
    assert.match(text, /\*\*What to do:\*\* \S/, `${code}: what to do`);
  }
});
