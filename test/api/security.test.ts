/** issue #14 item 6: what public_read=false guards, relay URL redaction, stacks in /api/logs. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Router from '@koa/router';
import { redactUrlPassword } from '../../src/api/health-model.ts';
import { createHlsRouter } from '../../src/api/routes/hls.ts';
import { startTestServer, type TestServer } from './helpers.ts';

const TOKEN = 'security-token-4242';

function extraRouters() {
  const metrics = new Router();
  metrics.get('/metrics', (ctx) => {
    ctx.body = 'desktop_streamer_up 1\n';
  });
  return [createHlsRouter({ publicDir: '/nonexistent', playlist: () => '#EXTM3U\n' }), metrics];
}

describe('api.public_read = false', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      apiToken: TOKEN,
      config: { api: { token: null, token_file: null, public_read: false } },
      deps: { extraRouters: extraRouters() },
    });
  });
  after(() => server.close());

  for (const path of ['/metrics', '/hls/desktop/playlist.m3u8', '/hls/desktop/seg-000000001.ts']) {
    it(`${path} needs the token`, async () => {
      const none = await fetch(`${server.url}${path}`);
      assert.equal(none.status, 401);
      await none.body?.cancel();
      const right = await fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      assert.notEqual(right.status, 401);
      await right.body?.cancel();
    });
  }

  it('a CORS preflight of the stream stays open (browsers send it without credentials)', async () => {
    const res = await fetch(`${server.url}/hls/desktop/playlist.m3u8`, { method: 'OPTIONS' });
    assert.equal(res.status, 204);
  });
});

describe('api.public_read = true', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      apiToken: TOKEN,
      config: { relay_url: 'rtsp://user:pw@relay.lan:8554/desktop?key=s3cr3t&x=1#frag' },
      deps: { extraRouters: extraRouters(), relayReachable: async () => false },
    });
  });
  after(() => server.close());

  it('/metrics and the playlist are open', async () => {
    for (const path of ['/metrics', '/hls/desktop/playlist.m3u8']) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200, path);
      await res.body?.cancel();
    }
  });

  it('/api/health/detailed redacts the relay URL password, query string and fragment', async () => {
    const text = await (await fetch(`${server.url}/api/health/detailed`)).text();
    assert.doesNotMatch(text, /s3cr3t|pw@|frag/);
    assert.match(text, /rtsp:\/\/user:\[redacted\]@relay\.lan:8554\/desktop\?\[redacted\]#\[redacted\]/);
  });

  it('/api/logs never shows stack traces, not even to a token holder', async () => {
    server.deps.logger.error({ err: new Error('boom') }, 'something failed');
    const anonymous = await (await fetch(`${server.url}/api/logs?level=error`)).text();
    assert.match(anonymous, /boom/);
    assert.doesNotMatch(anonymous, /"stack"/);
    const holder = await (
      await fetch(`${server.url}/api/logs?level=error`, { headers: { Authorization: `Bearer ${TOKEN}` } })
    ).text();
    assert.match(holder, /boom/);
    assert.doesNotMatch(holder, /"stack"/);
  });
});

describe('redactUrlPassword', () => {
  it('leaves text that is not a URL alone', () => {
    assert.equal(redactUrlPassword('a?b#c'), 'a?b#c');
    assert.equal(redactUrlPassword('http://relay.lan/x'), 'http://relay.lan/x');
  });

  it('hides the password of a TURN URL (webrtc.ice_servers), keeping user and host', () => {
    assert.equal(redactUrlPassword('turn:kiosk:s3cret@turn.lan:3478'), 'turn:kiosk:[redacted]@turn.lan:3478');
    assert.equal(redactUrlPassword('stun:stun.lan:3478'), 'stun:stun.lan:3478');
  });
});
