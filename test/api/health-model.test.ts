import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildDetailed,
  buildHealth,
  buildStatus,
  isHealthy,
  isStreamActive,
  REDACTED,
  redactConfig,
  segmentLagSeconds,
  serviceStateFromSupervisor,
  serviceStateFromSystemd,
} from '../../src/api/health-model.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { hlsSnapshot, supervisorSnapshot } from './helpers.ts';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const config = { ...DEFAULT_CONFIG };

function health(overrides: Parameters<typeof buildHealth>[0] extends infer T ? Partial<T> : never = {}) {
  return buildHealth({
    supervisor: supervisorSnapshot({ startedAt: NOW - 45.25 * 60_000 }),
    hls: hlsSnapshot({ lastSegmentAt: NOW - 1000 }),
    config,
    now: NOW,
    relayReachable: true,
    memoryUsageBytes: 245.6 * 1024 * 1024,
    systemMemoryPercent: 45.23,
    ...overrides,
  });
}

describe('buildHealth', () => {
  it('has exactly the fields of the earlier system', () => {
    assert.deepEqual(Object.keys(health()).sort(), [
      'current_state',
      'last_error',
      'mediamtx_running',
      'memory_usage_mb',
      'monitoring_active',
      'recent_errors',
      'restart_count',
      'stream_active',
      'system_memory_percent',
      'total_errors',
      'uptime_minutes',
    ]);
  });

  it('maps the snapshots', () => {
    const h = health();
    assert.equal(h.monitoring_active, true);
    assert.equal(h.total_errors, 3);
    assert.equal(h.recent_errors, 1);
    assert.equal(h.current_state, 'PLAYING');
    assert.equal(h.stream_active, true);
    assert.equal(h.restart_count, 2);
    assert.equal(h.last_error, 'Internal data stream error.');
    assert.equal(h.uptime_minutes, 45.3);
    assert.equal(h.memory_usage_mb, 245.6);
    assert.equal(h.system_memory_percent, 45.2);
  });

  it('reports mediamtx_running only with a configured and reachable relay', () => {
    assert.equal(health({ relayReachable: true }).mediamtx_running, false, 'no relay_url configured');
    const withRelay = { ...config, relay_url: 'rtsp://127.0.0.1:8554/desktop' };
    assert.equal(health({ config: withRelay, relayReachable: true }).mediamtx_running, true);
    assert.equal(health({ config: withRelay, relayReachable: false }).mediamtx_running, false);
  });

  it('counts monitoring as inactive only when stopped on request', () => {
    assert.equal(health({ supervisor: supervisorSnapshot({ state: 'stopped' }) }).monitoring_active, false);
    assert.equal(health({ supervisor: supervisorSnapshot({ state: 'failed' }) }).monitoring_active, true);
  });

  it('last_error is null without errors', () => {
    assert.equal(health({ supervisor: supervisorSnapshot({ lastError: null }) }).last_error, null);
  });
});

describe('stream activity and lag', () => {
  it('is active while the newest segment is younger than the stall timeout (6 s by default)', () => {
    assert.equal(isStreamActive(hlsSnapshot({ lastSegmentAt: NOW - 5_900 }), config, NOW), true);
    assert.equal(isStreamActive(hlsSnapshot({ lastSegmentAt: NOW - 6_100 }), config, NOW), false);
    assert.equal(isStreamActive(hlsSnapshot({ lastSegmentAt: null }), config, NOW), false);
    assert.equal(
      isStreamActive(hlsSnapshot({ lastSegmentAt: NOW - 9_000 }), { ...config, stall_timeout: 10 }, NOW),
      true,
    );
  });

  it('lag is the newest segment age minus the segment duration, never negative', () => {
    assert.equal(segmentLagSeconds(hlsSnapshot({ lastSegmentAt: NOW - 1000 }), config, NOW), 0);
    assert.equal(segmentLagSeconds(hlsSnapshot({ lastSegmentAt: NOW - 7500 }), config, NOW), 5.5);
    assert.equal(segmentLagSeconds(hlsSnapshot({ lastSegmentAt: null }), config, NOW), null);
  });

  it('healthy means streaming with a fresh segment', () => {
    const fresh = health();
    assert.equal(isHealthy(supervisorSnapshot(), fresh), true);
    assert.equal(isHealthy(supervisorSnapshot({ state: 'backoff' }), fresh), false);
    const stale = health({ hls: hlsSnapshot({ lastSegmentAt: NOW - 60_000 }) });
    assert.equal(isHealthy(supervisorSnapshot(), stale), false);
  });
});

