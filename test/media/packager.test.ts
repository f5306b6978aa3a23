import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { framesPerPart, lowLatencyTiming, nominalPartSeconds } from '../../src/hls/low-latency.ts';
import { type MediaPart, PartPackager } from '../../src/media/packager.ts';
import type { TsFrame } from '../../src/media/ts-frame-splitter.ts';

const HZ = 90_000;

/** Frame `index` of a stream: data names it, PTS from the frame rate (+ jitter), keyframe by rule. */
function frame(index: number, fps: number, keyframe: boolean, jitter = 0, base = 0): TsFrame {
  return {
    data: Buffer.from(`f${index};`),
    pts: base + Math.round((index * HZ) / fps) + jitter,
    keyframe,
  };
}

function stream(count: number, fps: number, isKey: (index: number) => boolean, base = 0): TsFrame[] {
  return Array.from({ length: count }, (_, index) => frame(index, fps, isKey(index), 0, base));
}

function packager(fps: number, segmentTargetSeconds = 2): PartPackager {
  return new PartPackager({
    partTargetSeconds: nominalPartSeconds(fps),
    segmentTargetSeconds,
    frameSeconds: 1 / fps,
  });
}

function pushAll(p: PartPackager, frames: TsFrame[]): MediaPart[] {
  return frames.flatMap((f) => p.push(f));
}

/** The frame indexes a part holds (from the data the test gave each frame). */
function indexesOf(part: MediaPart): number[] {
  return [...part.data.toString().matchAll(/f(\d+);/g)].map((match) => Number(match[1]));
}

/** Segments as lists of parts, from the startsSegment/endsSegment flags (checked to be consistent). */
function segmentsOf(parts: MediaPart[]): MediaPart[][] {
  const segments: MediaPart[][] = [];
  let current: MediaPart[] | null = null;
  for (const part of parts) {
    if (part.startsSegment) {
      assert.equal(current, null, 'a segment starts before the previous one ended');
      current = [];
    }
    assert.ok(current, 'a part outside any segment');
    current.push(part);
    if (part.endsSegment) {
      segments.push(current);
      current = null;
    }
  }
  if (current) segments.push(current);
  return segments;
}

function seconds(parts: MediaPart[]): number {
  return parts.reduce((sum, part) => sum + part.durationSeconds, 0);
}

