import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLiveWindow, type LiveWindow } from '../../src/hls/live-window.ts';
import { lowLatencyTiming } from '../../src/hls/low-latency.ts';
import type { NewPart } from '../../src/hls/types.ts';

const T0 = Date.UTC(2026, 10, 30, 11, 0, 0);

function makeWindow(clock = { now: T0 }): LiveWindow {
  return createLiveWindow({ segmentDurationSeconds: 2, timing: lowLatencyTiming(15), now: () => clock.now });
}

function part(fill: number, overrides: Partial<NewPart> = {}): NewPart {
  return {
    data: Buffer.alloc(10, fill),
    durationSeconds: 0.2,
    independent: true,
    startsSegment: false,
    endsSegment: false,
    frames: 3,
    programDateTime: T0,
    ...overrides,
  };
}

describe('live window', () => {
  test('a closed segment is its parts concatenated, its duration in whole milliseconds', () => {
    const window = makeWindow();
    window.beginRun();
    for (let i = 0; i < 10; i += 1) window.appendPart(part(i, { independent: i === 0 }));
    assert.deepEqual(window.liveEdge(), { msn: 0, parts: 10, hinted: true });
    const closed = window.closeOpenSegment(3);
    assert.equal(closed.segment.durationSeconds, 2);
    assert.equal(closed.segment.frames, 30);
    assert.equal(closed.segment.parts?.length, 10);
    assert.deepEqual(closed.data, Buffer.concat(Array.from({ length: 10 }, (_, i) => Buffer.alloc(10, i))));
    assert.deepEqual(closed.removed, []);
    assert.deepEqual(window.listedSegmentData('seg-000000000.ts'), closed.data);
    assert.deepEqual(window.liveEdge(), { msn: 1, parts: 0, hinted: true });
    assert.equal(window.hasOpenSegment(), false);
    assert.equal(
      window.plainText(),
      null,
      'the plain playlist is rendered for the disk, not on every change',
    );
    assert.match(window.renderPlainText() ?? '', /seg-000000000\.ts/);
  });

  test('segments and parts that leave the window lose their bytes', () => {
    const window = makeWindow();
    window.beginRun();
    for (let i = 0; i < 4; i += 1) {
      window.appendPart(part(i, { durationSeconds: 2 }));
      window.closeOpenSegment(3);
    }
    assert.equal(window.listedSegmentData('seg-000000000.ts'), null);
    assert.notEqual(window.listedSegmentData('seg-000000001.ts'), null);
    assert.equal(window.partData('seg-000000000.p0.ts'), null);
    assert.notEqual(window.partData('seg-000000003.p0.ts'), null);
    const removed = window.slide(1);
    assert.deepEqual(
      removed.map((entry) => entry.segment.sequence),
      [1, 2],
    );
    assert.equal(window.listedSegmentData('seg-000000001.ts'), null);
    assert.equal(window.model().entries.length, 1);
  });

  test('dropMissing: null when all are present; otherwise everything up to the newest missing goes', () => {
    const window = makeWindow();
    for (let i = 0; i < 3; i += 1) {
      window.appendPart(part(i, { durationSeconds: 2 }));
      window.closeOpenSegment(5);
    }
    assert.equal(
      window.dropMissing(() => true),
      null,
    );
    const removed = window.dropMissing((uri) => uri !== 'seg-000000001.ts');
    assert.deepEqual(
      removed?.map((entry) => entry.segment.sequence),
      [0],
    );
    assert.deepEqual(
      window.model().entries.map((entry) => entry.segment.sequence),
      [2],
    );
    assert.equal(window.model().discontinuityPending, true);
  });

  test('waitForMedia wakes on the part asked for, and tells how long it waited by the injected clock', async () => {
    const clock = { now: T0 };
    const window = makeWindow(clock);
    const waits: Array<[number, boolean]> = [];
    window.onReloadWait((seconds, satisfied) => waits.push([seconds, satisfied]));
    window.beginRun();
    assert.equal(await window.waitForMedia(0, null, 0), false);
    const waiting = window.waitForMedia(0, 1, 10_000);
    window.appendPart(part(0));
    clock.now += 400;
    window.appendPart(part(1, { independent: false }));
    assert.equal(await waiting, true);
    assert.equal(await window.waitForMedia(0, 1, 10_000), true, 'listed already: no wait');
    assert.deepEqual(waits, [
      [0, false],
      [0.4, true],
    ]);
  });

  test('waitForMedia gives up after its timeout (mock timers: no real waiting)', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const window = makeWindow();
    let settled: boolean | null = null;
    const waiting = window.waitForMedia(3, null, 5_000).then((ready) => {
      settled = ready;
    });
    t.mock.timers.tick(4_999);
    await Promise.resolve();
    assert.equal(settled, null);
    t.mock.timers.tick(1);
    await waiting;
    assert.equal(settled, false);
  });

  test('the live playlist announces the next part once a run began, and lists the open parts', () => {
    const window = makeWindow();
    assert.equal(window.livePlaylistText(), null);
    window.beginRun();
    window.appendPart(part(0));
    const text = window.livePlaylistText() ?? '';
    assert.match(text, /#EXT-X-PART:DURATION=0\.200,URI="seg-000000000\.p0\.ts",INDEPENDENT=YES/);
    assert.match(text, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-000000000\.p1\.ts"/);
    assert.equal(window.partData('seg-000000000.p0.ts')?.length, 10);
    assert.equal(window.partData('not-a-part.ts'), null);
  });
});