describe('service state', () => {
  it('derives a systemd-like state from the supervisor', () => {
    assert.deepEqual(serviceStateFromSupervisor('streaming').details, {
      ActiveState: 'active',
      SubState: 'running',
    });
    assert.equal(serviceStateFromSupervisor('backoff').active, true);
    assert.deepEqual(serviceStateFromSupervisor('failed'), {
      active: false,
      details: { ActiveState: 'failed', SubState: 'failed' },
      source: 'supervisor',
    });
    assert.equal(serviceStateFromSupervisor('stopped').active, false);
  });
  it('takes systemd at its word', () => {
    assert.equal(serviceStateFromSystemd('active', 'running').active, true);
    assert.equal(serviceStateFromSystemd('deactivating', 'stop-sigterm').active, false);
  });
});

describe('buildStatus', () => {
  it('has the documented sections and stream fields', () => {
    const h = health();
    const status = buildStatus({
      service: serviceStateFromSupervisor('streaming'),
      hls: hlsSnapshot({ lastSegmentAt: NOW - 1000, filesOnDisk: 5, bytesOnDisk: 2.5 * 1024 * 1024 }),
      config,
      now: NOW,
      health: h,
      system: { cpu_percent: 25.3, memory_percent: 45.2, disk_usage_percent: 12.5 },
    });
    assert.deepEqual(status.stream, {
      playlist_exists: true,
      segment_count: 5,
      total_size_mb: 2.5,
      stream_active: true,
    });
    assert.equal(status.health, h);
    assert.deepEqual(Object.keys(status), ['service', 'stream', 'health', 'system']);
  });
});

describe('redactConfig / buildDetailed', () => {
  it('redacts secrets wherever they are, keeps paths and nulls', () => {
    const redacted = redactConfig({
      ...config,
      api: { token: 's3cret-token', token_file: '/run/credentials/x/api-token', public_read: true },
      relay_url: 'rtsp://user:hunter2@127.0.0.1:8554/desktop',
    });
    const text = JSON.stringify(redacted);
    assert.ok(!text.includes('s3cret-token'));
    assert.ok(!text.includes('hunter2'));
    assert.deepEqual(redacted.api, {
      token: REDACTED,
      token_file: '/run/credentials/x/api-token',
      public_read: true,
    });
    assert.equal(redacted.relay_url, `rtsp://user:${REDACTED}@127.0.0.1:8554/desktop`);
    assert.deepEqual((redactConfig(config).api as { token: unknown }).token, null);
  });

  it('explains capture, restarts, errors, lag and playlist', () => {
    const d = buildDetailed({
      supervisor: supervisorSnapshot(),
      hls: hlsSnapshot({ lastSegmentAt: NOW - 4000 }),
      config,
      now: NOW,
      health: health(),
    });
    assert.equal(d.capture?.fallback_to_primary, false);
    assert.deepEqual((d.capture as { monitor: { geometry: string } }).monitor.geometry, '1280x720+1920+0');
    assert.equal(d.restarts.total, 2);
    assert.equal(d.restarts.by_reason.stalled, 1);
    assert.equal(d.restarts.recent.length, 2);
    assert.equal(d.errors.by_type.stream, 3);
    assert.equal(d.stream.segment_lag_seconds, 2);
    assert.equal(d.stream.stall_timeout_seconds, 6);
    assert.equal(d.playlist.segments, 5);
    assert.equal(d.playlist.duration_seconds, 10);
    assert.deepEqual(d.pipeline.argv.slice(0, 2), ['gst-launch-1.0', '-e']);
  });
});
