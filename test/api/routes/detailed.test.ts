import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DetailedJson } from '../../../src/api/health-model.ts';
import { startTestServer, type TestServer } from '../helpers.ts';

describe('GET /api/health/detailed', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      config: { api: { token: 'config-secret-token', token_file: null, public_read: true } },
    });
  });
  after(() => server.close());

  it('explains the stream: capture plan, argv, history, restarts, errors, lag, playlist, config', async () => {
    const res = await fetch(`${server.url}/api/health/detailed`);
    assert.equal(res.status, 200);
    const text = await res.text();
    const body = JSON.parse(text) as DetailedJson;
    assert.equal(body.healthy, true);
    assert.equal(body.supervisor.state, 'streaming');
    assert.equal(body.supervisor.state_history.length, 2);
    assert.match(String((body.capture as { encoder: { reason: string } }).encoder.reason), /VAAPI/);
    assert.deepEqual(body.pipeline.argv.slice(0, 1), ['gst-launch-1.0']);
    assert.equal(body.restarts.recent.at(-1)?.reason, 'manual');
    assert.equal(body.errors.by_type.stream, 3);
    assert.equal(body.stream.segment_lag_seconds, 0);
    assert.equal(body.playlist.media_sequence, 120);
    assert.equal((body.config as { fps: number }).fps, 15);
    assert.ok(!text.includes('config-secret-token'), 'the configured token is redacted');
    assert.equal((body.config as { api: { token: string } }).api.token, '[redacted]');
  });
});
