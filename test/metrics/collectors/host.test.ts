import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostCollector, systemHostSource } from '../../../src/metrics/collectors/host.ts';
import { fakeHostSource, recordingLogger } from '../fakes.ts';
import { registryWith, sampleValue, scrapeSamples, seriesOf } from '../samples.ts';

test('host series from a fake source, network devices replaced when they change', async () => {
  let devices = ['eth0', 'lo'];
  const registry = registryWith(
    recordingLogger().logger,
    hostCollector({
      outputDir: '/var/hls',
      source: fakeHostSource({
        network: async () => devices.map((device) => ({ device, receiveBytes: 10, transmitBytes: 20 })),
      }),
    }),
  );
  let samples = await scrapeSamples(registry);
  assert.equal(sampleValue(samples, 'desktop_streamer_host_cpu_usage_ratio'), 0.25);
  assert.equal(sampleValue(samples, 'desktop_streamer_host_memory_total_bytes'), 8 * 2 ** 30);
  assert.equal(sampleValue(samples, 'desktop_streamer_host_memory_available_bytes'), 5 * 2 ** 30);
  assert.equal(sampleValue(samples, 'desktop_streamer_host_load1'), 0.5);
  assert.equal(
    sampleValue(samples, 'desktop_streamer_host_filesystem_size_bytes', { mountpoint: '/var' }),
    100 * 2 ** 30,
  );
  assert.equal(
    sampleValue(samples, 'desktop_streamer_host_filesystem_avail_bytes', { mountpoint: '/var' }),
    40 * 2 ** 30,
  );
  assert.equal(
    sampleValue(samples, 'desktop_streamer_host_network_receive_bytes_total', { device: 'eth0' }),
    10,
  );
  assert.equal(
    sampleValue(samples, 'desktop_streamer_host_network_transmit_bytes_total', { device: 'lo' }),
    20,
  );
  devices = ['wlan0'];
  samples = await scrapeSamples(registry);
  assert.deepEqual(
    seriesOf(samples, 'desktop_streamer_host_network_receive_bytes_total').map((s) => s.labels.device),
    ['wlan0'],
  );
});

test('the real host: sane values, output_dir that does not exist yet counts as its parent filesystem', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'host-metrics-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const source = systemHostSource();
  const registry = registryWith(
    recordingLogger().logger,
    hostCollector({ outputDir: join(dir, 'not', 'yet', 'there'), source }),
  );
  await scrapeSamples(registry);
  const samples = await scrapeSamples(registry);
  assert.equal(sampleValue(samples, 'desktop_streamer_scrape_collector_success', { collector: 'host' }), 1);
  const cpu = sampleValue(samples, 'desktop_streamer_host_cpu_usage_ratio');
  assert.ok(cpu >= 0 && cpu <= 1, `cpu ${cpu}`);
  const total = sampleValue(samples, 'desktop_streamer_host_memory_total_bytes');
  const available = sampleValue(samples, 'desktop_streamer_host_memory_available_bytes');
  assert.ok(total > 256 * 2 ** 20 && available > 0 && available <= total, `${available}/${total}`);
  const [size] = seriesOf(samples, 'desktop_streamer_host_filesystem_size_bytes');
  const [avail] = seriesOf(samples, 'desktop_streamer_host_filesystem_avail_bytes');
  assert.ok(size && avail && size.value > 0 && avail.value <= size.value);
  const expected = await source.filesystem(tmpdir());
  assert.equal(size.labels.mountpoint, expected.mountpoint);
  assert.ok(
    seriesOf(samples, 'desktop_streamer_host_network_receive_bytes_total', { device: 'lo' }).length === 1,
  );
});