const close = (actual: number, expected: number, message?: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${message ?? ''} ${actual} ≠ ${expected}`);

describe('PartPackager', () => {
  test('15 fps, keyframe every 1 s, 2 s segments: 200 ms parts of 3 frames, segments of 2 s', () => {
    const p = packager(15);
    const parts = pushAll(
      p,
      stream(91, 15, (i) => i % 15 === 0),
    );
    // 90 frames are complete parts (the part opened by frame 90 is still open).
    assert.equal(parts.length, 30);
    for (const [index, part] of parts.entries()) {
      assert.equal(part.frames, 3, `part ${index}`);
      assert.deepEqual(indexesOf(part), [3 * index, 3 * index + 1, 3 * index + 2]);
      close(part.durationSeconds, 0.2, `part ${index}`);
      assert.equal(part.firstPts, Math.round((3 * index * HZ) / 15));
      // Independent exactly at every keyframe (every 5th part: 1 s).
      assert.equal(part.independent, index % 5 === 0, `part ${index} independent`);
      // Segments: parts 0-9, 10-19, 20-29.
      assert.equal(part.startsSegment, index % 10 === 0, `part ${index} startsSegment`);
      assert.equal(part.endsSegment, index % 10 === 9, `part ${index} endsSegment`);
    }
    const segments = segmentsOf(parts);
    assert.equal(segments.length, 3);
    for (const segment of segments) {
      close(seconds(segment), 2);
      // The 1 s keyframe opens an independent part in the middle of the segment.
      assert.deepEqual(
        segment.map((part) => part.independent),
        [true, false, false, false, false, true, false, false, false, false],
      );
    }
  });

  test('a part is handed out the moment the frame after it arrives', () => {
    const p = packager(15);
    const frames = stream(7, 15, (i) => i === 0);
    assert.deepEqual(p.push(frames[0]!), []);
    assert.deepEqual(p.push(frames[1]!), []);
    assert.deepEqual(p.push(frames[2]!), []);
    const out = p.push(frames[3]!);
    assert.equal(out.length, 1);
    assert.deepEqual(indexesOf(out[0]!), [0, 1, 2]);
  });

  test('a part is always cut before a keyframe, even a short one', () => {
    // Keyframe every 10 frames at 15 fps: parts [0-2] [3-5] [6-8] [9] [10-12] …
    const p = packager(15, 100);
    const parts = pushAll(
      p,
      stream(21, 15, (i) => i % 10 === 0),
    );
    assert.deepEqual(parts.map(indexesOf), [
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
      [9],
      [10, 11, 12],
      [13, 14, 15],
      [16, 17, 18],
      [19],
    ]);
    close(parts[3]!.durationSeconds, 1 / 15);
    assert.deepEqual(
      parts.map((part) => part.independent),
      [true, false, false, false, true, false, false, false],
    );
    for (const part of parts) {
      // No keyframe inside a part: only its first frame may be one.
      for (const index of indexesOf(part).slice(1))
        assert.notEqual(index % 10, 0, `keyframe ${index} inside a part`);
    }
  });

  test('frames before the first keyframe are dropped', () => {
    const p = packager(15);
    const frames = stream(20, 15, (i) => i === 5);
    for (const f of frames.slice(0, 5)) assert.deepEqual(p.push(f), []);
    const parts = pushAll(p, frames.slice(5));
    assert.equal(parts[0]!.firstPts, frames[5]!.pts);
    assert.deepEqual(indexesOf(parts[0]!), [5, 6, 7]);
    assert.equal(parts[0]!.independent, true);
    assert.equal(parts[0]!.startsSegment, true);
    assert.ok(parts.every((part) => indexesOf(part).every((index) => index >= 5)));
  });

  test('nothing but non-keyframes: no parts, flush() has nothing', () => {
    const p = packager(15);
    assert.deepEqual(
      pushAll(
        p,
        stream(30, 15, () => false),
      ),
      [],
    );
    assert.equal(p.flush(), null);
  });

  test('a segment ends only at a keyframe at/after the segment target; an earlier keyframe opens an independent part', () => {
    // Keyframes at 0, 28 (1.867 s: too early for a 2 s segment) and 30 (2 s).
    const p = packager(15);
    const keys = new Set([0, 28, 30, 60]);
    const parts = pushAll(
      p,
      stream(61, 15, (i) => keys.has(i)),
    );
    const segments = segmentsOf(parts);
    assert.deepEqual(
      segments.map((segment) => indexesOf(segment[0]!)[0]),
      [0, 30],
    );
    close(seconds(segments[0]!), 2);
    close(seconds(segments[1]!), 2);
    const at28 = parts.find((part) => indexesOf(part)[0] === 28)!;
    assert.equal(at28.independent, true);
    assert.equal(at28.startsSegment, false);
    assert.deepEqual(indexesOf(at28), [28, 29]);
    // The part before the keyframe at 28 was cut short: [27].
    assert.ok(parts.some((part) => indexesOf(part).join() === '27'));
  });

  test('the segment target is met less half a frame: a keyframe 0.4 frame early cuts, 0.6 frame early does not', () => {
    const fps = 15;
    const tick = HZ / fps;
    const run = (earlyBy: number): number[] => {
      const p = packager(fps);
      const frames = stream(61, fps, (i) => i === 0 || i === 30 || i === 45 || i === 60);
      frames[30] = { ...frames[30]!, pts: frames[30]!.pts - earlyBy * tick };
      return segmentsOf(pushAll(p, frames)).map((segment) => indexesOf(segment[0]!)[0]!);
    };
    assert.deepEqual(run(0.4), [0, 30]);
    assert.deepEqual(run(0.6), [0, 45]);
  });

  test('timestamp jitter (PTS off by ±1 tick, as mpegtsmux rounds) never pushes a cut one GOP later', () => {
    const fps = 15;
    const p = packager(fps);
    const jitter = [0, -1, -1, 0, 1, -1];
    const frames = Array.from({ length: 121 }, (_, i) =>
      frame(i, fps, i % 15 === 0, jitter[i % jitter.length]),
    );
    const parts = pushAll(p, frames);
    const segments = segmentsOf(parts);
    assert.equal(segments.length, 4);
    for (const segment of segments) {
      assert.equal(
        segment.reduce((sum, part) => sum + part.frames, 0),
        30,
      );
      assert.ok(Math.abs(seconds(segment) - 2) < 3 / HZ);
    }
  });

  test('a late keyframe makes a longer segment, and the next one starts at it', () => {
    // GOP of 15 frames, but the keyframe at 30 never came: the segment runs to the keyframe at 45.
    const p = packager(15);
    const keys = new Set([0, 15, 45, 60, 75, 90]);
    const parts = pushAll(
      p,
      stream(106, 15, (i) => keys.has(i)),
    );
    const segments = segmentsOf(parts);
    close(seconds(segments[0]!), 3);
    assert.equal(indexesOf(segments[1]![0]!)[0], 45);
    close(seconds(segments[1]!), 2);
    assert.equal(segments[1]![0]!.firstPts, Math.round((45 * HZ) / 15));
  });

  test('durations come from the PTS, not from frame counts', () => {
    // A frame is missing (index 4): the part from frame 3 is [3, 5], cut when frame 6 is 0.2 s after it.
    const p = packager(15);
    const frames = stream(12, 15, (i) => i === 0).filter((f) => f.data.toString() !== 'f4;');
    const parts = pushAll(p, frames);
    assert.deepEqual(parts.map(indexesOf).slice(0, 3), [
      [0, 1, 2],
      [3, 5],
      [6, 7, 8],
    ]);
    close(parts[1]!.durationSeconds, 0.2);
    // Irregular PTS: the duration is the distance to the next part's first frame.
    const q = packager(15);
    const irregular: TsFrame[] = [
      { data: Buffer.from('f0;'), pts: 1000, keyframe: true },
      { data: Buffer.from('f1;'), pts: 7000, keyframe: false },
      { data: Buffer.from('f2;'), pts: 13_001, keyframe: false },
      { data: Buffer.from('f3;'), pts: 18_999, keyframe: false },
      { data: Buffer.from('f4;'), pts: 25_000, keyframe: false },
    ];
    const out = pushAll(q, irregular);
    assert.equal(out.length, 1);
    close(out[0]!.durationSeconds, 17_999 / HZ);
  });

  test('flush() returns the open part with endsSegment and duration = span + one frame', () => {
    const p = packager(15);
    const frames = stream(35, 15, (i) => i % 15 === 0);
    const parts = pushAll(p, frames);
    // Frames 33 and 34 are open.
    assert.deepEqual(indexesOf(parts.at(-1)!), [30, 31, 32]);
    const last = p.flush();
    assert.ok(last);
    assert.deepEqual(indexesOf(last), [33, 34]);
    assert.equal(last.endsSegment, true);
    assert.equal(last.startsSegment, false);
    assert.equal(last.independent, false);
    assert.equal(last.frames, 2);
    assert.equal(last.firstPts, frames[33]!.pts);
    close(last.durationSeconds, (frames[34]!.pts - frames[33]!.pts) / HZ + 1 / 15);
    // The segment that flush() closed: parts from the keyframe at 30.
    const segments = segmentsOf([...parts, last]);
    close(seconds(segments.at(-1)!), 5 / 15);
    assert.equal(p.flush(), null, 'nothing left after a flush');
  });

  test('flush() of a lone keyframe: one part that starts and ends its segment and lasts one frame', () => {
    const p = packager(30);
    p.push(frame(0, 30, true));
    const last = p.flush();
    assert.ok(last);
    assert.equal(last.startsSegment, true);
    assert.equal(last.endsSegment, true);
    assert.equal(last.independent, true);
    close(last.durationSeconds, 1 / 30);
  });

  test('after flush() a new run needs a keyframe again, and its segment starts fresh', () => {
    const p = packager(15);
    pushAll(
      p,
      stream(20, 15, (i) => i % 15 === 0),
    );
    assert.ok(p.flush());
    // The next run: a new PTS base, frames before its first keyframe dropped.
    const base = 10 * HZ;
    const next = stream(40, 15, (i) => i === 2 || i === 32, base);
    const parts = pushAll(p, next);
    assert.equal(parts[0]!.firstPts, next[2]!.pts);
    assert.equal(parts[0]!.startsSegment, true);
    const segments = segmentsOf(parts);
    // Its first segment is measured from its own first keyframe: 30 frames → 2 s.
    close(seconds(segments[0]!), 2);
  });

  test('all durations of a segment add up to the PTS distance between its keyframes', () => {
    const p = packager(30);
    const keys = new Set([0, 45, 70, 130, 200]);
    const frames = stream(201, 30, (i) => keys.has(i));
    const parts = pushAll(p, frames);
    const segments = segmentsOf(parts);
    // 45 (1.5 s) and 70 (2.33 s) are keyframes: 70 is the first at/after 2 s - 1/60.
    assert.deepEqual(
      segments.map((segment) => indexesOf(segment[0]!)[0]),
      [0, 70, 130],
    );
    close(seconds(segments[0]!), 70 / 30);
    close(seconds(segments[1]!), 60 / 30);
    close(seconds(segments[2]!), 70 / 30);
  });

  for (const fps of [1, 5, 10, 15, 24, 25, 30, 60]) {
    test(`${fps} fps: parts hold framesPerPart frames and never exceed the announced PART-TARGET`, () => {
      const p = packager(fps);
      const gop = Math.max(1, fps);
      const frames = stream(fps * 8 + 1, fps, (i) => i % gop === 0);
      const parts = pushAll(p, frames);
      const { partTargetSeconds } = lowLatencyTiming(fps);
      for (const [index, part] of parts.entries()) {
        assert.ok(part.durationSeconds <= partTargetSeconds + 1e-9, `part ${index}: ${part.durationSeconds}`);
        const nextKeyframeCut = indexesOf(part).at(-1)! % gop === gop - 1;
        if (!nextKeyframeCut) assert.equal(part.frames, framesPerPart(fps), `part ${index}`);
        else assert.ok(part.frames <= framesPerPart(fps));
      }
      for (const segment of segmentsOf(parts)) close(seconds(segment), 2, `${fps} fps segment`);
    });
  }

  for (const fps of [5, 15, 30, 60]) {
    test(`${fps} fps: on the pipeline's frame grid (±1 tick) every part but the last of a segment is 85–100 % of PART-TARGET as written`, () => {
      const { partTargetSeconds } = lowLatencyTiming(fps);
      const p = packager(fps);
      // mpegtsmux rounds 1/fps to 90 kHz ticks: steps of 5999/6000/6001 at 15 fps.
      const frames = stream(4 * fps + 1, fps, (i) => i % fps === 0).map((frame, i) => ({
        ...frame,
        pts: frame.pts + ((i % 3) - 1),
      }));
      const parts = pushAll(p, frames);
      for (const [index, part] of parts.entries()) {
        const written = Number(part.durationSeconds.toFixed(3));
        assert.ok(written <= partTargetSeconds, `part ${index} lasts ${written}`);
        if (!part.endsSegment && !part.independent) {
          assert.ok(written >= 0.85 * partTargetSeconds, `part ${index} lasts ${written}`);
        }
      }
    });
  }
});
