import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyAddress, isAllowedTarget, refusedAddress, urlProblem } from './ssrf.ts';

describe('webhook SSRF classification (SEC-42)', () => {
  const cases: Array<[string, string]> = [
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['169.254.10.1', 'link_local'],
    ['fe80::1', 'link_local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:10.0.0.5', 'private'],
    ['64:ff9b::a00:5', 'private'],
    ['[::1]', 'loopback'],
    ['fe80::1%eth0', 'link_local'],
    ['93.184.216.34', 'public'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['2606:4700::1111', 'public'],
    ['::ffff:93.184.216.34', 'public'],
    ['example.com', 'invalid'],
  ];
  for (const [address, expected] of cases) {
    test(`SEC-42: ${address} is ${expected}`, () => assert.equal(classifyAddress(address), expected));
  }

  test('SEC-42: only public addresses are allowed; the development setting adds loopback and nothing else', () => {
    assert.ok(isAllowedTarget('public', { allowLoopback: false }));
    assert.ok(!isAllowedTarget('loopback', { allowLoopback: false }));
    assert.ok(isAllowedTarget('loopback', { allowLoopback: true }));
    for (const cls of ['private', 'link_local', 'metadata', 'unspecified', 'shared', 'multicast', 'reserved', 'invalid'] as const) {
      assert.ok(!isAllowedTarget(cls, { allowLoopback: true }), cls);
    }
  });

  test('SEC-42: one refused address among a name\'s addresses refuses the name', () => {
    assert.deepEqual(refusedAddress(['93.184.216.34', '10.0.0.5'], { allowLoopback: false }), { address: '10.0.0.5', class: 'private' });
    assert.equal(refusedAddress(['93.184.216.34'], { allowLoopback: false }), null);
  });

  test('SEC-42: https is required unless the development setting allows http; no credentials in the URL', () => {
    assert.equal(urlProblem('https://hooks.example.com/x', { allowInsecure: false }), null);
    assert.ok(urlProblem('http://hooks.example.com/x', { allowInsecure: false }));
    assert.equal(urlProblem('http://hooks.example.com/x', { allowInsecure: true }), null);
    assert.ok(urlProblem('ftp://hooks.example.com/x', { allowInsecure: true }));
    assert.ok(urlProblem('https://user:pw@hooks.example.com/x', { allowInsecure: false }));
    assert.ok(urlProblem('not a url', { allowInsecure: false }));
  });
});
