import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { type Config, DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { HlsOutputError } from '../../src/hls/disk.ts';
import {
  continuingSequence,
  createHlsPublisher,
  InvalidSegmentError,
  type LocalHlsPublisher,
} from '../../src/hls/publisher.ts';
import type { NewPart, PublicSegment } from '../../src/hls/types.ts';

const logger = pino({ level: 'silent' });
const T0 = Date.UTC(2026, 10, 30, 11, 0, 0);

interface Rig {
  dir: string;
  publicDir: string;
  clock: { now: number };
  disk: { usedPercent: number };
  make(overrides?: Partial<Config['live_streaming']>): LocalHlsPublisher;
}

async function rig(t: { after(fn: () => Promise<void>): void }): Promise<Rig> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hls-publisher-'));
  const publishers: LocalHlsPublisher[] = [];
  t.after(async () => {
    for (const publisher of publishers) await publisher.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const clock = { now: T0 };
  const disk = { usedPercent: 10 };
  return {
    dir,
    publicDir: path.join(dir, 'desktop'),
    clock,
    disk,
    make(overrides = {}) {
      const config: Config = {
        ...DEFAULT_CONFIG,
        output_dir: dir,
        segment_duration: 2,
        live_streaming: {
          ...DEFAULT_CONFIG.live_streaming,
          max_segments: 3,
          emergency_segments: 1,
          ...overrides,
        },
      };
      const publisher = createHlsPublisher({
        config,
        logger,
        now: () => clock.now,
        diskUsage: async () => ({ usedPercent: disk.usedPercent }),
      });
      publishers.push(publisher);
      return publisher;
    },
  };
}

/** A whole segment in one part, as the packager hands out a run's frames: its bytes start at clock.now. */
function segmentPart(index: number, programDateTime: number, durationSeconds = 2): NewPart {
  return {
    data: Buffer.alloc(1000 + index, index),
    durationSeconds,
    independent: true,
    startsSegment: true,
    endsSegment: true,
    frames: 0,
    programDateTime,
  };
}

/** Publish a one-part segment that started at clock.now and advance the clock past it. */
async function closeSegment(
  publisher: LocalHlsPublisher,
  clock: { now: number },
  index: number,
  durationSeconds = 2,
): Promise<PublicSegment | null> {
  const startedAt = clock.now;
  clock.now += durationSeconds * 1000;
  return publisher.publishPart(segmentPart(index, startedAt, durationSeconds));
}

function listedUris(text: string | null): string[] {
  return (text ?? '').split('\n').filter((line) => line.startsWith('seg-'));
}

describe('publisher on temp dirs', () => {
  test('publishes into the public dir with sequence numbers, atomic playlist identical to memory', async (t) => {
    const { publicDir, clock, make } = await rig(t);
    const publisher = make();
    await publisher.start();
    assert.equal(publisher.playlistText(), null, 'nothing public before the first segment');
    assert.equal(existsSync(path.join(publicDir, 'playlist.m3u8')), false);
    const seen: PublicSegment[] = [];
    publisher.onSegment((segment) => seen.push(segment));
    await publisher.beginRun();
    for (let i = 0; i < 2; i += 1) await closeSegment(publisher, clock, i);
    const onDisk = await readFile(path.join(publicDir, 'playlist.m3u8'), 'utf8');
    assert.equal(onDisk, publisher.playlistText());
    assert.deepEqual(listedUris(onDisk), ['seg-000000000.ts', 'seg-000000001.ts']);
    assert.ok(!onDisk.includes('#EXT-X-DISCONTINUITY\n'));
    assert.deepEqual(
      seen.map((s) => [s.sequence, s.bytes, s.frames]),
      [
        [0, 1000, 0],
        [1, 1001, 0],
      ],
    );
    // PDT: the first frame is one duration before the close; within a run they follow each other.
    assert.equal(seen[0]!.programDateTime, T0);
    assert.equal(seen[1]!.programDateTime, T0 + 2000);
    assert.match(onDisk, /#EXT-X-PROGRAM-DATE-TIME:2026-11-30T11:00:00\.000Z/);
    const names = await readdir(publicDir);
    assert.deepEqual(
      names.sort(),
      ['playlist.m3u8', 'seg-000000000.ts', 'seg-000000001.ts'],
      'no temp files left',
    );
    const snap = publisher.snapshot();
    assert.equal(snap.playlistExists, true);
    assert.equal(snap.segmentsWrittenTotal, 2);
    assert.equal(snap.filesOnDisk, 2);
    assert.equal(snap.bytesOnDisk, 2001);
    assert.equal(snap.lastSegmentAt, clock.now);
    assert.equal(snap.targetDurationSeconds, 2);
  });

  test('keeps the bytes of listed segments in memory for HTTP, and only those', async (t) => {
    const { publicDir, clock, make } = await rig(t);
    const publisher = make(); // max_segments 3
    await publisher.start();
    await publisher.beginRun();
    for (let i = 0; i < 4; i += 1) await closeSegment(publisher, clock, i);
    assert.deepEqual(listedUris(publisher.playlistText()), [
      'seg-000000001.ts',
      'seg-000000002.ts',
      'seg-000000003.ts',
    ]);
    assert.equal(
      publisher.listedSegmentData('seg-000000000.ts'),
      null,
      'left the playlist: served from disk',
    );
    assert.deepEqual(
      publisher.listedSegmentData('seg-000000003.ts'),
      await readFile(path.join(publicDir, 'seg-000000003.ts')),
    );
    assert.equal(publisher.listedSegmentData('playlist.m3u8'), null);
  });

  test('PROGRAM-DATE-TIME comes from the producer when it knows when the segment started', async (t) => {
    const { clock, make } = await rig(t);
    const publisher = make();
    await publisher.start();
    await publisher.beginRun();
    clock.now += 4000; // published late
    const segment = await publisher.publishPart(segmentPart(0, T0 + 123));
    assert.equal(segment?.programDateTime, T0 + 123);
  });

  test('a new run continues the sequence after a discontinuity; DISCONTINUITY-SEQUENCE follows the window', async (t) => {
    const { clock, make } = await rig(t);
    const publisher = make({ max_segments: 3 });
    await publisher.start();
    await publisher.beginRun();
    for (let i = 0; i < 2; i += 1) await closeSegment(publisher, clock, i);
    await publisher.beginRun();
    const first = await closeSegment(publisher, clock, 0);
    assert.equal(first?.sequence, 2, 'a new run continues the sequence');
    assert.equal(first?.discontinuity, true);
    assert.match(
      publisher.playlistText()!,
      /seg-000000001\.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME/,
    );
    assert.equal(publisher.snapshot().discontinuitiesTotal, 1);
    for (let i = 1; i < 3; i += 1) await closeSegment(publisher, clock, i);
    // Listed 2,3,4: the tagged segment 2 is first; then it slides out.
    assert.match(publisher.playlistText()!, /#EXT-X-DISCONTINUITY-SEQUENCE:0\n/);
    await closeSegment(publisher, clock, 3);
    assert.match(publisher.playlistText()!, /#EXT-X-MEDIA-SEQUENCE:3\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n/);
    assert.equal(publisher.snapshot().discontinuitySequence, 1);
  });

  test('a segment longer than planned raises TARGETDURATION, which never comes down', async (t) => {
    const { clock, make } = await rig(t);
    const publisher = make();
    await publisher.start();
    await publisher.beginRun();
    await closeSegment(publisher, clock, 0, 3.6);
    for (let i = 1; i < 6; i += 1) await closeSegment(publisher, clock, i, 2);
    assert.match(publisher.playlistText()!, /#EXT-X-TARGETDURATION:4\n/);
  });

  test('retention: a segment that left the playlist stays for RFC 8216 §6.2.2 (×2 when the disk is fine)', async (t) => {
    const { publicDir, clock, make } = await rig(t);
    const publisher = make({ max_segments: 3 });
    await publisher.start();
    await publisher.beginRun();
    for (let i = 0; i < 4; i += 1) await closeSegment(publisher, clock, i);
    // Segment 0 left a 6 s playlist at clock.now: RFC minimum 2 + 6 = 8 s; normal retention 16 s.
    const removedAt = clock.now;
    const seg0 = path.join(publicDir, 'seg-000000000.ts');
    assert.ok(existsSync(seg0));
    assert.equal(publisher.snapshot().filesOnDisk, 4);
    clock.now = removedAt + 15_999;
    assert.deepEqual(await publisher.cleanup(), { removedFiles: 0, removedBytes: 0 });
    assert.ok(existsSync(seg0));
    clock.now = removedAt + 16_000;
    assert.deepEqual(await publisher.cleanup(), { removedFiles: 1, removedBytes: 1000 });
    assert.ok(!existsSync(seg0));
    assert.equal(publisher.snapshot().filesOnDisk, 3);
  });

  test('disk pressure: high → RFC minimum; emergency → emergency_segments listed; critical → at once; foreign files untouched', async (t) => {
    const { publicDir, clock, disk, make } = await rig(t);
    const publisher = make({ max_segments: 3, emergency_segments: 1 });
    await publisher.start();
    await writeFile(path.join(publicDir, 'foreign.ts'), 'not ours');
    await writeFile(path.join(publicDir, 'seg-1.ts'), 'not ours either');
    await publisher.beginRun();
    for (let i = 0; i < 4; i += 1) await closeSegment(publisher, clock, i);
    const removedAt = clock.now;

    disk.usedPercent = 75; // above cleanup_threshold_percent (70)
    clock.now = removedAt + 7_999;
    assert.equal((await publisher.cleanup()).removedFiles, 0);
    clock.now = removedAt + 8_000;
    assert.equal((await publisher.cleanup()).removedFiles, 1, 'deleted at the RFC minimum, not twice it');

    disk.usedPercent = 90; // above emergency_cleanup_threshold_percent (85)
    await publisher.cleanup();
    assert.deepEqual(listedUris(publisher.playlistText()), ['seg-000000003.ts']);
    assert.equal(publisher.snapshot().segments.length, 1);
    assert.ok(existsSync(path.join(publicDir, 'seg-000000001.ts')), 'just left the playlist: still retained');

    disk.usedPercent = 99; // about to be full: the live stream wins over retention
    const removed = await publisher.cleanup();
    assert.equal(removed.removedFiles, 2);
    assert.deepEqual((await readdir(publicDir)).sort(), [
      'foreign.ts',
      'playlist.m3u8',
      'seg-000000003.ts',
      'seg-1.ts',
    ]);
  });

  test('bad input is rejected with named errors', async (t) => {
    const { clock, make } = await rig(t);
    const publisher = make();
    await publisher.start();
    await publisher.beginRun();
    await assert.rejects(
      publisher.publishPart({ ...segmentPart(0, T0), durationSeconds: Number.NaN }),
      (error: unknown) => error instanceof InvalidSegmentError && /NaN s is not allowed/.test(error.message),
    );
    await assert.rejects(
      publisher.publishPart({ ...segmentPart(0, T0), data: Buffer.alloc(0) }),
      InvalidSegmentError,
    );
    await assert.rejects(
      publisher.publishPart({ ...segmentPart(0, T0), independent: false }),
      /must start with an independent part/,
    );
    assert.equal(publisher.snapshot().segmentsWrittenTotal, 0);
    const ok = await closeSegment(publisher, clock, 2);
    assert.equal(ok?.sequence, 0);
  });

  test('an output dir that cannot be created is reported as HlsOutputError', async (t) => {
    const { dir } = await rig(t);
    const blocker = path.join(dir, 'a-file');
    await writeFile(blocker, 'x');
    const publisher = createHlsPublisher({
      config: { ...DEFAULT_CONFIG, output_dir: path.join(blocker, 'hls') },
      logger,
    });
    await assert.rejects(publisher.start(), (error: unknown) => {
      assert.ok(error instanceof HlsOutputError);
      assert.match(error.message, /a-file\/hls/);
      assert.ok(error.cause);
      return true;
    });
  });

  test('output dir deleted while running: recreated with the listed segments held in memory, the stream goes on', async (t) => {
    const { dir, publicDir, clock, make } = await rig(t);
    const publisher = make();
    await publisher.start();
    await publisher.beginRun();
    for (let i = 0; i < 2; i += 1) await closeSegment(publisher, clock, i);
    await rm(dir, { recursive: true, force: true });
    // The timer's cleanup and a late publish must not throw.
    clock.now += 1000;
    await publisher.cleanup();
    assert.ok(existsSync(publicDir), 'public dir recreated');
    assert.deepEqual(listedUris(publisher.playlistText()), ['seg-000000000.ts', 'seg-000000001.ts']);
    assert.deepEqual(await readFile(path.join(publicDir, 'seg-000000001.ts')), Buffer.alloc(1001, 1));
    const next = await closeSegment(publisher, clock, 2);
    assert.equal(next?.sequence, 2);
    assert.equal(next?.discontinuity, false, 'nothing vanished for a viewer');
    assert.equal(await readFile(path.join(publicDir, 'playlist.m3u8'), 'utf8'), publisher.playlistText());
  });

  test('a segment listed by an earlier supervisor and gone from disk leaves the playlist (nothing holds its bytes)', async (t) => {
    const { dir, publicDir, clock, make } = await rig(t);
    const first = make();
    await first.start();
    await first.beginRun();
    for (let i = 0; i < 2; i += 1) await closeSegment(first, clock, i);
    await first.stop();
    const publisher = make();
    await publisher.start();
    await rm(dir, { recursive: true, force: true });
    await publisher.cleanup();
    assert.ok(existsSync(publicDir), 'public dir recreated');
    assert.equal(publisher.playlistText(), null, 'its segments are gone: no playlist pointing at them');
    await publisher.beginRun();
    const next = await closeSegment(publisher, clock, 0);
    assert.equal(next?.sequence, 2);
    assert.equal(next?.discontinuity, true);
  });

  test('a segment that cannot be written: HlsOutputError, its sequence recorded, no temp file left, the playlist file not ahead of the files', async (t) => {
    const { dir, publicDir, clock, make } = await rig(t);
    const publisher = make();
    await publisher.start();
    await publisher.beginRun();
    await closeSegment(publisher, clock, 0);
    await mkdir(path.join(publicDir, 'seg-000000001.ts')); // rename() over a directory fails
    await assert.rejects(closeSegment(publisher, clock, 1), (error: unknown) => {
      assert.ok(error instanceof HlsOutputError);
      assert.match(error.message, /seg-000000001\.ts/);
      return true;
    });
    assert.deepEqual((await readdir(publicDir)).sort(), [
      'playlist.m3u8',
      'seg-000000000.ts',
      'seg-000000001.ts',
    ]);
    assert.deepEqual(listedUris(await readFile(path.join(publicDir, 'playlist.m3u8'), 'utf8')), [
      'seg-000000000.ts',
    ]);
    const state = JSON.parse(await readFile(path.join(dir, '.state.json'), 'utf8'));
    assert.equal(state.nextSequence, 2, 'sequence 1 is used up');
  });

  test('a playlist that cannot be written: HlsOutputError, the segment is still served from memory', async (t) => {
    const { publicDir, clock, make } = await rig(t);
    const publisher = make();
    await publisher.start();
    await publisher.beginRun();
    await closeSegment(publisher, clock, 0);
    await rm(path.join(publicDir, 'playlist.m3u8'));
    await mkdir(path.join(publicDir, 'playlist.m3u8')); // rename() over a directory fails
    const seen: number[] = [];
    publisher.onSegment((segment) => seen.push(segment.sequence));
    await assert.rejects(closeSegment(publisher, clock, 1), HlsOutputError);
    assert.deepEqual(seen, [1]);
    assert.deepEqual(listedUris(publisher.playlistText()), ['seg-000000000.ts', 'seg-000000001.ts']);
    assert.equal(publisher.snapshot().segmentsWrittenTotal, 2);
    assert.deepEqual(
      (await readdir(publicDir)).filter((name) => name.endsWith('.tmp')),
      [],
      'no temp file left behind',
    );
    // The obstacle goes away: the next segment is written normally.
    await rm(path.join(publicDir, 'playlist.m3u8'), { recursive: true });
    await closeSegment(publisher, clock, 2);
    assert.equal(await readFile(path.join(publicDir, 'playlist.m3u8'), 'utf8'), publisher.playlistText());
  });

  test('the cleanup timer deletes expired segments without being asked', async (t) => {
    const { publicDir, clock, disk, make } = await rig(t);
    const publisher = make({ max_segments: 1 });
    await publisher.start();
    await publisher.beginRun();
    for (let i = 0; i < 2; i += 1) await closeSegment(publisher, clock, i);
    disk.usedPercent = 99;
    // Interval: max(1 s, segment_duration) = 2 s here, once no segment came for that and a segment_duration more.
    await new Promise((resolve) => setTimeout(resolve, 4300));
    assert.ok(!existsSync(path.join(publicDir, 'seg-000000000.ts')));
    assert.ok(existsSync(path.join(publicDir, 'seg-000000001.ts')));
  });

  test('public dir deleted between segments: the next publish recreates it', async (t) => {
    const { publicDir, clock, make } = await rig(t);
    const publisher = make();
    await publisher.start();
    await publisher.beginRun();
    await closeSegment(publisher, clock, 0);
    await rm(publicDir, { recursive: true, force: true });
    const next = await closeSegment(publisher, clock, 1);
    assert.equal(next?.sequence, 1);
    assert.equal(next?.discontinuity, false);
    // Segment 0 is held in memory: written again, still listed.
    assert.deepEqual(listedUris(await readFile(path.join(publicDir, 'playlist.m3u8'), 'utf8')), [
      'seg-000000000.ts',
      'seg-000000001.ts',
    ]);
    assert.ok(existsSync(path.join(publicDir, 'seg-000000000.ts')));
  });
});

describe('files removed behind the publisher', () => {
  test('a listed segment deleted by hand (or replaced by a symlink) is written again from memory at the next cleanup; the playlist file comes back', async (t) => {
    const { publicDir, clock, make } = await rig(t);
    const publisher = make();
    await publisher.start();
    await publisher.beginRun();
    for (let i = 0; i < 3; i++) await closeSegment(publisher, clock, i);
    // A playlist has no holes: whatever precedes a vanished segment leaves with it.
    await rm(path.join(publicDir, 'seg-000000000.ts'));
    await symlink('/etc/hostname', path.join(publicDir, 'seg-000000000.ts'));
    await rm(path.join(publicDir, 'playlist.m3u8'));
    const hostname = await readFile('/etc/hostname');
    await publisher.cleanup();
    const text = await readFile(path.join(publicDir, 'playlist.m3u8'), 'utf8');
    assert.deepEqual(listedUris(text), ['seg-000000000.ts', 'seg-000000001.ts', 'seg-000000002.ts']);
    assert.equal(publisher.playlistText(), text);
    assert.deepEqual(await readFile(path.join(publicDir, 'seg-000000000.ts')), Buffer.alloc(1000, 0));
    assert.ok(
      !(await lstat(path.join(publicDir, 'seg-000000000.ts'))).isSymbolicLink(),
      'replaced, not written through',
    );
    assert.deepEqual(await readFile('/etc/hostname'), hostname, 'a symlink is never followed');
  });
});

describe('while segments are written (no cleanup timer turn)', () => {
  test('the full pass rides along a segment at least every 10 s: a listed segment deleted by hand comes back', async (t) => {
    const { publicDir, clock, make } = await rig(t);
    const publisher = make({ max_segments: 20 });
    await publisher.start();
    await publisher.beginRun();
    for (let i = 0; i < 3; i++) await closeSegment(publisher, clock, i);
    await rm(path.join(publicDir, 'seg-000000001.ts'));
    // 2 s segments: the sixth after the deletion is ≥ 10 s after the last pass.
    for (let i = 3; i < 9; i++) await closeSegment(publisher, clock, i);
    assert.deepEqual(await readFile(path.join(publicDir, 'seg-000000001.ts')), Buffer.alloc(1001, 1));
    assert.equal(listedUris(publisher.playlistText()).length, 9, 'still listed');
  });
});

describe('supervisor restart continuity', () => {
  async function firstLife(r: Rig): Promise<string> {
    const publisher = r.make({ max_segments: 3 });
    await publisher.start();
    await publisher.beginRun();
    for (let i = 0; i < 5; i += 1) await closeSegment(publisher, r.clock, i);
    await publisher.stop();
    return publisher.playlistText()!;
  }

  test('continues the playlist, keeps retained files, sweeps only orphans of ours', async (t) => {
    const r = await rig(t);
    const before = await firstLife(r);
    assert.deepEqual(listedUris(before), ['seg-000000002.ts', 'seg-000000003.ts', 'seg-000000004.ts']);
    const foreign = ['notes.txt', 'seg-12.ts', 'seg-000000007.ts.bak', 'index.html'];
    for (const name of foreign) await writeFile(path.join(r.publicDir, name), 'foreign');
    await writeFile(path.join(r.publicDir, 'seg-000000006.ts'), 'orphan of ours');
    await writeFile(path.join(r.publicDir, '.playlist.m3u8.0123456789ab.tmp'), 'temp of ours');
    await mkdir(path.join(r.dir, '.work'));
    await writeFile(path.join(r.dir, '.work', 'keep-me.txt'), 'foreign');
    await writeFile(path.join(r.dir, 'pipeline.pid'), '123');
    await writeFile(path.join(r.dir, '..state.json.0123456789ab.tmp'), 'temp of ours');

    r.clock.now += 3000;
    const publisher = r.make({ max_segments: 3 });
    await publisher.start();
    assert.equal(publisher.playlistText(), before, 'the same playlist is served again');
    const snap = publisher.snapshot();
    assert.equal(snap.mediaSequence, 2);
    assert.equal(snap.segments[0]!.bytes, 1002);
    assert.equal(snap.filesOnDisk, 5, 'listed 2,3,4 + retained 0,1');
    const names = await readdir(r.publicDir);
    for (const name of foreign) assert.ok(names.includes(name), `foreign ${name} kept`);
    assert.ok(names.includes('seg-000000000.ts') && names.includes('seg-000000001.ts'), 'retained kept');
    assert.ok(!names.includes('.playlist.m3u8.0123456789ab.tmp'));
    assert.ok(!names.includes('seg-000000006.ts'), 'orphan swept');
    assert.deepEqual(await readdir(path.join(r.dir, '.work')), ['keep-me.txt']);
    assert.ok(existsSync(path.join(r.dir, 'pipeline.pid')));
    assert.ok(!existsSync(path.join(r.dir, '..state.json.0123456789ab.tmp')));

    await publisher.beginRun();
    const next = await closeSegment(publisher, r.clock, 0);
    assert.equal(next?.sequence, 7, 'never reuses a sequence whose name was seen on disk');
    assert.equal(next?.discontinuity, true);
    assert.match(publisher.playlistText()!, /seg-000000004\.ts\n#EXT-X-DISCONTINUITY\n/);
    assert.match(publisher.playlistText()!, /#EXT-X-MEDIA-SEQUENCE:3\n/);

    // The retained segments keep their deadlines across the restart (0 left at T0+8 s, 1 at T0+10 s,
    // each from a 6 s playlist: 8 s minimum, 16 s normal retention).
    r.clock.now = T0 + 10_000 + 16_000;
    await publisher.cleanup();
    const after = await readdir(r.publicDir);
    assert.ok(!after.includes('seg-000000000.ts') && !after.includes('seg-000000001.ts'));
    assert.ok(after.includes('seg-000000002.ts'), 'left the playlist just now: retained');
  });

  test('without the state file it still continues from the playlist and never goes backwards', async (t) => {
    const r = await rig(t);
    await firstLife(r);
    await rm(path.join(r.dir, '.state.json'));
    const publisher = r.make({ max_segments: 3 });
    await publisher.start();
    assert.equal(publisher.snapshot().mediaSequence, 2);
    await publisher.beginRun();
    const next = await closeSegment(publisher, r.clock, 0);
    assert.equal(next?.sequence, 5);
    assert.equal(next?.discontinuity, true);
  });

  test('segments of the old playlist that vanished are dropped, the rest continues', async (t) => {
    const r = await rig(t);
    await firstLife(r);
    await rm(path.join(r.publicDir, 'seg-000000003.ts'));
    const publisher = r.make({ max_segments: 3 });
    await publisher.start();
    assert.deepEqual(listedUris(publisher.playlistText()), ['seg-000000004.ts']);
    assert.equal(await readFile(path.join(r.publicDir, 'playlist.m3u8'), 'utf8'), publisher.playlistText());
    assert.ok(
      existsSync(path.join(r.publicDir, 'seg-000000002.ts')),
      'present but unlisted: retained, not swept',
    );
    const s = await stat(path.join(r.dir, '.state.json'));
    assert.ok(s.isFile());
  });

  test('a symlink in place of playlist.m3u8 or .state.json is never followed: a new playlist starts', async (t) => {
    const r = await rig(t);
    await mkdir(r.publicDir, { recursive: true });
    const elsewhere = path.join(r.dir, 'elsewhere.m3u8');
    const foreign =
      '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:500\n#EXTINF:2.000,\nseg-000000500.ts\n';
    await writeFile(elsewhere, foreign);
    await symlink(elsewhere, path.join(r.publicDir, 'playlist.m3u8'));
    await symlink(elsewhere, path.join(r.dir, '.state.json'));
    const publisher = r.make();
    await publisher.start();
    assert.equal(publisher.playlistText(), null, 'not adopted');
    await publisher.beginRun();
    const first = await closeSegment(publisher, r.clock, 0);
    assert.equal(first?.sequence, 0);
    assert.equal(await readFile(elsewhere, 'utf8'), foreign, 'the link target is untouched');
    assert.ok(
      !(await lstat(path.join(r.publicDir, 'playlist.m3u8'))).isSymbolicLink(),
      'replaced, not written through',
    );
  });

  test('a foreign or corrupt playlist.m3u8 does not stop the start', async (t) => {
    const r = await rig(t);
    await mkdir(r.publicDir, { recursive: true });
    await writeFile(path.join(r.publicDir, 'playlist.m3u8'), 'garbage');
    await writeFile(path.join(r.dir, '.state.json'), '{"version":1,');
    const publisher = r.make();
    await publisher.start();
    assert.equal(publisher.playlistText(), null);
    await publisher.beginRun();
    const first = await closeSegment(publisher, r.clock, 0);
    assert.equal(first?.sequence, 0);
  });
});

describe('continuingSequence', () => {
  test('after everything recorded and every plausible file of ours on disk', () => {
    assert.equal(continuingSequence(5, []), 5);
    assert.equal(continuingSequence(5, [2, 6]), 7);
  });
  test('a stray file far ahead (seg-999999999.ts) cannot push the sequence to the 9-digit limit', () => {
    assert.equal(continuingSequence(5, [999_999_999, 4]), 5);
    assert.equal(continuingSequence(5, [5 + 999]), 1005);
    assert.equal(continuingSequence(5, [5 + 1000]), 5);
  });
  test('never beyond the largest sequence a name can carry', () => {
    assert.equal(continuingSequence(2_000_000_000, []), 999_999_999);
  });
});
