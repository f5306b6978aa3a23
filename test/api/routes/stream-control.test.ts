import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers.ts';

const TOKEN = 'control-token-Zq8vP2';
const ACTIONS = ['start', 'stop', 'restart', 'cleanup'] as const;

describe('POST /api/stream/* with a token configured', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ apiToken: TOKEN });
  });
  after(() => server.close());

  for (const action of ACTIONS) {
    it(`${action}: no token → 401 with a Bearer challenge, nothing done`, async () => {
      const res = await fetch(`${server.url}/api/stream/${action}`, { method: 'POST' });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      const body = (await res.json()) as { error: string };
      assert.equal(body.error, 'unauthorized');
    });

    it(`${action}: wrong token → 401`, async () => {
      const res = await fetch(`${server.url}/api/stream/${action}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}x` },
      });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      await res.body?.cancel();
    });

    it(`${action}: GET → 405 with Allow: POST and a hint`, async () => {
      const res = await fetch(`${server.url}/api/stream/${action}`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('allow'), 'POST');
      const body = (await res.json()) as { allow: string[]; hint: string };
      assert.deepEqual(body.allow, ['POST']);
      assert.match(body.hint, /POST/);
    });
  }

  it('right token → the supervisor is asked, 200 with the new state', async () => {
    assert.deepEqual(server.supervisor.calls, [], 'refused requests did nothing');
    for (const action of ['stop', 'start', 'restart'] as const) {
      const res = await fetch(`${server.url}/api/stream/${action}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { ok: boolean; action: string; state: string };
      assert.equal(body.ok, true);
      assert.equal(body.action, action);
    }
    assert.deepEqual(server.supervisor.calls, ['stop', 'start', 'restart']);
    assert.equal(server.supervisor.current.state, 'starting');
  });

  it('cleanup → hls.cleanup() and what it removed', async () => {
    const res = await fetch(`${server.url}/api/stream/cleanup`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      ok: true,
      action: 'cleanup',
      state: server.supervisor.current.state,
      removed_files: 2,
      removed_bytes: 1_000_000,
    });
    assert.equal(server.hls.cleanups, 1);
  });

  it('a failing supervisor action → 409 JSON, not 500', async () => {
    server.supervisor.failWith = new Error('already stopping');
    try {
      const res = await fetch(`${server.url}/api/stream/stop`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(res.status, 409);
      assert.match(((await res.json()) as { message: string }).message, /already stopping/);
    } finally {
      server.supervisor.failWith = null;
    }
  });

  it('never writes the token (right or wrong) to the log', () => {
    const all = server.logOutput.join('\n') + JSON.stringify(server.logRing.lines());
    assert.ok(!all.includes(TOKEN), 'token leaked into the log');
    assert.ok(
      server.logOutput.some((line) => line.includes('stream control action')),
      'actions are logged',
    );
  });
});

describe('POST /api/stream/* without a token configured', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ apiToken: null });
  });
  after(() => server.close());

  for (const action of ACTIONS) {
    it(`${action} → 403 (disabled), with or without an Authorization header`, async () => {
      for (const headers of [{}, { Authorization: 'Bearer anything' }] as Record<string, string>[]) {
        const res = await fetch(`${server.url}/api/stream/${action}`, { method: 'POST', headers });
        assert.equal(res.status, 403);
        assert.match(((await res.json()) as { message: string }).message, /no API token is configured/);
      }
    });
  }
  it('did nothing', () => {
    assert.deepEqual(server.supervisor.calls, []);
    assert.equal(server.hls.cleanups, 0);
  });
  it('read-only endpoints stay open', async () => {
    const res = await fetch(`${server.url}/api/status`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });
});

describe('api.public_read = false', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      apiToken: TOKEN,
      config: { api: { token: null, token_file: null, public_read: false } },
    });
  });
  after(() => server.close());

  for (const path of [
    '/api/health',
    '/api/status',
    '/api/health/detailed',
    '/api/logs',
    '/api/logs/stream',
  ]) {
    it(`${path} needs the token`, async () => {
      const none = await fetch(`${server.url}${path}`);
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
      await none.body?.cancel();
      const controller = new AbortController();
      const right = await fetch(`${server.url}${path}`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
        signal: controller.signal,
      });
      assert.ok(right.status === 200 || right.status === 503, `got ${right.status}`);
      controller.abort();
    });
  }

  it('the player page and the OpenAPI document stay open (they hold no data)', async () => {
    for (const path of ['/player', '/api/openapi.json']) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200, path);
      await res.body?.cancel();
    }
  });
});
