import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseConfigText, stripJsonComments } from '../../src/config/load.ts';
import { DEFAULT_CONFIG, stallTimeoutSeconds } from '../../src/config/schema.ts';

// The earlier system's documented config.json, verbatim, comments included.
const LEGACY = `{
    "fps": 15,                    // Frame rate (optimized for Unity)
    "width": 1280,                // Stream width (720p for performance)
    "height": 720,                // Stream height
    "bitrate": 2000,              // Bitrate in kbps (2Mbps for live)
    "keyframe_interval": 2,       // Keyframe interval in seconds
    "segment_duration": 2,        // HLS segment duration
    "output_dir": "/tmp/hls",     // HLS output directory
    "max_restarts": 15,           // Maximum restart attempts
    "restart_delay": 60,          // Delay between restarts
    "max_errors": 10,             // Error threshold for restart
    "error_window": 600,          // Error window in seconds
    "encoder": "auto",            // Auto-detect hardware acceleration
    "live_streaming": {
        "enabled": true,
        "max_segments": 5,        // Keep only 5 segments for live feed
        "emergency_segments": 2,  // Emergency cleanup threshold
        "cleanup_threshold_percent": 70,
        "emergency_cleanup_threshold_percent": 85
    },
    "unity_optimization": {
        "enabled": true,
        "gpu_memory_limit_mb": 1024,
        "cpu_quota_percent": 30,
        "memory_limit_mb": 800,
        "disk_cleanup_threshold_percent": 70,
        "emergency_cleanup_threshold_percent": 85
    }
}`;

describe('config loading', () => {
  it('accepts the earlier system config file verbatim (with its // comments) and equals the defaults', () => {
    const { config, warnings } = parseConfigText(LEGACY, '/etc/desktop-streamer/config.json');
    assert.deepEqual(config, DEFAULT_CONFIG);
    assert.deepEqual(warnings, []);
  });

  it('keeps // inside strings and drops block comments and trailing commas', () => {
    assert.deepEqual(JSON.parse(stripJsonComments('{"relay_url": "http://x/y", /* c */ "a": [1,],}')), {
      relay_url: 'http://x/y',
      a: [1],
    });
  });

  it('reports every bad value with its key, the value and what is allowed', () => {
    const text = JSON.stringify({
      fps: 0,
      width: 1281,
      encoder: 'nvenc',
      output_dir: 'relative/dir',
      live_streaming: { max_segments: 'five' },
      monitor: -1,
    });
    assert.throws(
      () => parseConfigText(text, '/x/config.json'),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const byKey = Object.fromEntries(error.issues.map((i) => [i.key, i]));
        assert.deepEqual(Object.keys(byKey).sort(), [
          'encoder',
          'fps',
          'live_streaming.max_segments',
          'monitor',
          'output_dir',
          'width',
        ]);
        assert.equal(byKey.fps?.allowed, 'an integer from 1 to 60');
        assert.match(error.message, /"encoder" = "nvenc": must be one of "auto", "vaapi"/);
        assert.match(error.message, /"width" = 1281: must be an even integer from 16 to 7680/);
        assert.match(error.message, /^\/x\/config\.json: 6 invalid value\(s\)/);
        return true;
      },
    );
  });

  it('warns about unknown keys instead of ignoring them silently', () => {
    const { warnings } = parseConfigText('{"fpz": 10, "live_streaming": {"max_segmnts": 3}}', null);
    assert.deepEqual(warnings, [
      'unknown key "fpz" is ignored',
      'unknown key "live_streaming.max_segmnts" is ignored',
    ]);
  });

  it('cross-checks related values', () => {
    assert.throws(
      () => parseConfigText('{"live_streaming": {"emergency_segments": 9}}', null),
      /at most live_streaming.max_segments \(5\)/,
    );
    const { warnings } = parseConfigText('{"keyframe_interval": 4, "segment_duration": 2}', null);
    assert.match(warnings[0] ?? '', /keyframe_interval \(4 s\) is longer than segment_duration/);
  });

  it('rejects what is not JSON, naming the file', () => {
    assert.throws(() => parseConfigText('{fps: 15', '/etc/x.json'), /\/etc\/x\.json: not valid JSON/);
    assert.throws(() => parseConfigText('[1]', null), /"\(top level\)" = \[1\]: must be a JSON object/);
  });

  it('accepts the new keys: monitor by index or name, bind address, port', () => {
    const { config } = parseConfigText(
      '{"monitor": "HDMI-A-1", "bind_address": "127.0.0.1", "port": 9000}',
      null,
    );
    assert.equal(config.monitor, 'HDMI-A-1');
    assert.equal(parseConfigText('{"monitor": 2}', null).config.monitor, 2);
  });

  it('finds the file from --config, then $DESKTOP_STREAMER_CONFIG; a missing default file means defaults', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-config-'));
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    await writeFile(a, '{"fps": 10}');
    await writeFile(b, '{"fps": 20}');
    assert.equal((await loadConfig(a, { DESKTOP_STREAMER_CONFIG: b })).config.fps, 10);
    assert.equal((await loadConfig(undefined, { DESKTOP_STREAMER_CONFIG: b })).config.fps, 20);
    await assert.rejects(loadConfig(join(dir, 'missing.json'), {}), /cannot read the config file \(ENOENT\)/);
  });

  it('derives the stall timeout from the segment duration, with a floor', () => {
    assert.equal(stallTimeoutSeconds({ stall_timeout: null, segment_duration: 2 }), 6);
    assert.equal(stallTimeoutSeconds({ stall_timeout: null, segment_duration: 4 }), 12);
    assert.equal(stallTimeoutSeconds({ stall_timeout: 30, segment_duration: 2 }), 30);
  });
});
