import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  appendSegment,
  beginRun,
  dropMissing,
  emptyPlaylist,
  mediaSequenceOf,
  type PlaylistModel,
  PlaylistParseError,
  parsePlaylist,
  renderPlaylist,
  segmentFileName,
  sequenceOfFileName,
  slideWindow,
} from '../../src/hls/playlist.ts';

const T0 = Date.UTC(2026, 10, 30, 10, 0, 0, 0);

function publish(model: PlaylistModel, count: number, duration = 2, max = 5): PlaylistModel {
  let current = model;
  for (let i = 0; i < count; i += 1) {
    const pdt = T0 + current.nextSequence * duration * 1000;
    current = appendSegment(
      current,
      { durationSeconds: duration, bytes: 1000, programDateTime: pdt, frames: 30 },
      max,
    ).model;
  }
  return current;
}

function tags(text: string | null, prefix: string): string[] {
  return (text ?? '').split('\n').filter((line) => line.startsWith(prefix));
}

describe('segment names', () => {
  test('9-digit zero-padded, parsed back, anything else rejected', () => {
    assert.equal(segmentFileName(123), 'seg-000000123.ts');
    assert.equal(sequenceOfFileName('seg-000000123.ts'), 123);
    for (const name of [
      'seg-123.ts',
      'seg-000000123.ts.tmp',
      '../seg-000000123.ts',
      'segment00001.ts',
      'x',
    ]) {
      assert.equal(sequenceOfFileName(name), null, name);
    }
    assert.throws(() => segmentFileName(-1), RangeError);
  });
});

describe('rendering', () => {
  test('nothing listed renders nothing', () => {
    assert.equal(renderPlaylist(emptyPlaylist(2)), null);
  });

  test('live playlist: version, target, sequence, PDT with ms in UTC, EXTINF with 3 decimals, no ENDLIST', () => {
    const model = appendSegment(
      emptyPlaylist(2),
      { durationSeconds: 2.0666666, bytes: 10, programDateTime: T0 + 7, frames: 31 },
      5,
    ).model;
    assert.equal(
      renderPlaylist(model),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-DISCONTINUITY-SEQUENCE:0',
        '#EXT-X-PROGRAM-DATE-TIME:2026-11-30T10:00:00.007Z',
        '#EXTINF:2.067,',
        'seg-000000000.ts',
        '',
      ].join('\n'),
    );
    assert.ok(!renderPlaylist(publish(model, 20))!.includes('ENDLIST'));
  });

  test('every segment carries PROGRAM-DATE-TIME', () => {
    const text = renderPlaylist(publish(emptyPlaylist(2), 7));
    assert.equal(tags(text, '#EXT-X-PROGRAM-DATE-TIME:').length, 5);
    assert.equal(tags(text, '#EXTINF:').length, 5);
  });
});

