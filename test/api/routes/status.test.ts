import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StatusJson } from '../../../src/api/health-model.ts';
import { startTestServer, supervisorSnapshot, type TestServer } from '../helpers.ts';

describe('GET /api/status', () => {
  let server: TestServer;
  let dir: string;
  let jpeg: Buffer | null = null;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'api-status-'));
    // output_dir does not exist yet: disk usage is read from its nearest existing parent
    server = await startTestServer({
      config: { output_dir: path.join(dir, 'not-yet', 'hls') },
      deps: { snapshotJpeg: () => jpeg },
    });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('has service, stream, health and system in the documented shape', async () => {
    const res = await fetch(`${server.url}/api/status`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as StatusJson;
    const underSystemd = Boolean(process.env.INVOCATION_ID);
    if (!underSystemd) {
      assert.deepEqual(body.service, {
        active: true,
        details: { ActiveState: 'active', SubState: 'running' },
        source: 'supervisor',
      });
    }
    assert.deepEqual(body.stream, {
      playlist_exists: true,
      segment_count: 7,
      total_size_mb: 3.3,
      stream_active: true,
    });
    assert.equal(body.health.restart_count, 2);
    for (const key of ['cpu_percent', 'memory_percent', 'disk_usage_percent'] as const) {
      const value = body.system[key];
      assert.equal(typeof value, 'number', key);
      assert.ok((value as number) >= 0 && (value as number) <= 100, `${key}=${value}`);
    }
  });

  it('is 200 even when unhealthy, with the service derived from the supervisor', async (t) => {
    if (process.env.INVOCATION_ID)
      return t.skip('running under systemd: the service state comes from systemctl');
    server.supervisor.current = supervisorSnapshot({ state: 'failed' });
    try {
      const res = await fetch(`${server.url}/api/status`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as StatusJson;
      assert.deepEqual(body.service.details, { ActiveState: 'failed', SubState: 'failed' });
      assert.equal(body.service.active, false);
    } finally {
      server.supervisor.current = supervisorSnapshot();
    }
  });

  it('GET /api/snapshot.jpg is 404 JSON until a picture exists, then the JPEG', async () => {
    const missing = await fetch(`${server.url}/api/snapshot.jpg`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: string }).error, 'not_found');
    jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0xff, 0xd9]);
    const found = await fetch(`${server.url}/api/snapshot.jpg`);
    assert.equal(found.status, 200);
    assert.equal(found.headers.get('content-type'), 'image/jpeg');
    assert.deepEqual(Buffer.from(await found.arrayBuffer()), jpeg);
  });
});
