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
