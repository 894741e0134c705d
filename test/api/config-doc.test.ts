// docs/config.md is generated from the configuration schema; it must not drift from it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configReference } from '../../src/config/config.ts';

test('docs/config.md is the generated configuration reference (regenerate: node bin/outband.js config docs > docs/config.md)', () => {
  const doc = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
  assert.equal(doc, configReference());
});
