import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type LowLatencyView,
  listedParts,
  type OpenSegment,
  type PlaylistModel,
  parsePlaylist,
  partFileName,
  renderPlaylist,
  segmentFileName,
} from '../../src/hls/playlist.ts';
import type { PartRef, PublicSegment } from '../../src/hls/types.ts';

const T0 = Date.UTC(2026, 11, 2, 3, 0, 0);
const LL_TAGS = ['#EXT-X-PART:', '#EXT-X-PART-INF', '#EXT-X-SERVER-CONTROL', '#EXT-X-PRELOAD-HINT'];

/** Ten 0.2 s parts, independent at 0 and 5 (keyframe every second). */
function partsOf(sequence: number, count = 10, seconds = 0.2): PartRef[] {
  return Array.from({ length: count }, (_, index) => ({
    uri: partFileName(sequence, index),
    durationSeconds: seconds,
    independent: index % 5 === 0,
  }));
}

function segment(sequence: number, overrides: Partial<PublicSegment> = {}): PublicSegment {
  return {
    sequence,
    uri: segmentFileName(sequence),
    durationSeconds: 2,
    bytes: 1000,
    programDateTime: T0 + sequence * 2000,
    discontinuity: false,
    frames: 30,
    parts: partsOf(sequence),
    ...overrides,
  };
}

function model(segments: PublicSegment[], overrides: Partial<PlaylistModel> = {}): PlaylistModel {
  return {
    targetDurationSeconds: 2,
    discontinuitySequence: 0,
    nextSequence: (segments.at(-1)?.sequence ?? -1) + 1,
    discontinuityPending: false,
    entries: segments.map((s) => ({ segment: s, longestPlaylistSeconds: 0 })),
    ...overrides,
  };
}

function view(open: OpenSegment | null, preloadHint: string | null = null): LowLatencyView {
  return { partTargetSeconds: 0.267, partHoldBackSeconds: 0.801, open, preloadHint };
}

function lines(text: string | null): string[] {
  assert.ok(text !== null, 'a playlist is rendered');
  assert.ok(text.endsWith('\n'));
  return text.trimEnd().split('\n');
}

/** The URIs of EXT-X-PART lines, in order. */
function partUris(text: string | null): string[] {
  return lines(text)
    .filter((line) => line.startsWith('#EXT-X-PART:'))
    .map((line) => /URI="([^"]+)"/.exec(line)![1]!);
}

const FIVE = [10, 11, 12, 13, 14].map((sequence) => segment(sequence));

