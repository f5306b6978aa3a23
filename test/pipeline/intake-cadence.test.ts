import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  nextCadence,
  PACED_MAX_BYTES_PER_SECOND,
  PACED_RESUME_BYTES_PER_SECOND,
  RateMeter,
} from '../../src/pipeline/intake-cadence.ts';

const quiet = { everyFrame: false, pipeWasFull: false };

describe('nextCadence', () => {
  it('reads every frame while a viewer needs it, or when the pipe filled up', () => {
    assert.equal(nextCadence('paced', { ...quiet, everyFrame: true, bytesPerSecond: 1000 }), 'frame');
    assert.equal(nextCadence('paced', { ...quiet, pipeWasFull: true, bytesPerSecond: 1000 }), 'frame');
  });

  it('reads on a timer only while the stream is slow enough, with hysteresis', () => {
    // A static desktop: ≈ 32 KB/s on average; a second with a 44 KB keyframe in it ≈ 52 KB.
    assert.equal(nextCadence('paced', { ...quiet, bytesPerSecond: 54_000 }), 'paced');
    assert.equal(nextCadence('frame', { ...quiet, bytesPerSecond: 32_000 }), 'paced');
    // Full motion at 2 Mbit/s: ≈ 245 KB/s, more than a timer carries.
    assert.equal(nextCadence('paced', { ...quiet, bytesPerSecond: 245_000 }), 'frame');
    const between = (PACED_MAX_BYTES_PER_SECOND + PACED_RESUME_BYTES_PER_SECOND) / 2;
    assert.equal(nextCadence('paced', { ...quiet, bytesPerSecond: between }), 'paced');
    assert.equal(nextCadence('frame', { ...quiet, bytesPerSecond: between }), 'frame');
  });

  it('keeps its cadence until a rate is known', () => {
    assert.equal(nextCadence('paced', { ...quiet, bytesPerSecond: null }), 'paced');
    assert.equal(nextCadence('frame', { ...quiet, bytesPerSecond: null }), 'frame');
  });

  it('never paces what a timer cannot carry: half of a 64 KiB pipe every 333 ms at most', () => {
    assert.ok(PACED_MAX_BYTES_PER_SECOND <= ((64 * 1024) / 0.333) * 0.5 + 1);
    assert.ok(PACED_RESUME_BYTES_PER_SECOND < PACED_MAX_BYTES_PER_SECOND);
  });
});

describe('RateMeter', () => {
  it('gives the rate of each window of at least a second, once it has ended', () => {
    const meter = new RateMeter(0);
    meter.add(10_000, 400);
    assert.equal(meter.bytesPerSecond, null);
    meter.add(10_000, 1250);
    assert.equal(meter.bytesPerSecond, 16_000);
    meter.add(3_000, 2000);
    assert.equal(meter.bytesPerSecond, 16_000, 'the next window has not ended');
    meter.add(0, 2250);
    assert.equal(meter.bytesPerSecond, 3_000);
  });
});
