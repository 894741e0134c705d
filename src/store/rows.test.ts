// Settings saved before a field existed must read back with that field's default, at any depth.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSettings } from '../domain/application.ts';
import { toApplication } from './rows.ts';

const row = (settings: unknown) => ({ id: 'app_x', name: 'x', plan: 'trial', settings: JSON.stringify(settings), created_at: 0, version: 3 });

test('an old row gains new defaults, nested ones (fraud) included, and keeps what it saved', () => {
  const app = toApplication(row({ ttlSeconds: 300, fraud: { authenticatorFailureCap: 7, recipientFailures: { max: 4 } } }));
  const defaults = defaultSettings();
  assert.equal(app.settings.ttlSeconds, 300);
  assert.equal(app.settings.fraud.authenticatorFailureCap, 7);
  assert.deepEqual(app.settings.fraud.recipientFailures, { ...defaults.fraud.recipientFailures, max: 4 });
  assert.deepEqual(app.settings.fraud.pushCooldown, defaults.fraud.pushCooldown);
  assert.deepEqual(app.settings.push, defaults.push);
  assert.equal(app.settings.enabled, true);
  assert.equal(app.version, 3);
});

test('a channel absent from a saved channel map stays absent: off, not the default', () => {
  const app = toApplication(row({ providers: { sms: 'outbox' }, usageLimits: { sms: { used: 3, unused: 2 } } }));
  assert.deepEqual(app.settings.providers, { sms: 'outbox' });
  assert.deepEqual(app.settings.usageLimits, { sms: { used: 3, unused: 2 } });
});
