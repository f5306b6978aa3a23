/** The publisher's Low-Latency HLS side on a temp dir: parts → segments, playlist, blocking waits. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { type Config, DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { partFileName, segmentFileName } from '../../src/hls/playlist.ts';
import { createHlsPublisher, InvalidSegmentError, type LocalHlsPublisher } from '../../src/hls/publisher.ts';
import type { NewPart } from '../../src/hls/types.ts';

/** Where the live edge stands, without the hint flag (checked where it matters). */
function edgeOf(publisher: { liveEdge(): { msn: number; parts: number } }): { msn: number; parts: number } {
  const { msn, parts } = publisher.liveEdge();
  return { msn, parts };
}

const logger = pino({ level: 'silent' });
const T0 = Date.UTC(2026, 11, 2, 3, 0, 0);
const PARTS_PER_SEGMENT = 10;

interface Rig {
  publisher: LocalHlsPublisher;
  publicDir: string;
  clock: { now: number };
}

async function rig(t: { after(fn: () => Promise<void>): void }): Promise<Rig> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hls-publisher-ll-'));
  const clock = { now: T0 };
  const config: Config = {
    ...DEFAULT_CONFIG,
    output_dir: dir,
    fps: 15,
    segment_duration: 2,
    live_streaming: { ...DEFAULT_CONFIG.live_streaming, max_segments: 10, emergency_segments: 2 },
  };
  const publisher = createHlsPublisher({
    config,
    logger,
    now: () => clock.now,
    diskUsage: async () => ({ usedPercent: 10 }),
  });
  t.after(async () => {
    await publisher.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await publisher.start();
  return { publisher, publicDir: publisher.paths.publicDir, clock };
}

/** Part `index` of a 2 s segment of ten 0.2 s parts (keyframes at parts 0 and 5). */
function part(
  sequence: number,
  index: number,
  clock: { now: number },
  overrides: Partial<NewPart> = {},
): NewPart {
  return {
    data: Buffer.alloc(188 * (1 + (index % 3)), (sequence * 16 + index) % 256),
    durationSeconds: 0.2,
    independent: index % 5 === 0,
    startsSegment: index === 0,
    endsSegment: index === PARTS_PER_SEGMENT - 1,
    frames: 3,
    programDateTime: clock.now,
    ...overrides,
  };
}

/** Publish parts [from, to) of segment `sequence`, 200 ms apart; returns what the last one returned. */
async function publishParts(r: Rig, sequence: number, from = 0, to = PARTS_PER_SEGMENT) {
  let last: Awaited<ReturnType<LocalHlsPublisher['publishPart']>> = null;
  const pending: Array<Promise<unknown>> = [];
  for (let index = from; index < to; index++) {
    const promise = r.publisher.publishPart(part(sequence, index, r.clock));
    pending.push(promise);
    r.clock.now += 200;
    if (index === to - 1) last = await promise;
  }
  await Promise.all(pending);
  return last;
}

function expectedBytes(sequence: number, from = 0, to = PARTS_PER_SEGMENT): Buffer {
  const clock = { now: 0 };
  return Buffer.concat(Array.from({ length: to - from }, (_, i) => part(sequence, from + i, clock).data));
}

function settledFlag(promise: Promise<unknown>): { settled: boolean } {
  const flag = { settled: false };
  promise.then(() => {
    flag.settled = true;
  });
  return flag;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

function partLines(text: string | null): string[] {
  return (text ?? '').split('\n').filter((line) => line.startsWith('#EXT-X-PART:'));
}

describe('publisher: Low-Latency HLS', () => {
  test('nothing is served before the first part; after beginRun the hint names part 0 of sequence 0', async (t) => {
    const r = await rig(t);
    assert.equal(r.publisher.livePlaylistText(), null);
    assert.deepEqual(edgeOf(r.publisher), { msn: 0, parts: 0 });
    await r.publisher.beginRun();
    assert.equal(r.publisher.livePlaylistText(), null, 'no playlist without a part or segment');
    await r.publisher.publishPart(part(0, 0, r.clock));
    const text = r.publisher.livePlaylistText()!;
    assert.match(text, /^#EXTM3U\n#EXT-X-VERSION:6\n/);
    assert.match(text, /#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0\.603\n/);
    assert.match(text, /#EXT-X-PART-INF:PART-TARGET=0\.201\n/);
    assert.match(text, /#EXT-X-MEDIA-SEQUENCE:0\n/);
    assert.deepEqual(partLines(text), [
      '#EXT-X-PART:DURATION=0.200,URI="seg-000000000.p0.ts",INDEPENDENT=YES',
    ]);
    assert.ok(text.endsWith('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-000000000.p1.ts"\n'));
    assert.ok(!text.includes('#EXT-X-DISCONTINUITY\n'), 'the very first run is no discontinuity');
    assert.deepEqual(edgeOf(r.publisher), { msn: 0, parts: 1 });
  });

  test('a segment is the concatenation of its parts, written when its last part comes', async (t) => {
    const r = await rig(t);
    await r.publisher.beginRun();
    const segment = await publishParts(r, 0);
    assert.ok(segment);
    assert.equal(segment.sequence, 0);
    assert.equal(segment.uri, segmentFileName(0));
    assert.ok(Math.abs(segment.durationSeconds - 2) < 1e-9);
    assert.equal(segment.frames, 30);
    assert.equal(segment.programDateTime, T0);
    assert.equal(segment.discontinuity, false);
    const file = await readFile(path.join(r.publicDir, segmentFileName(0)));
    assert.ok(file.equals(expectedBytes(0)));
    assert.equal(segment.bytes, file.length);
    assert.ok(r.publisher.listedSegmentData(segmentFileName(0))!.equals(file));
    assert.deepEqual(edgeOf(r.publisher), { msn: 1, parts: 0 });
    // The served playlist: the complete segment with its parts, then the hint for the next one.
    const text = r.publisher.livePlaylistText()!;
    assert.deepEqual(
      partLines(text).map((line) => /URI="([^"]+)"/.exec(line)![1]),
      Array.from({ length: PARTS_PER_SEGMENT }, (_, i) => partFileName(0, i)),
    );
    assert.equal(partLines(text).filter((line) => line.endsWith(',INDEPENDENT=YES')).length, 2);
    assert.match(
      text,
      /#EXTINF:2\.000,\nseg-000000000\.ts\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-000000001\.p0\.ts"\n$/,
    );
    // The plain playlist on disk: the same segment, no Low-Latency tags.
    const onDisk = await readFile(path.join(r.publicDir, 'playlist.m3u8'), 'utf8');
    assert.match(onDisk, /#EXT-X-VERSION:3\n/);
    for (const tag of ['#EXT-X-PART', '#EXT-X-SERVER-CONTROL', '#EXT-X-PRELOAD-HINT'])
      assert.ok(!onDisk.includes(tag));
    assert.match(onDisk, /#EXTINF:2\.000,\nseg-000000000\.ts\n$/);
    assert.equal(r.publisher.playlistText(), onDisk, 'the plain playlist in memory is the file');
    assert.equal(r.publisher.snapshot().segmentsWrittenTotal, 1);
  });

  test('the open segment is listed part by part, with PDT of its first part', async (t) => {
    const r = await rig(t);
    await r.publisher.beginRun();
    await publishParts(r, 0);
    const pdt = r.clock.now;
    await publishParts(r, 1, 0, 3);
    const text = r.publisher.livePlaylistText()!;
    const tail = text.slice(text.indexOf('seg-000000000.ts\n') + 'seg-000000000.ts\n'.length);
    assert.equal(
      tail,
      [
        `#EXT-X-PROGRAM-DATE-TIME:${new Date(pdt).toISOString()}`,
        '#EXT-X-PART:DURATION=0.200,URI="seg-000000001.p0.ts",INDEPENDENT=YES',
        '#EXT-X-PART:DURATION=0.200,URI="seg-000000001.p1.ts"',
        '#EXT-X-PART:DURATION=0.200,URI="seg-000000001.p2.ts"',
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-000000001.p3.ts"',
        '',
      ].join('\n'),
    );
    assert.deepEqual(edgeOf(r.publisher), { msn: 1, parts: 3 });
    assert.ok(r.publisher.partData(partFileName(1, 2))!.equals(part(1, 2, r.clock).data));
    assert.equal(r.publisher.partData(partFileName(1, 3)), null, 'not yet published');
  });

  test('waitForMedia resolves on exactly the part (or segment) asked for, false on timeout', async (t) => {
    const r = await rig(t);
    await r.publisher.beginRun();
    await r.publisher.publishPart(part(0, 0, r.clock));
    assert.equal(await r.publisher.waitForMedia(0, 0, 10), true, 'already listed');
    const part2 = r.publisher.waitForMedia(0, 2, 10_000);
    const whole0 = r.publisher.waitForMedia(0, null, 10_000);
    const next0 = r.publisher.waitForMedia(1, 0, 10_000);
    const flags = [settledFlag(part2), settledFlag(whole0), settledFlag(next0)];
    await r.publisher.publishPart(part(0, 1, r.clock));
    await tick();
    assert.deepEqual(
      flags.map((flag) => flag.settled),
      [false, false, false],
    );
    await r.publisher.publishPart(part(0, 2, r.clock));
    await tick();
    assert.deepEqual(
      flags.map((flag) => flag.settled),
      [true, false, false],
    );
    assert.equal(await part2, true);
    await publishParts(r, 0, 3);
    await tick();
    assert.deepEqual(
      flags.map((flag) => flag.settled),
      [true, true, false],
    );
    assert.equal(await whole0, true);
    await r.publisher.publishPart(part(1, 0, r.clock));
    assert.equal(await next0, true);
    const started = performance.now();
    assert.equal(await r.publisher.waitForMedia(1, 5, 100), false);
    assert.ok(performance.now() - started >= 90);
    // Asking for something long gone is answered at once.
    assert.equal(await r.publisher.waitForMedia(0, 9, 0), true);
  });

  test('partData only for listed parts: parts older than three target durations are forgotten', async (t) => {
    const r = await rig(t);
    await r.publisher.beginRun();
    for (let sequence = 0; sequence < 6; sequence++) await publishParts(r, sequence);
    // 2 s segments, target 2: parts of the newest three (6 s) stay listed.
    const text = r.publisher.livePlaylistText()!;
    const listedSegments = new Set(
      partLines(text)
        .map((line) => /seg-(\d{9})\.p/.exec(line)![1])
        .map(Number),
    );
    assert.deepEqual([...listedSegments], [3, 4, 5]);
    for (let sequence = 0; sequence < 6; sequence++) {
      for (let index = 0; index < PARTS_PER_SEGMENT; index++) {
        const data = r.publisher.partData(partFileName(sequence, index));
        if (sequence >= 3)
          assert.ok(data?.equals(part(sequence, index, r.clock).data), `${sequence}.${index} kept`);
        else assert.equal(data, null, `${sequence}.${index} forgotten`);
      }
    }
    // Whole segments are still listed and served from memory.
    for (let sequence = 0; sequence < 6; sequence++) {
      assert.ok(r.publisher.listedSegmentData(segmentFileName(sequence))?.equals(expectedBytes(sequence)));
    }
    // Names that are not parts are never part data.
    assert.equal(r.publisher.partData(segmentFileName(5)), null);
    assert.equal(r.publisher.partData('../seg-000000005.p0.ts'), null);
  });

  test('endRun closes an open segment as a shorter one; the next part stays announced', async (t) => {
    const r = await rig(t);
    await r.publisher.beginRun();
    await publishParts(r, 0);
    await publishParts(r, 1, 0, 4);
    await r.publisher.endRun();
    const file = await readFile(path.join(r.publicDir, segmentFileName(1)));
    assert.ok(file.equals(expectedBytes(1, 0, 4)));
    const snapshot = r.publisher.snapshot();
    assert.equal(snapshot.segments.length, 2);
    assert.ok(Math.abs(snapshot.segments[1]!.durationSeconds - 0.8) < 1e-9);
    assert.equal(snapshot.segments[1]!.frames, 12);
    const text = r.publisher.livePlaylistText()!;
    // Still announced: the next run continues with it (hls.js needs the hint at the end).
    assert.match(
      text,
      /#EXTINF:0\.800,\nseg-000000001\.ts\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-000000002\.p0\.ts"\n$/,
    );
    assert.deepEqual(edgeOf(r.publisher), { msn: 2, parts: 0 });
    assert.equal(r.publisher.liveEdge().hinted, true, 'the next run continues the stream');
    // endRun with nothing open is harmless.
    await r.publisher.endRun();
    assert.equal(r.publisher.snapshot().segments.length, 2);
  });

  test('the next beginRun makes the next segment a discontinuity, in the open segment and after it closes', async (t) => {
    const r = await rig(t);
    await r.publisher.beginRun();
    await publishParts(r, 0);
    await r.publisher.endRun();
    r.clock.now += 5000;
    await r.publisher.beginRun();
    assert.match(
      r.publisher.livePlaylistText()!,
      /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-000000001\.p0\.ts"\n$/,
    );
    const pdt = r.clock.now;
    await publishParts(r, 1, 0, 2);
    const open = r.publisher.livePlaylistText()!;
    assert.match(
      open,
      new RegExp(
        `seg-000000000\\.ts\\n#EXT-X-DISCONTINUITY\\n#EXT-X-PROGRAM-DATE-TIME:${new Date(pdt).toISOString().replace(/\./g, '\\.')}\\n#EXT-X-PART:DURATION=0\\.200,URI="seg-000000001\\.p0\\.ts",INDEPENDENT=YES\\n`,
      ),
    );
    await publishParts(r, 1, 2);
    const snapshot = r.publisher.snapshot();
    assert.equal(snapshot.segments[1]!.discontinuity, true);
    assert.equal(snapshot.discontinuitiesTotal, 1);
    const onDisk = await readFile(path.join(r.publicDir, 'playlist.m3u8'), 'utf8');
    assert.match(
      onDisk,
      /#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXTINF:2\.000,\nseg-000000001\.ts\n$/,
    );
    assert.equal(r.publisher.livePlaylistText()!.split('#EXT-X-DISCONTINUITY\n').length - 1, 1);
  });

  test('a segment must start with an independent part: InvalidSegmentError, nothing listed', async (t) => {
    const r = await rig(t);
    await r.publisher.beginRun();
    await assert.rejects(
      r.publisher.publishPart(part(0, 1, r.clock, { startsSegment: false, independent: false })),
      InvalidSegmentError,
    );
    await assert.rejects(
      r.publisher.publishPart(part(0, 0, r.clock, { startsSegment: true, independent: false })),
      InvalidSegmentError,
    );
    assert.equal(r.publisher.livePlaylistText(), null);
    assert.deepEqual(edgeOf(r.publisher), { msn: 0, parts: 0 });
    // After a completed segment too: the next segment's first part must be independent.
    await publishParts(r, 0);
    await assert.rejects(
      r.publisher.publishPart(part(1, 1, r.clock, { startsSegment: false, independent: false })),
      InvalidSegmentError,
    );
    assert.deepEqual(edgeOf(r.publisher), { msn: 1, parts: 0 });
  });

  test('a part without bytes or with a non-positive duration is refused', async (t) => {
    const r = await rig(t);
    await r.publisher.beginRun();
    for (const overrides of [
      { data: Buffer.alloc(0) },
      { durationSeconds: 0 },
      { durationSeconds: -0.2 },
      { durationSeconds: Number.NaN },
      { durationSeconds: Number.POSITIVE_INFINITY },
    ]) {
      await assert.rejects(r.publisher.publishPart(part(0, 0, r.clock, overrides)), InvalidSegmentError);
    }
    assert.equal(r.publisher.livePlaylistText(), null);
  });

  test('a part that starts a segment closes the open one (producer did not mark its end)', async (t) => {
    const r = await rig(t);
    await r.publisher.beginRun();
    await publishParts(r, 0, 0, 5);
    await r.publisher.publishPart(part(1, 0, r.clock));
    assert.deepEqual(edgeOf(r.publisher), { msn: 1, parts: 1 });
    await r.publisher.endRun();
    const file = await readFile(path.join(r.publicDir, segmentFileName(0)));
    assert.ok(file.equals(expectedBytes(0, 0, 5)));
    assert.ok(Math.abs(r.publisher.snapshot().segments[0]!.durationSeconds - 1) < 1e-9);
  });

  test('onPart tells every listed part', async (t) => {
    const r = await rig(t);
    const seen: string[] = [];
    r.publisher.onPart((listed) => seen.push(listed.uri));
    await r.publisher.beginRun();
    await publishParts(r, 0, 0, 3);
    assert.deepEqual(seen, [partFileName(0, 0), partFileName(0, 1), partFileName(0, 2)]);
  });
});
