import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pictureCollector } from '../../../src/metrics/collectors/picture.ts';
import { recordingLogger } from '../fakes.ts';
import { registryWith, sampleValue, scrapeSamples } from '../samples.ts';

test('picture tap values pass through', async () => {
  const registry = registryWith(
    recordingLogger().logger,
    pictureCollector({ picture: { snapshot: () => ({ unchangedSeconds: 12.5, brightness: 0.42 }) } }),
  );
  const samples = await scrapeSamples(registry);
  assert.equal(sampleValue(samples, 'desktop_streamer_picture_unchanged_seconds'), 12.5);
  assert.equal(sampleValue(samples, 'desktop_streamer_picture_brightness_ratio'), 0.42);
});

test('without a tap, or before its first frame, both are NaN (unknown), never a fake black 0', async () => {
  for (const picture of [undefined, { snapshot: () => null }]) {
    const registry = registryWith(recordingLogger().logger, pictureCollector({ picture }));
    const samples = await scrapeSamples(registry);
    assert.ok(Number.isNaN(sampleValue(samples, 'desktop_streamer_picture_unchanged_seconds')));
    assert.ok(Number.isNaN(sampleValue(samples, 'desktop_streamer_picture_brightness_ratio')));
  }
});
