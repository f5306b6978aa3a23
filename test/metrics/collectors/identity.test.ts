import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONFIG } from '../../../src/config/schema.ts';
import { identityCollector } from '../../../src/metrics/collectors/identity.ts';
import { FakeSupervisor, recordingLogger } from '../fakes.ts';
import { registryWith, sampleValue, scrapeSamples, seriesOf } from '../samples.ts';

function setup() {
  const supervisor = new FakeSupervisor();
  const config = { ...DEFAULT_CONFIG, fps: 20, bitrate: 2500, segment_duration: 4, max_restarts: 9 };
  config.unity_optimization = { ...DEFAULT_CONFIG.unity_optimization, gpu_memory_limit_mb: 768 };
  const registry = registryWith(
    recordingLogger().logger,
    identityCollector({
      config,
      supervisor,
      version: '1.2.3',
      gstreamerVersion: '1.22.0',
      kioskName: 'lobby-1',
      nodeVersion: '20.20.2',
    }),
  );
  return { supervisor, registry };
}

test('build_info, capture_info and the configured targets in base units', async () => {
  const { registry } = setup();
  const samples = await scrapeSamples(registry);
  assert.equal(
    sampleValue(samples, 'desktop_streamer_build_info', {
      version: '1.2.3',
      node_version: '20.20.2',
      gstreamer_version: '1.22.0',
    }),
    1,
  );
  assert.deepEqual(seriesOf(samples, 'desktop_streamer_capture_info')[0]?.labels, {
    kiosk: 'lobby-1',
    monitor: 'DUMMY1',
    output: 'DUMMY1',
    geometry: '1280x720+1920+0',
    encoder: 'x264enc',
    width: 1280,
    height: 720,
    fps: 15,
  });
  assert.equal(sampleValue(samples, 'desktop_streamer_config_fps'), 20);
  assert.equal(sampleValue(samples, 'desktop_streamer_config_bitrate_bytes_per_second'), 312_500);
  assert.equal(sampleValue(samples, 'desktop_streamer_config_segment_duration_seconds'), 4);
  assert.equal(sampleValue(samples, 'desktop_streamer_config_gpu_memory_limit_bytes'), 768 * 1024 * 1024);
  assert.equal(sampleValue(samples, 'desktop_streamer_config_max_restarts'), 9);
  assert.equal(sampleValue(samples, 'desktop_streamer_config_cpu_quota_ratio'), 0.3);
  assert.equal(sampleValue(samples, 'desktop_streamer_config_memory_limit_bytes'), 800 * 1024 * 1024);
});

test('capture_info follows the capture plan: replaced when it changes, absent without one', async () => {
  const { registry, supervisor } = setup();
  await scrapeSamples(registry);
  const plan = supervisor.current.capture!;
  supervisor.current = {
    ...supervisor.current,
    capture: {
      ...plan,
      monitor: { ...plan.monitor, name: 'HDMI-A-1', outputs: ['HDMI-A-1'], width: 1920, height: 1080 },
      encoder: { element: 'vah264enc', reason: 'VA device' },
    },
  };
  let series = seriesOf(await scrapeSamples(registry), 'desktop_streamer_capture_info');
  assert.equal(series.length, 1, 'the old plan is gone');
  assert.equal(series[0]?.labels.geometry, '1920x1080+1920+0');
  assert.equal(series[0]?.labels.encoder, 'vah264enc');
  supervisor.current = { ...supervisor.current, capture: null };
  series = seriesOf(await scrapeSamples(registry), 'desktop_streamer_capture_info');
  assert.equal(series.length, 0);
});
