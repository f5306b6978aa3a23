import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HealthJson } from '../../../src/api/health-model.ts';
import { hlsSnapshot, startTestServer, supervisorSnapshot, type TestServer } from '../helpers.ts';

describe('GET /api/health', () => {
  let server: TestServer;
  let relayUp = true;
  before(async () => {
    server = await startTestServer({
      config: { relay_url: 'rtsp://127.0.0.1:8554/desktop' },
      deps: { relayReachable: async () => relayUp },
    });
  });
  after(() => server.close());

  async function get(): Promise<{ status: number; body: HealthJson }> {
    const res = await fetch(`${server.url}/api/health`);
    return { status: res.status, body: (await res.json()) as HealthJson };
  }

  it('200 while streaming with fresh segments', async () => {
    const { status, body } = await get();
    assert.equal(status, 200);
    assert.equal(body.stream_active, true);
    assert.equal(body.current_state, 'PLAYING');
    assert.equal(body.mediamtx_running, true);
  });

  it('memory_usage_mb is a real RSS reading (supervisor + child)', async () => {
    const { body } = await get();
    const ownMb = process.memoryUsage().rss / 1024 / 1024;
    // The fake child pid is this process, so the sum is about twice our own RSS.
    assert.ok(
      body.memory_usage_mb > ownMb * 1.5 && body.memory_usage_mb < ownMb * 2.5,
      `${body.memory_usage_mb} vs ${ownMb}`,
    );
    assert.ok(body.system_memory_percent > 0 && body.system_memory_percent < 100);
  });

  it('503 (same body) when the stream stalls, so curl -f fails', async () => {
    server.hls.current = hlsSnapshot({ lastSegmentAt: Date.now() - 60_000 });
    try {
      const { status, body } = await get();
      assert.equal(status, 503);
      assert.equal(body.stream_active, false);
    } finally {
      server.hls.current = hlsSnapshot();
    }
  });

  it('503 in backoff even with a fresh segment', async () => {
    server.supervisor.current = supervisorSnapshot({ state: 'backoff', gstState: 'NULL' });
    try {
      const { status, body } = await get();
      assert.equal(status, 503);
      assert.equal(body.current_state, 'NULL');
    } finally {
      server.supervisor.current = supervisorSnapshot();
    }
  });

  it('mediamtx_running follows the relay check (answers reused for 5 s)', async () => {
    await new Promise((resolve) => setTimeout(resolve, 5100));
    assert.equal((await get()).body.mediamtx_running, true, 'fresh probe');
    relayUp = false;
    assert.equal((await get()).body.mediamtx_running, true, 'cached answer');
    await new Promise((resolve) => setTimeout(resolve, 5100));
    assert.equal((await get()).body.mediamtx_running, false);
    relayUp = true;
  });
});

describe('GET /api/health with a relay check that hangs', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      config: { relay_url: 'rtsp://127.0.0.1:9/desktop' },
      deps: { relayReachable: () => new Promise(() => {}) },
    });
  });
  after(() => server.close());

  it('answers within the 1.5 s relay timeout, mediamtx_running false', async () => {
    const started = Date.now();
    const res = await fetch(`${server.url}/api/health`);
    const body = (await res.json()) as HealthJson;
    assert.equal(body.mediamtx_running, false);
    assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`);
  });
});

describe('GET /api/health without a relay', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ deps: { relayReachable: () => new Promise(() => {}) } });
  });
  after(() => server.close());

  it('mediamtx_running is false when relay_url is not set (the check is not even called)', async () => {
    const started = Date.now();
    const res = await fetch(`${server.url}/api/health`);
    const body = (await res.json()) as HealthJson;
    assert.equal(body.mediamtx_running, false);
    assert.ok(Date.now() - started < 1000);
  });
});
