import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildDetailed, buildHealth } from '../../src/api/health-model.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { hlsSnapshot, supervisorSnapshot } from './helpers.ts';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const REFUSED = readFileSync(new URL('../fixtures/x-access/xrandr-no-cookie.txt', import.meta.url), 'utf8');

function detailed(overrides: Parameters<typeof supervisorSnapshot>[0]) {
  const supervisor = supervisorSnapshot(overrides);
  const hls = hlsSnapshot();
  const health = buildHealth({
    supervisor,
    hls,
    config: DEFAULT_CONFIG,
    now: NOW,
    relayReachable: false,
    memoryUsageBytes: 0,
    systemMemoryPercent: 0,
  });
  return buildDetailed({ supervisor, hls, config: DEFAULT_CONFIG, now: NOW, health });
}

test('detailed.display names a refused X connection and keeps what xrandr said', () => {
  const json = detailed({ state: 'no_signal', displayError: REFUSED });
  assert.equal(json.display.access, 'refused');
  assert.match(json.display.error ?? '', /^Authorization required, but no authorization protocol specified/);
});

test('detailed.display is granted while xrandr answers, and error is null', () => {
  assert.deepEqual(detailed({ state: 'streaming', displayError: null }).display, {
    access: 'granted',
    error: null,
  });
});

test('detailed.display is unknown before the first plan (also for snapshots without the field)', () => {
  const json = detailed({ capture: null });
  assert.deepEqual(json.display, { access: 'unknown', error: null });
});
