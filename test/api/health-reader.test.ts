import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, it } from 'node:test';
import type { HealthJson } from '../../src/api/health-model.ts';
import { tcpReachable } from '../../src/api/health-reader.ts';
import { startTestServer } from './helpers.ts';

async function listening(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('tcpReachable (default relay check)', () => {
  it('true for a listening port, false once it is closed, false for what cannot be checked', async () => {
    const relay = await listening();
    assert.equal(await tcpReachable(`rtsp://127.0.0.1:${relay.port}/desktop`, 1000), true);
    assert.equal(await tcpReachable(`rtmp://user:pw@127.0.0.1:${relay.port}/live`, 1000), true);
    await relay.close();
    assert.equal(await tcpReachable(`rtsp://127.0.0.1:${relay.port}/desktop`, 1000), false);
    assert.equal(await tcpReachable('srt://127.0.0.1:8890', 1000), false, 'UDP: not checkable');
    assert.equal(await tcpReachable('not a url', 1000), false);
  });

  it('drives mediamtx_running when the caller wires no check of its own', async () => {
    const relay = await listening();
    const server = await startTestServer({ config: { relay_url: `rtsp://127.0.0.1:${relay.port}/desktop` } });
    try {
      const body = (await (await fetch(`${server.url}/api/health`)).json()) as HealthJson;
      assert.equal(body.mediamtx_running, true);
    } finally {
      await server.close();
      await relay.close();
    }
  });
});
