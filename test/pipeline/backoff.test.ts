import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff, SlidingWindow } from '../../src/pipeline/backoff.ts';

describe('Backoff', () => {
  it('restarts fast first, then doubles up to restart_delay', () => {
    const backoff = new Backoff({ firstDelaySeconds: 0.5, maxDelaySeconds: 10, healthyAfterSeconds: 60 });
    const delays = Array.from({ length: 7 }, () => backoff.nextDelaySeconds());
    assert.deepEqual(delays, [0.5, 1, 2, 4, 8, 10, 10]);
  });

  it('a long healthy run resets it; a short one does not', () => {
    const backoff = new Backoff({ firstDelaySeconds: 0.5, maxDelaySeconds: 60, healthyAfterSeconds: 60 });
    backoff.nextDelaySeconds();
    backoff.nextDelaySeconds();
    backoff.noteHealthy(10);
    assert.equal(backoff.nextDelaySeconds(), 2);
    backoff.noteHealthy(61);
    assert.equal(backoff.nextDelaySeconds(), 0.5);
  });
});

describe('SlidingWindow', () => {
  it('counts only events inside the window', () => {
    const window = new SlidingWindow(10);
    assert.equal(window.add(0), 1);
    assert.equal(window.add(5_000), 2);
    assert.equal(window.add(10_001), 2);
    assert.equal(window.count(30_000), 0);
  });
});
