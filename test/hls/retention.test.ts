import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  appendSegment,
  emptyPlaylist,
  type PlaylistEntry,
  type PlaylistModel,
} from '../../src/hls/playlist.ts';
import {
  classifyDiskPressure,
  DISK_CRITICAL_PERCENT,
  planDeletions,
  retire,
  rfcMinimumRetentionMs,
  windowSize,
} from '../../src/hls/retention.ts';

const thresholds = { cleanup_threshold_percent: 70, emergency_cleanup_threshold_percent: 85 };
const windows = { max_segments: 5, emergency_segments: 2 };

describe('disk pressure', () => {
  test('classified by the configured thresholds, critical near full', () => {
    assert.equal(classifyDiskPressure(10, thresholds), 'normal');
    assert.equal(classifyDiskPressure(70, thresholds), 'high');
    assert.equal(classifyDiskPressure(85, thresholds), 'emergency');
    assert.equal(classifyDiskPressure(DISK_CRITICAL_PERCENT, thresholds), 'critical');
    assert.equal(classifyDiskPressure(100, thresholds), 'critical');
  });

  test('window: max_segments, emergency_segments under emergency, never 0 nor above max', () => {
    assert.equal(windowSize('normal', windows), 5);
    assert.equal(windowSize('high', windows), 5);
    assert.equal(windowSize('emergency', windows), 2);
    assert.equal(windowSize('critical', windows), 2);
    assert.equal(windowSize('emergency', { max_segments: 3, emergency_segments: 9 }), 3);
    assert.equal(windowSize('critical', { max_segments: 3, emergency_segments: 0 }), 1);
  });
});

describe('RFC 8216 §6.2.2 retention with a fake clock', () => {
  const t0 = 1_000_000;
  let model: PlaylistModel = emptyPlaylist(2);
  const removed: PlaylistEntry[] = [];
  for (let i = 0; i < 6; i += 1) {
    const result = appendSegment(
      model,
      { durationSeconds: 2, bytes: 100, programDateTime: t0, frames: null },
      5,
    );
    model = result.model;
    removed.push(...result.removed);
  }
  const [gone] = removed;

  test('a segment that left a 10 s playlist must stay 2 + 10 = 12 s', () => {
    assert.equal(gone!.segment.sequence, 0);
    assert.equal(rfcMinimumRetentionMs(gone!), 12_000);
  });

  test('normal keeps it twice the minimum; high/emergency delete at the minimum; critical at once', () => {
    const retained = retire([gone!], t0);
    assert.equal(retained[0]!.earliestDeleteAt, t0 + 12_000);
    assert.equal(retained[0]!.deleteAt, t0 + 24_000);
    const at = (ms: number, pressure: Parameters<typeof planDeletions>[2]) =>
      planDeletions(retained, t0 + ms, pressure).remove.length;
    assert.equal(at(11_999, 'high'), 0);
    assert.equal(at(12_000, 'high'), 1);
    assert.equal(at(12_000, 'emergency'), 1);
    assert.equal(at(12_000, 'normal'), 0);
    assert.equal(at(23_999, 'normal'), 0);
    assert.equal(at(24_000, 'normal'), 1);
    assert.equal(at(0, 'critical'), 1);
  });

  test('plan splits into remove and keep without losing any', () => {
    const later = retire(removed, t0 + 5_000);
    const plan = planDeletions([...retire([gone!], t0), ...later], t0 + 13_000, 'high');
    assert.equal(plan.remove.length, 1);
    assert.equal(plan.keep.length, later.length);
  });
});
