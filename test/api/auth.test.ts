import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerToken, tokenMatches } from '../../src/api/auth.ts';

describe('tokenMatches', () => {
  it('accepts only the exact token', () => {
    assert.equal(tokenMatches('abc123', 'abc123'), true);
    assert.equal(tokenMatches('abc124', 'abc123'), false);
    assert.equal(tokenMatches('ABC123', 'abc123'), false);
    assert.equal(tokenMatches('', 'abc123'), false);
  });

  it('compares tokens of different lengths without throwing (both sides hashed before timingSafeEqual)', () => {
    assert.equal(tokenMatches('a', 'a much longer configured token'), false);
    assert.equal(tokenMatches('x'.repeat(10_000), 'short'), false);
  });

  it('takes about the same time for a near miss and a far miss', () => {
    const expected = 'k'.repeat(64);
    const nearMiss = `${'k'.repeat(63)}x`;
    const farMiss = `x${'k'.repeat(63)}`;
    const time = (presented: string) => {
      const started = process.hrtime.bigint();
      for (let i = 0; i < 20_000; i++) tokenMatches(presented, expected);
      return Number(process.hrtime.bigint() - started);
    };
    time(nearMiss); // warm up
    const near = Math.min(time(nearMiss), time(nearMiss), time(nearMiss));
    const far = Math.min(time(farMiss), time(farMiss), time(farMiss));
    // Coarse by design (shared CI cores): a naive early-exit compare would not be caught here,
    // but a gross leak (e.g. a per-character sleep) would. The constant-time part is timingSafeEqual.
    assert.ok(Math.abs(near - far) / Math.max(near, far) < 0.5, `near ${near} ns vs far ${far} ns`);
  });
});

describe('bearerToken', () => {
  it('reads Authorization: Bearer <token>', () => {
    assert.equal(bearerToken('Bearer abc.def-123'), 'abc.def-123');
    assert.equal(bearerToken('bearer   abc'), 'abc');
    assert.equal(bearerToken('Basic dXNlcjpwYXNz'), null);
    assert.equal(bearerToken('Bearer'), null);
    assert.equal(bearerToken('Bearer a b'), null);
    assert.equal(bearerToken(undefined), null);
    assert.equal(bearerToken(''), null);
  });
});
