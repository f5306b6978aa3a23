import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  hlsCollector,
  publishLagSeconds,
  segmentLagSeconds,
  windowRates,
} from '../../../src/metrics/collectors/hls.ts';
import { FakeHls, FakeSupervisor, NOW, recordingLogger, segment } from '../fakes.ts';
import { registryWith, sampleValue, scrapeSamples, seriesOf } from '../samples.ts';

function setup(now = () => NOW) {
  const hls = new FakeHls();
  const supervisor = new FakeSupervisor();
  const registry = registryWith(
    recordingLogger().logger,
    hlsCollector({ config: { segment_duration: 2 }, hls, supervisor, now }),
  );
  return { hls, supervisor, registry };
}

test('windowRates: bytes*8 and frames over the window duration; fps only over segments with a frame count', () => {
  assert.deepEqual(windowRates([]), { bytesPerSecond: 0, framesPerSecond: 0 });
  const rates = windowRates([
    segment(1, { durationSeconds: 2, bytes: 500_000, frames: 30 }),
    segment(2, { durationSeconds: 1.5, bytes: 250_000, frames: 22 }),
    segment(3, { durationSeconds: 2, bytes: 400_000, frames: null }),
  ]);
  assert.equal(rates.bytesPerSecond, (500_000 + 250_000 + 400_000) / 5.5);
  assert.equal(rates.framesPerSecond, 52 / 3.5);
  assert.ok(Number.isNaN(windowRates([segment(1, { frames: null })]).framesPerSecond), 'unknown, not 0');
  assert.deepEqual(windowRates([segment(1, { durationSeconds: 0 })]), {
    bytesPerSecond: 0,
    framesPerSecond: 0,
  });
});

test('segmentLagSeconds: max(0, now − last − duration), the supervisor start before the first segment', () => {
  assert.equal(segmentLagSeconds(10_000, 9_000, 0, 2), 0);
  assert.equal(segmentLagSeconds(10_000, 5_000, 0, 2), 3);
  assert.equal(segmentLagSeconds(10_000, null, 4_000, 2), 4);
  assert.equal(segmentLagSeconds(10_000, 12_000, 0, 2), 0, 'clock skew never goes negative');
});

test('snapshot series: totals, timestamps, disk, sequence, measured rates', async () => {
  const { registry } = setup();
  const samples = await scrapeSamples(registry);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_segments_written_total'), 10);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_discontinuities_total'), 1);
  assert.equal(
    sampleValue(samples, 'desktop_streamer_hls_last_segment_timestamp_seconds'),
    (NOW - 3000) / 1000,
  );
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_segment_lag_seconds'), 1);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_segments_on_disk'), 8);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_disk_bytes'), 4_000_000);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_media_sequence'), 5);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_output_bitrate_bytes_per_second'), 250_000);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_output_frames_per_second'), 15);
});

test('a stalled stream: the lag grows with the clock', async () => {
  let now = NOW;
  const { registry } = setup(() => now);
  now = NOW + 60_000;
  const samples = await scrapeSamples(registry);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_segment_lag_seconds'), 61);
});

test('before the first segment: timestamp 0, lag counted from the supervisor start, empty window rates 0', async () => {
  const { hls, registry } = setup();
  hls.current = { ...hls.current, segments: [], lastSegmentAt: null, segmentsWrittenTotal: 0 };
  const samples = await scrapeSamples(registry);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_last_segment_timestamp_seconds'), 0);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_segment_lag_seconds'), 3600 - 2);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_output_bitrate_bytes_per_second'), 0);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_output_frames_per_second'), 0);
});

test('histograms are fed by every published segment', async () => {
  const { hls, registry } = setup();
  hls.emit(segment(10, { durationSeconds: 2, bytes: 300_000 }));
  hls.emit(segment(11, { durationSeconds: 1.9, bytes: 700_000 }));
  hls.emit(segment(12, { durationSeconds: 7, bytes: 5_000 }));
  const samples = await scrapeSamples(registry);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_segment_duration_seconds_count'), 3);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_segment_duration_seconds_sum'), 10.9);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_segment_duration_seconds_bucket', { le: 2 }), 2);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_segment_duration_seconds_bucket', { le: 6 }), 2);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_segment_duration_seconds_bucket', { le: 8 }), 3);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_segment_size_bytes_sum'), 1_005_000);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_segment_size_bytes_bucket', { le: 16384 }), 1);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_segment_size_bytes_bucket', { le: 524288 }), 2);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_segment_size_bytes_bucket', { le: '+Inf' }), 3);
  assert.ok(seriesOf(samples, 'desktop_streamer_hls_segment_size_bytes_bucket').length > 5);
});

test('publishLagSeconds: from the end of the media (PDT + duration) to now, never negative', () => {
  assert.ok(Math.abs(publishLagSeconds(10_000, 9_700, 0.2) - 0.1) < 1e-9);
  assert.equal(publishLagSeconds(10_000, 9_900, 0.2), 0, 'a PDT slightly ahead of the clock');
});

test('parts, publish lag by kind and blocking reload waits by outcome', async () => {
  const { hls, registry } = setup();
  hls.emitPart({
    uri: 'seg-000000005.p0.ts',
    durationSeconds: 0.2,
    independent: true,
    programDateTime: NOW - 250,
  });
  hls.emitPart({
    uri: 'seg-000000005.p1.ts',
    durationSeconds: 0.2,
    independent: false,
    programDateTime: NOW - 50,
  });
  hls.emit(segment(5, { durationSeconds: 2, programDateTime: NOW - 2100 }));
  hls.emitReloadWait(0.18, true);
  hls.emitReloadWait(6, false);
  const samples = await scrapeSamples(registry);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_parts_published_total'), 2);
  assert.equal(sampleValue(samples, 'desktop_streamer_hls_publish_lag_seconds_count', { kind: 'part' }), 2);
  const partLag = sampleValue(samples, 'desktop_streamer_hls_publish_lag_seconds_sum', { kind: 'part' });
  assert.ok(Math.abs(partLag - 0.05) < 1e-9, `part lag sum ${partLag}`);
  assert.ok(
    Math.abs(
      sampleValue(samples, 'desktop_streamer_hls_publish_lag_seconds_sum', { kind: 'segment' }) - 0.1,
    ) < 1e-9,
  );
  assert.equal(
    sampleValue(samples, 'desktop_streamer_hls_blocking_reload_wait_seconds_count', { outcome: 'ready' }),
    1,
  );
  assert.equal(
    sampleValue(samples, 'desktop_streamer_hls_blocking_reload_wait_seconds_sum', { outcome: 'timeout' }),
    6,
  );
});
