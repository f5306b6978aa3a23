import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { framesPerPart, lowLatencyTiming, nominalPartSeconds } from '../../src/hls/low-latency.ts';

const RATES = [1, 5, 15, 30, 60];

describe('Low-Latency HLS timing', () => {
  test('framesPerPart: about 200 ms of video, at least one frame', () => {
    assert.deepEqual(RATES.map(framesPerPart), [1, 1, 3, 6, 12]);
    assert.equal(framesPerPart(24), 5);
    assert.equal(framesPerPart(25), 5);
    assert.equal(framesPerPart(2), 1);
  });

  test('nominalPartSeconds: whole frames, 200 ms where the rate allows it', () => {
    assert.equal(nominalPartSeconds(1), 1);
    for (const fps of [5, 15, 30, 60, 25, 10]) {
      assert.ok(Math.abs(nominalPartSeconds(fps) - 0.2) < 1e-12, `${fps} fps: ${nominalPartSeconds(fps)}`);
    }
    assert.ok(Math.abs(nominalPartSeconds(24) - 5 / 24) < 1e-12);
  });

  test('exact PART-TARGET and PART-HOLD-BACK for the usual rates (millisecond precision, rounded up)', () => {
    assert.deepEqual(lowLatencyTiming(1), { partTargetSeconds: 1.001, partHoldBackSeconds: 3.003 });
    assert.deepEqual(lowLatencyTiming(5), { partTargetSeconds: 0.201, partHoldBackSeconds: 0.603 });
    assert.deepEqual(lowLatencyTiming(15), { partTargetSeconds: 0.201, partHoldBackSeconds: 0.603 });
    assert.deepEqual(lowLatencyTiming(24), { partTargetSeconds: 0.209, partHoldBackSeconds: 0.627 });
    assert.deepEqual(lowLatencyTiming(30), { partTargetSeconds: 0.201, partHoldBackSeconds: 0.603 });
    assert.deepEqual(lowLatencyTiming(60), { partTargetSeconds: 0.201, partHoldBackSeconds: 0.603 });
  });

  for (const fps of [...RATES, 10, 24, 25, 50]) {
    test(`${fps} fps: nominal part within [85 %, 100 %] of PART-TARGET (RFC 8216bis §4.4.4.9), PART-HOLD-BACK ≥ 2 × PART-TARGET`, () => {
      const { partTargetSeconds, partHoldBackSeconds } = lowLatencyTiming(fps);
      const nominal = nominalPartSeconds(fps);
      // A part one 90 kHz tick longer than nominal, written with three decimals, still fits.
      assert.ok(
        Number((nominal + 1 / 90_000).toFixed(3)) <= partTargetSeconds,
        `target ${partTargetSeconds}`,
      );
      assert.ok(nominal >= 0.85 * partTargetSeconds, `nominal ${nominal} vs target ${partTargetSeconds}`);
      // Not more than a millisecond and a half of rounding above it.
      assert.ok(partTargetSeconds <= nominal + 0.0015);
      assert.ok(partHoldBackSeconds >= 2 * partTargetSeconds, `hold back ${partHoldBackSeconds}`);
      // RFC 8216bis recommends three part targets: exactly that, at millisecond precision.
      assert.ok(Math.abs(partHoldBackSeconds - 3 * partTargetSeconds) < 0.0005);
      // Both print exactly with three decimals (the playlist writes them with toFixed(3)).
      assert.equal(Number(partTargetSeconds.toFixed(3)), partTargetSeconds);
      assert.equal(Number(partHoldBackSeconds.toFixed(3)), partHoldBackSeconds);
      // A low-latency part is shorter than a 2 s segment would be (except at very low rates).
      if (fps >= 5) assert.ok(partTargetSeconds < 1);
    });
  }
});