describe('renderPlaylist with Low-Latency HLS', () => {
  test('header: VERSION 6, SERVER-CONTROL with CAN-BLOCK-RELOAD and PART-HOLD-BACK, PART-INF', () => {
    const text = renderPlaylist(model(FIVE), view(null));
    const all = lines(text);
    assert.deepEqual(all.slice(0, 7), [
      '#EXTM3U',
      '#EXT-X-VERSION:6',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.801',
      '#EXT-X-PART-INF:PART-TARGET=0.267',
      '#EXT-X-MEDIA-SEQUENCE:10',
      '#EXT-X-DISCONTINUITY-SEQUENCE:0',
    ]);
    // Each header tag exactly once.
    for (const tag of [
      '#EXT-X-VERSION',
      '#EXT-X-SERVER-CONTROL',
      '#EXT-X-PART-INF',
      '#EXT-X-TARGETDURATION',
    ]) {
      assert.equal(all.filter((line) => line.startsWith(tag)).length, 1, tag);
    }
  });

  test('parts are listed only for the segments within the last three target durations', () => {
    const text = renderPlaylist(model(FIVE), view(null));
    // 3 × 2 s: segments 12, 13, 14 keep their parts; 10 and 11 are listed whole only.
    assert.deepEqual(
      partUris(text),
      [...partsOf(12), ...partsOf(13), ...partsOf(14)].map((p) => p.uri),
    );
    assert.deepEqual(
      listedParts(model(FIVE)).map((p) => p.uri),
      partUris(text),
    );
    // Every segment is still listed whole.
    assert.deepEqual(
      lines(text).filter((line) => line.startsWith('seg-')),
      FIVE.map((s) => s.uri),
    );
  });

  test('the parts window holds for segment durations summed from their parts (ten 0.2 s parts)', () => {
    // The publisher sums its parts' durations: 10 × 0.2 is 1.9999999999999998 in floating point.
    const summed = Array.from({ length: 10 }, () => 0.2).reduce((sum, seconds) => sum + seconds, 0);
    const segments = [10, 11, 12, 13, 14].map((sequence) => segment(sequence, { durationSeconds: summed }));
    const text = renderPlaylist(model(segments), view(null));
    assert.ok(text!.includes('#EXTINF:2.000,'));
    // Three 2 s segments fill three target durations: the parts of 11 must not be listed.
    assert.deepEqual(
      partUris(text),
      [...partsOf(12), ...partsOf(13), ...partsOf(14)].map((p) => p.uri),
    );
  });

  test("the parts window ends at the open segment's newest part, not at the last complete segment", () => {
    // Segment 13 is short (1.8 s), so segment 11 ends 5.8 s before the end of segment 14.
    const segments = FIVE.map((s) =>
      s.sequence === 13 ? segment(13, { durationSeconds: 1.8, parts: partsOf(13, 9) }) : s,
    );
    const withOpenParts = (count: number) =>
      renderPlaylist(
        model(segments),
        view({ sequence: 15, discontinuity: false, programDateTime: T0 + 30_000, parts: partsOf(15, count) }),
      );
    const sequencesWithParts = (text: string | null) => [
      ...new Set(partUris(text).map((uri) => Number(/^seg-(\d+)\./.exec(uri)![1]))),
    ];
    // One 0.2 s part open: 11 ends 6.0 s from the end, so its parts go (RFC 8216bis §6.2.2).
    assert.deepEqual(sequencesWithParts(withOpenParts(1)), [12, 13, 14, 15]);
    // Without an open segment, 11 ends 5.8 s from the end and keeps them.
    assert.deepEqual(sequencesWithParts(renderPlaylist(model(segments), view(null))), [11, 12, 13, 14]);
    assert.deepEqual(
      [...new Set(listedParts(model(segments)).map((part) => part.uri.slice(0, 13)))],
      ['seg-000000011', 'seg-000000012', 'seg-000000013', 'seg-000000014'],
    );
  });

  test('the parts window counts seconds, not segments: short segments keep more of them', () => {
    const short = [20, 21, 22, 23, 24, 25, 26].map((sequence) =>
      segment(sequence, { durationSeconds: 1, parts: partsOf(sequence, 5) }),
    );
    // 6 s of 1 s segments: the newest six keep their parts.
    assert.deepEqual(
      listedParts(model(short)).map((p) => p.uri),
      short.slice(1).flatMap((s) => s.parts!.map((p) => p.uri)),
    );
    // A raised target duration widens the window.
    assert.equal(listedParts(model(FIVE, { targetDurationSeconds: 4 })).length, 50);
  });

  test('each segment: PDT, its parts, then EXTINF and URI; parts carry DURATION and INDEPENDENT', () => {
    const all = lines(renderPlaylist(model(FIVE), view(null)));
    const at = all.indexOf(segmentFileName(14));
    assert.equal(all[at - 1], '#EXTINF:2.000,');
    assert.deepEqual(all.slice(at - 11, at - 1), [
      '#EXT-X-PART:DURATION=0.200,URI="seg-000000014.p0.ts",INDEPENDENT=YES',
      '#EXT-X-PART:DURATION=0.200,URI="seg-000000014.p1.ts"',
      '#EXT-X-PART:DURATION=0.200,URI="seg-000000014.p2.ts"',
      '#EXT-X-PART:DURATION=0.200,URI="seg-000000014.p3.ts"',
      '#EXT-X-PART:DURATION=0.200,URI="seg-000000014.p4.ts"',
      '#EXT-X-PART:DURATION=0.200,URI="seg-000000014.p5.ts",INDEPENDENT=YES',
      '#EXT-X-PART:DURATION=0.200,URI="seg-000000014.p6.ts"',
      '#EXT-X-PART:DURATION=0.200,URI="seg-000000014.p7.ts"',
      '#EXT-X-PART:DURATION=0.200,URI="seg-000000014.p8.ts"',
      '#EXT-X-PART:DURATION=0.200,URI="seg-000000014.p9.ts"',
    ]);
    assert.equal(all[at - 12], `#EXT-X-PROGRAM-DATE-TIME:${new Date(T0 + 14 * 2000).toISOString()}`);
  });

  test('a segment without parts (restored after a supervisor restart) is listed whole only', () => {
    const restored = [segment(12, { parts: undefined }), segment(13), segment(14)];
    assert.deepEqual(partUris(renderPlaylist(model(restored), view(null))), [
      ...partsOf(13).map((p) => p.uri),
      ...partsOf(14).map((p) => p.uri),
    ]);
  });

  test('the open segment: DISCONTINUITY, PDT and its parts after the last complete segment, no EXTINF', () => {
    const open: OpenSegment = {
      sequence: 15,
      discontinuity: true,
      programDateTime: T0 + 40_000,
      parts: partsOf(15, 3),
    };
    const all = lines(renderPlaylist(model(FIVE), view(open, partFileName(15, 3))));
    const last = all.indexOf(segmentFileName(14));
    assert.deepEqual(all.slice(last + 1), [
      '#EXT-X-DISCONTINUITY',
      `#EXT-X-PROGRAM-DATE-TIME:${new Date(T0 + 40_000).toISOString()}`,
      '#EXT-X-PART:DURATION=0.200,URI="seg-000000015.p0.ts",INDEPENDENT=YES',
      '#EXT-X-PART:DURATION=0.200,URI="seg-000000015.p1.ts"',
      '#EXT-X-PART:DURATION=0.200,URI="seg-000000015.p2.ts"',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-000000015.p3.ts"',
    ]);
  });

  test('an open segment without discontinuity has no DISCONTINUITY tag; PRELOAD-HINT is the last line', () => {
    const open: OpenSegment = {
      sequence: 15,
      discontinuity: false,
      programDateTime: T0 + 30_000,
      parts: partsOf(15, 1),
    };
    const all = lines(renderPlaylist(model(FIVE), view(open, partFileName(15, 1))));
    assert.ok(!all.includes('#EXT-X-DISCONTINUITY'));
    assert.equal(all.at(-1), '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-000000015.p1.ts"');
    assert.equal(all.filter((line) => line.startsWith('#EXT-X-PRELOAD-HINT')).length, 1);
  });

  test('between segments (no open parts) the hint names part 0 of the next sequence', () => {
    const all = lines(renderPlaylist(model(FIVE), view(null, partFileName(15, 0))));
    assert.equal(all.at(-1), '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-000000015.p0.ts"');
    assert.equal(all.at(-2), segmentFileName(14));
  });

  test('no producer: no PRELOAD-HINT', () => {
    const text = renderPlaylist(model(FIVE), view(null, null));
    assert.ok(!text!.includes('#EXT-X-PRELOAD-HINT'));
  });

  test('a playlist with only an open segment renders: MEDIA-SEQUENCE is the open one', () => {
    const open: OpenSegment = {
      sequence: 0,
      discontinuity: false,
      programDateTime: T0,
      parts: partsOf(0, 2),
    };
    const all = lines(renderPlaylist(model([]), view(open, partFileName(0, 2))));
    assert.ok(all.includes('#EXT-X-MEDIA-SEQUENCE:0'));
    assert.deepEqual(partUris(`${all.join('\n')}\n`), ['seg-000000000.p0.ts', 'seg-000000000.p1.ts']);
    assert.ok(!all.some((line) => line.startsWith('#EXTINF')));
    assert.equal(all.at(-1), '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-000000000.p2.ts"');
    // Continuing after restarts: an open segment at sequence 42 with nothing listed.
    const later: OpenSegment = {
      sequence: 42,
      discontinuity: true,
      programDateTime: T0,
      parts: partsOf(42, 1),
    };
    const text = renderPlaylist(model([], { nextSequence: 42, discontinuitySequence: 3 }), view(later));
    assert.ok(
      text!.includes('#EXT-X-MEDIA-SEQUENCE:42\n#EXT-X-DISCONTINUITY-SEQUENCE:3\n#EXT-X-DISCONTINUITY\n'),
    );
  });

  test('nothing listed and no open parts: no playlist, even with a preload hint', () => {
    assert.equal(renderPlaylist(model([]), view(null, partFileName(0, 0))), null);
    const empty: OpenSegment = { sequence: 0, discontinuity: false, programDateTime: T0, parts: [] };
    assert.equal(renderPlaylist(model([]), view(empty, partFileName(0, 0))), null);
  });

  test('plain render (no view): VERSION 3 and none of the Low-Latency tags, even for segments with parts', () => {
    const text = renderPlaylist(model(FIVE));
    const all = lines(text);
    assert.equal(all[1], '#EXT-X-VERSION:3');
    for (const tag of LL_TAGS) assert.ok(!text!.includes(tag), tag);
    assert.deepEqual(
      all.filter((line) => line.startsWith('seg-')),
      FIVE.map((s) => s.uri),
    );
  });

  test('plain and Low-Latency renderings list the same segments; our parser reads both back', () => {
    const open: OpenSegment = {
      sequence: 15,
      discontinuity: true,
      programDateTime: T0 + 30_000,
      parts: partsOf(15, 4),
    };
    const plain = parsePlaylist(renderPlaylist(model(FIVE))!);
    const live = parsePlaylist(renderPlaylist(model(FIVE), view(open, partFileName(15, 4)))!);
    assert.deepEqual(live, plain);
    assert.deepEqual(
      live.segments.map((s) => s.sequence),
      [10, 11, 12, 13, 14],
    );
  });

  test('discontinuities of complete segments are kept in the Low-Latency rendering', () => {
    const segments = [segment(10), segment(11, { discontinuity: true }), segment(12)];
    const all = lines(renderPlaylist(model(segments, { discontinuitySequence: 2 }), view(null)));
    assert.ok(all.includes('#EXT-X-DISCONTINUITY-SEQUENCE:2'));
    const at = all.indexOf('#EXT-X-DISCONTINUITY');
    assert.equal(all[at + 1], `#EXT-X-PROGRAM-DATE-TIME:${new Date(T0 + 22_000).toISOString()}`);
    assert.equal(all.filter((line) => line === '#EXT-X-DISCONTINUITY').length, 1);
  });
});
