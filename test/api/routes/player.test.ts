import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers.ts';

const require = createRequire(import.meta.url);

describe('GET /player', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('serves the page with a strict CSP and only same-origin scripts', async () => {
    const res = await fetch(`${server.url}/player`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    const html = await res.text();
    assert.match(html, /<video id="video"[^>]*muted[^>]*playsinline/);
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(scripts, ['/player/hls.min.js', '/player/player.js']);
    assert.ok(!/https?:\/\//.test(html), 'no absolute URL (no CDN)');
  });

  it('serves hls.js from the npm package, byte for byte', async () => {
    for (const [route, file] of [
      ['/player/hls.min.js', 'hls.js/dist/hls.min.js'],
      ['/player/hls.worker.js', 'hls.js/dist/hls.worker.js'],
    ] as const) {
      const res = await fetch(`${server.url}${route}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /javascript/);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), await readFile(require.resolve(file)));
    }
  });

  it('player.js plays the public playlist, recovers errors, falls back to native HLS, polls /api/health', async () => {
    const js = await (await fetch(`${server.url}/player/player.js`)).text();
    assert.match(js, /\/hls\/desktop\/playlist\.m3u8/);
    assert.match(js, /recoverMediaError/);
    assert.match(js, /application\/vnd\.apple\.mpegurl/);
    assert.match(js, /\/api\/health/);
    new Function(js); // parses
    const css = await fetch(`${server.url}/player/player.css`);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    await css.body?.cancel();
  });

  it('player.js runs hls.js in low-latency mode without liveSync overrides that would beat PART-HOLD-BACK', async () => {
    const js = await (await fetch(`${server.url}/player/player.js`)).text();
    const instanceConfig = /new Hls\(\{([\s\S]*?)\n {4}\}\);/.exec(js)?.[1];
    assert.ok(instanceConfig, 'player.js constructs hls.js with a config object');
    assert.match(instanceConfig, /lowLatencyMode: true/);
    assert.match(instanceConfig, /maxLiveSyncPlaybackRate: 1\.5/);
    // hls.js lets any of these, set per instance, win over the playlist's PART-HOLD-BACK.
    assert.doesNotMatch(instanceConfig, /liveSyncDuration|liveMaxLatencyDuration/);
    // Plain HLS (no parts): two target durations from the edge, as a default only.
    assert.match(
      js,
      /Hls\.DefaultConfig = Object\.assign\(\{\}, Hls\.DefaultConfig, \{ liveSyncDurationCount: 2/,
    );
  });

  it('the page shows the measured latency: from PROGRAM-DATE-TIME, on the video and in the panel', async () => {
    const html = await (await fetch(`${server.url}/player`)).text();
    assert.match(html, /<span class="latency-chip" id="latency-chip" hidden><\/span>/);
    assert.match(html, /<dd id="p-latency">/);
    assert.match(html, /<dd id="p-mode">/);
    const js = await (await fetch(`${server.url}/player/player.js`)).text();
    assert.match(js, /hls\.playingDate/);
    assert.match(js, /Date\.now\(\) - shown/);
    assert.match(js, /setInterval\(updatePlayerStats, 1000\)/);
    const css = await (await fetch(`${server.url}/player/player.css`)).text();
    assert.match(css, /\.latency-chip \{[^}]*pointer-events: none/);
  });

  it('/ redirects to the player', async () => {
    const res = await fetch(`${server.url}/`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/player');
    await res.body?.cancel();
  });
});