describe('window', () => {
  test('lists max_segments, media sequence follows the oldest listed', () => {
    const model = publish(emptyPlaylist(2), 12, 2, 5);
    assert.equal(model.entries.length, 5);
    assert.equal(mediaSequenceOf(model), 7);
    assert.deepEqual(
      model.entries.map((e) => e.segment.uri),
      [7, 8, 9, 10, 11].map(segmentFileName),
    );
    assert.match(renderPlaylist(model)!, /#EXT-X-MEDIA-SEQUENCE:7\n/);
  });

  test('append reports the entries that slid out, oldest first', () => {
    const model = publish(emptyPlaylist(2), 5);
    const result = appendSegment(
      model,
      { durationSeconds: 2, bytes: 1, programDateTime: T0, frames: null },
      3,
    );
    assert.deepEqual(
      result.removed.map((e) => e.segment.sequence),
      [0, 1, 2],
    );
    assert.equal(result.segment.sequence, 5);
  });

  test('longest playlist that held a segment is recorded', () => {
    const model = publish(emptyPlaylist(2), 6, 2, 5);
    // Segment 5 was held by a 10 s playlist; segment 1 too (it was listed with 0..4 and 1..5).
    assert.equal(model.entries.at(-1)!.longestPlaylistSeconds, 10);
    assert.equal(model.entries[0]!.longestPlaylistSeconds, 10);
  });
});

describe('continuity across runs', () => {
  test('sequence continues, the first segment of a new run is a discontinuity, the first ever is not', () => {
    let model = beginRun(emptyPlaylist(2));
    assert.equal(model.discontinuityPending, false, 'nothing published before');
    model = publish(model, 3);
    model = beginRun(model);
    model = publish(model, 2);
    assert.deepEqual(
      model.entries.map((e) => [e.segment.sequence, e.segment.discontinuity]),
      [
        [0, false],
        [1, false],
        [2, false],
        [3, true],
        [4, false],
      ],
    );
    const text = renderPlaylist(model)!;
    assert.equal(tags(text, '#EXT-X-DISCONTINUITY').filter((l) => l === '#EXT-X-DISCONTINUITY').length, 1);
    assert.match(
      text,
      /seg-000000002\.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXTINF:2\.000,\nseg-000000003\.ts/,
    );
  });

  test('a run that published nothing still leaves one discontinuity for the next', () => {
    let model = publish(emptyPlaylist(2), 2);
    model = beginRun(beginRun(model));
    model = publish(model, 1);
    assert.equal(model.entries.filter((e) => e.segment.discontinuity).length, 1);
  });

  test('DISCONTINUITY-SEQUENCE counts discontinuity tags that slid out', () => {
    let model = emptyPlaylist(2);
    for (let run = 0; run < 4; run += 1) model = publish(beginRun(model), 2, 2, 3);
    // 8 segments, runs start at 0 (no tag), 2, 4, 6. Listed: 5, 6, 7 → tags before 5: at 2 and 4.
    assert.deepEqual(
      model.entries.map((e) => e.segment.sequence),
      [5, 6, 7],
    );
    assert.equal(model.discontinuitySequence, 2);
    const text = renderPlaylist(model)!;
    assert.match(text, /#EXT-X-DISCONTINUITY-SEQUENCE:2\n/);
    // Sliding out the tagged segment 6 raises it to 3.
    model = publish(model, 2, 2, 3);
    assert.equal(model.discontinuitySequence, 3);
  });
});

describe('target duration', () => {
  test('starts at ceil(segment_duration)', () => {
    assert.equal(emptyPlaylist(2).targetDurationSeconds, 2);
    assert.equal(emptyPlaylist(1.5).targetDurationSeconds, 2);
    assert.equal(emptyPlaylist(0.2).targetDurationSeconds, 1);
  });

  test('is ≥ every rounded EXTINF, rises for a long segment and never decreases', () => {
    let model = publish(emptyPlaylist(2), 3, 2.4);
    assert.equal(model.targetDurationSeconds, 2, '2.4 rounds to 2');
    model = publish(model, 1, 3.6);
    assert.equal(model.targetDurationSeconds, 4);
    model = publish(model, 10, 1);
    assert.equal(model.targetDurationSeconds, 4, 'the long segment left but the target stays');
    for (const entry of model.entries) {
      assert.ok(Math.round(entry.segment.durationSeconds) <= model.targetDurationSeconds);
    }
  });

  test('2.5 s rounds to 3 (RFC 8216 rounding)', () => {
    assert.equal(publish(emptyPlaylist(2), 1, 2.5).targetDurationSeconds, 3);
  });

  test('rejects a non-positive duration naming the field', () => {
    assert.throws(
      () =>
        appendSegment(
          emptyPlaylist(2),
          { durationSeconds: 0, bytes: 1, programDateTime: T0, frames: null },
          5,
        ),
      /durationSeconds 0/,
    );
  });
});

describe('shrinking and vanished files', () => {
  test('slideWindow to a smaller window (emergency)', () => {
    const { model, removed } = slideWindow(publish(emptyPlaylist(2), 5), 2);
    assert.equal(removed.length, 3);
    assert.equal(mediaSequenceOf(model), 3);
  });

  test('dropMissing keeps sequences consecutive and marks a discontinuity', () => {
    const model = publish(emptyPlaylist(2), 5);
    const { model: after, removed } = dropMissing(model, (e) => e.segment.sequence !== 2);
    assert.deepEqual(
      after.entries.map((e) => e.segment.sequence),
      [3, 4],
    );
    assert.deepEqual(
      removed.map((e) => e.segment.sequence),
      [0, 1],
      'present files that left are reported for retention',
    );
    assert.equal(after.discontinuityPending, true);
    assert.equal(after.nextSequence, 5);
    assert.equal(dropMissing(model, () => true).model, model);
  });
});

describe('parsing our own playlist', () => {
  test('round-trips sequence, discontinuities, PDT and durations', () => {
    let model = publish(emptyPlaylist(2), 3, 2.002);
    model = publish(beginRun(model), 4, 1.5, 4);
    const parsed = parsePlaylist(renderPlaylist(model)!);
    assert.equal(parsed.mediaSequence, 3);
    assert.equal(parsed.discontinuitySequence, 0);
    assert.equal(parsed.targetDurationSeconds, 2);
    assert.deepEqual(
      parsed.segments,
      model.entries.map(({ segment }) => ({
        sequence: segment.sequence,
        uri: segment.uri,
        durationSeconds: Number(segment.durationSeconds.toFixed(3)),
        programDateTime: segment.programDateTime,
        discontinuity: segment.discontinuity,
      })),
    );
  });

  test('rejects what is not ours, naming the problem', () => {
    assert.throws(() => parsePlaylist('hello'), PlaylistParseError);
    assert.throws(() => parsePlaylist('#EXTM3U\n#EXTINF:1,\nseg-000000000.ts\n'), /TARGETDURATION/);
    assert.throws(
      () =>
        parsePlaylist(
          '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:4\n#EXTINF:1,\nsegment00000.ts\n',
        ),
      /not seg-000000004\.ts/,
    );
  });
});
