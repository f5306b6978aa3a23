/**
 * RtpClock with a hand-driven wall clock: within a run the RTP timestamp is the PTS moved to the
 * run's base; a new run continues after the last timestamp by the wall-clock time that passed
 * (90 kHz), never backwards; everything modulo 2^32.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RTP_VIDEO_CLOCK_HZ, RtpClock } from '../../src/webrtc/rtp-clock.ts';

const U32 = 2 ** 32;
const FRAME = 6000; // 15 fps at 90 kHz

/** A wall clock the test moves by hand (ms). */
function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let ms = start;
  return {
    now: () => ms,
    advance: (by) => {
      ms += by;
    },
  };
}

/** Forward distance from a to b in RTP (modulo 2^32) arithmetic. */
const forward = (a: number, b: number): number => (b - a + U32) % U32;

describe('RtpClock', () => {
  test('the video clock is 90 kHz', () => {
    assert.equal(RTP_VIDEO_CLOCK_HZ, 90_000);
  });

  test('the first frame gets the initial timestamp; later frames follow the PTS exactly', () => {
    const wall = fakeClock();
    const clock = new RtpClock(1_000, wall.now);
    const firstPts = 123_456_789;
    const stamps = [0, 1, 2, 3, 10].map((n) => {
      wall.advance(67); // the wall clock does not matter within a run
      return clock.timestampOf(firstPts + n * FRAME);
    });
    assert.deepEqual(stamps, [
      1_000,
      1_000 + FRAME,
      1_000 + 2 * FRAME,
      1_000 + 3 * FRAME,
      1_000 + 10 * FRAME,
    ]);
  });

  test('uneven PTS steps are kept as they are (no rounding to a frame rate)', () => {
    const clock = new RtpClock(0, fakeClock().now);
    assert.deepEqual(
      [500, 501, 3500, 3499 + 6001, 20_000].map((pts) => clock.timestampOf(pts)),
      [0, 1, 3000, 9000, 19_500],
    );
  });

  test("a PTS before the run's first one is held at the run's base, not sent backwards", () => {
    const clock = new RtpClock(50_000, fakeClock().now);
    assert.equal(clock.timestampOf(90_000), 50_000);
    assert.equal(clock.timestampOf(80_000), 50_000);
  });

  test('a new run continues from the last timestamp plus the wall-clock time that passed, at 90 kHz', () => {
    const wall = fakeClock();
    const clock = new RtpClock(10_000, wall.now);
    clock.timestampOf(900_000);
    const last = clock.timestampOf(900_000 + 4 * FRAME);
    assert.equal(last, 10_000 + 4 * FRAME);
    wall.advance(2_500);
    clock.newRun();
    // The new pipeline's PTS start over (much lower than the old run's).
    const first = clock.timestampOf(3_600);
    assert.equal(first, last + 2.5 * 90_000);
    assert.equal(clock.timestampOf(3_600 + FRAME), first + FRAME);
    assert.equal(clock.timestampOf(3_600 + 7 * FRAME), first + 7 * FRAME);
  });

  test('the pause is counted from the last frame sent, not from newRun()', () => {
    const wall = fakeClock();
    const clock = new RtpClock(0, wall.now);
    const last = clock.timestampOf(0);
    wall.advance(1_000);
    clock.newRun();
    wall.advance(500); // e.g. waiting for the new run's keyframe
    assert.equal(clock.timestampOf(42), last + 1.5 * 90_000);
  });

  test('fractions of a tick are rounded to the nearest tick', () => {
    const wall = fakeClock();
    const clock = new RtpClock(0, wall.now);
    clock.timestampOf(0);
    wall.advance(0.01); // 0.9 ticks
    clock.newRun();
    assert.equal(clock.timestampOf(0), 1);
    wall.advance(10.004); // 900.36 ticks
    clock.newRun();
    assert.equal(clock.timestampOf(0), 1 + 900);
  });

  test('never backwards: no wall time passed, or the wall clock stepped back, still moves on by at least 1', () => {
    const wall = fakeClock();
    const clock = new RtpClock(777, wall.now);
    let last = clock.timestampOf(5_000_000);
    clock.newRun();
    let next = clock.timestampOf(5_000_000);
    assert.equal(next, last + 1, 'same PTS, no time passed');
    last = clock.timestampOf(5_000_000 + FRAME);
    wall.advance(-60_000);
    clock.newRun();
    next = clock.timestampOf(0);
    assert.equal(next, last + 1, 'the wall clock stepped back a minute');
  });

  test('many short runs with falling PTS: every timestamp is after the one before', () => {
    const wall = fakeClock();
    const clock = new RtpClock(0, wall.now);
    let previous = -1;
    for (let run = 0; run < 20; run++) {
      clock.newRun();
      const base = 10_000_000 - run * 400_000;
      for (let frame = 0; frame < 5; frame++) {
        const timestamp = clock.timestampOf(base + frame * FRAME);
        assert.ok(timestamp > previous, `run ${run} frame ${frame}: ${timestamp} after ${previous}`);
        previous = timestamp;
        wall.advance(frame === 4 ? run * 7 : 66);
      }
    }
  });

  test('newRun() before the first frame, or twice in a row, changes nothing', () => {
    const wall = fakeClock();
    const clock = new RtpClock(99, wall.now);
    clock.newRun();
    assert.equal(clock.timestampOf(1234), 99);
    wall.advance(100);
    clock.newRun();
    clock.newRun();
    assert.equal(clock.timestampOf(0), 99 + 9_000);
  });

  test('the initial timestamp is taken modulo 2^32', () => {
    assert.equal(new RtpClock(U32 + 12, fakeClock().now).timestampOf(0), 12);
    assert.equal(new RtpClock(-1, fakeClock().now).timestampOf(0), U32 - 1);
  });

  test('timestamps wrap at 2^32 within a run and keep their spacing', () => {
    const clock = new RtpClock(U32 - 2 * FRAME, fakeClock().now);
    const stamps = [0, 1, 2, 3].map((n) => clock.timestampOf(n * FRAME));
    assert.deepEqual(stamps, [U32 - 2 * FRAME, U32 - FRAME, 0, FRAME]);
    assert.ok(stamps.every((stamp) => Number.isInteger(stamp) && stamp >= 0 && stamp < U32));
  });

  test('a new run after the wrap continues modulo 2^32, and a long run wraps more than once', () => {
    const wall = fakeClock();
    const clock = new RtpClock(U32 - 100, wall.now);
    const last = clock.timestampOf(0);
    wall.advance(1_000);
    clock.newRun();
    const first = clock.timestampOf(10);
    assert.equal(first, 90_000 - 100);
    assert.equal(forward(last, first), 90_000);
    const later = clock.timestampOf(10 + 3 * U32 + 5);
    assert.equal(later, first + 5);
    wall.advance(1);
    clock.newRun();
    assert.equal(forward(later, clock.timestampOf(0)), 90);
  });
});
