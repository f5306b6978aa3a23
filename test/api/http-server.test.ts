import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackAddress, parseOpenFilesLimit } from '../../src/api/http-server.ts';

describe('isLoopbackAddress (exempt from the per-client connection cap)', () => {
  it('is true for 127.0.0.1 and ::1 (and the IPv4-mapped form)', () => {
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      assert.equal(isLoopbackAddress(address), true, address);
    }
  });
  it('is false for the rest of 127.0.0.0/8, LAN and other addresses, and look-alikes', () => {
    for (const address of [
      '192.168.1.20',
      '10.0.0.1',
      '::ffff:192.168.1.20',
      'fe80::1',
      '1127.0.0.1',
      'unknown',
      '',
    ]) {
      assert.equal(isLoopbackAddress(address), false, address);
    }
  });
});

describe('parseOpenFilesLimit', () => {
  it('reads the soft limit, null when unlimited or absent', () => {
    const text =
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n';
    assert.equal(parseOpenFilesLimit(text), 1024);
    assert.equal(parseOpenFilesLimit(text.replace('1024 ', 'unlimited ')), null);
    assert.equal(parseOpenFilesLimit(''), null);
  });
});
