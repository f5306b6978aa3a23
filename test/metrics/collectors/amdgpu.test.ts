import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  amdGpuCollector,
  parseUeventDriver,
  readAmdGpuCards,
} from '../../../src/metrics/collectors/amdgpu.ts';
import { recordingLogger } from '../fakes.ts';
import { registryWith, sampleValue, scrapeSamples, seriesOf } from '../samples.ts';

const FIXTURE_SYSFS = fileURLToPath(new URL('../../fixtures/sysfs', import.meta.url));

test('uevent: DRIVER= line', () => {
  assert.equal(parseUeventDriver('PCI_CLASS=30000\nDRIVER=amdgpu\nPCI_ID=1002:1638\n'), 'amdgpu');
  assert.equal(parseUeventDriver('PCI_CLASS=30000\n'), null);
  assert.equal(parseUeventDriver('DRIVER=\n'), null);
});

test('fixture tree: amdgpu cards only, in card-number order, connectors and render nodes skipped', async () => {
  const cards = await readAmdGpuCards(FIXTURE_SYSFS);
  assert.deepEqual(
    cards.map((c) => c.card),
    ['card0', 'card2', 'card10'],
  );
  assert.deepEqual(cards[0], {
    card: 'card0',
    driver: 'amdgpu',
    vramUsedBytes: 274579456,
    vramTotalBytes: 536870912,
    gttUsedBytes: 31035392,
    gttTotalBytes: 12883853312,
    busyRatio: 0.17,
  });
  assert.deepEqual(cards[1], {
    card: 'card2',
    driver: 'amdgpu',
    vramUsedBytes: null,
    vramTotalBytes: 2147483648,
    gttUsedBytes: null,
    gttTotalBytes: null,
    busyRatio: null,
  });
});

test('series: info per amdgpu card, a value series only where the file is there and readable', async () => {
  const registry = registryWith(recordingLogger().logger, amdGpuCollector({ sysfsRoot: FIXTURE_SYSFS }));
  const samples = await scrapeSamples(registry);
  assert.deepEqual(
    seriesOf(samples, 'desktop_streamer_drm_card_info').map((s) => s.labels),
    [
      { card: 'card0', driver: 'amdgpu' },
      { card: 'card2', driver: 'amdgpu' },
      { card: 'card10', driver: 'amdgpu' },
    ],
  );
  assert.equal(
    sampleValue(samples, 'desktop_streamer_drm_memory_vram_used_bytes', { card: 'card0' }),
    274579456,
  );
  assert.equal(
    sampleValue(samples, 'desktop_streamer_drm_memory_vram_size_bytes', { card: 'card10' }),
    17163091968,
  );
  assert.equal(
    sampleValue(samples, 'desktop_streamer_drm_memory_gtt_used_bytes', { card: 'card10' }),
    8388608,
  );
  assert.equal(
    sampleValue(samples, 'desktop_streamer_drm_memory_gtt_size_bytes', { card: 'card0' }),
    12883853312,
  );
  assert.equal(sampleValue(samples, 'desktop_streamer_drm_gpu_busy_ratio', { card: 'card10' }), 1);
  assert.equal(
    sampleValue(samples, 'desktop_streamer_drm_memory_vram_size_bytes', { card: 'card2' }),
    2147483648,
  );
  for (const name of [
    'desktop_streamer_drm_memory_vram_used_bytes',
    'desktop_streamer_drm_memory_gtt_used_bytes',
    'desktop_streamer_drm_memory_gtt_size_bytes',
    'desktop_streamer_drm_gpu_busy_ratio',
  ]) {
    assert.equal(seriesOf(samples, name, { card: 'card2' }).length, 0, `${name} absent for card2`);
  }
  assert.equal(seriesOf(samples, 'desktop_streamer_drm_gpu_busy_ratio', { card: 'card1' }).length, 0, 'i915');
  assert.equal(sampleValue(samples, 'desktop_streamer_scrape_collector_success', { collector: 'amdgpu' }), 1);
});

test('no DRM class at all (a VM, or sysfs_root elsewhere): no series, success', async () => {
  const registry = registryWith(
    recordingLogger().logger,
    amdGpuCollector({ sysfsRoot: '/nonexistent-sysfs' }),
  );
  const samples = await scrapeSamples(registry);
  assert.equal(seriesOf(samples, 'desktop_streamer_drm_card_info').length, 0);
  assert.equal(sampleValue(samples, 'desktop_streamer_scrape_collector_success', { collector: 'amdgpu' }), 1);
});

test('a card that disappears (hot-unplug, driver unbind) takes its series with it', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'sysfs-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const device = join(root, 'class', 'drm', 'card3', 'device');
  await mkdir(device, { recursive: true });
  await writeFile(join(device, 'uevent'), 'DRIVER=amdgpu\n');
  await writeFile(join(device, 'mem_info_vram_used'), '1024\n');
  const registry = registryWith(recordingLogger().logger, amdGpuCollector({ sysfsRoot: root }));
  let samples = await scrapeSamples(registry);
  assert.equal(sampleValue(samples, 'desktop_streamer_drm_memory_vram_used_bytes', { card: 'card3' }), 1024);
  await rm(join(root, 'class', 'drm', 'card3'), { recursive: true });
  samples = await scrapeSamples(registry);
  assert.equal(seriesOf(samples, 'desktop_streamer_drm_card_info').length, 0);
  assert.equal(seriesOf(samples, 'desktop_streamer_drm_memory_vram_used_bytes').length, 0);
});

test('the real /sys of this machine is read without failing', async () => {
  const registry = registryWith(recordingLogger().logger, amdGpuCollector({ sysfsRoot: '/sys' }));
  const samples = await scrapeSamples(registry);
  assert.equal(sampleValue(samples, 'desktop_streamer_scrape_collector_success', { collector: 'amdgpu' }), 1);
});
