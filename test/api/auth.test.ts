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
    const batch = (presented: string) => {
      const started = process.hrtime.bigint();
      for (let i = 0; i < 2000; i++) tokenMatches(presented, expected);
      return Number(process.hrtime.bigint() - started);
    };
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    batch(nearMiss); // warm up
    const near: number[] = [];
    const far: number[] = [];
    // Interleaved batches, compared by median, so load from other processes hits both alike.
    for (let round = 0; round < 41; round++) {
      near.push(batch(nearMiss));
      far.push(batch(farMiss));
    }
    const [a, b] = [median(near), median(far)];
    // Coarse by design (shared CI cores): it catches a gross leak (e.g. work per matching
    // character), not nanosecond differences; the constant-time part is crypto.timingSafeEqual.
    assert.ok(Math.max(a, b) / Math.min(a, b) < 1.5, `near ${a} ns vs far ${b} ns per 2000 compares`);
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
