/**
 * The built-in /player with WebRTC first: the real supervisor on the two-monitor rig (monitor 2
 * blue), Debian's headless Chromium opening /player. It must play over WHEP when it can, fall back
 * to LL-HLS when the server refuses (WebRTC off, all viewer places taken), reconnect by itself
 * when its session is lost, keep the connection through a kill -9 of the pipeline, and end its
 * session when the page closes.
 *
 * Run alone (2 shared cores): node --import tsx --test test/e2e/player-webrtc.e2e.ts
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { PlayerGlass } from '../helpers/glass.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

interface PlayerState {
  protocol: 'webrtc' | 'hls';
  engine: string;
  latency: number | null;
  lowLatency: boolean | null;
  webrtc: {
    state: string;
    reconnects: number;
    location: string | null;
    framesDecoded: number;
    failures: number;
    status: number | null;
    message: string | null;
    jitterBufferMs: number | null;
    retryAt: number | null;
  };
  currentTime: number;
  protocolText: string;
  note: string;
}

/** window.__player without the hls.js instance, plus what the panel shows. */
async function player(page: Page): Promise<PlayerState> {
  return (await page.evaluate(`(() => {
    const p = window.__player;
    return { protocol: p.protocol, engine: p.engine, latency: p.latency, lowLatency: p.lowLatency,
      webrtc: Object.assign({}, p.webrtc), currentTime: document.getElementById('video').currentTime,
      protocolText: document.getElementById('p-protocol').textContent,
      note: document.getElementById('p-note').hidden ? '' : document.getElementById('p-note').textContent };
  })()`)) as PlayerState;
}

async function waitFor(
  page: Page,
  what: string,
  predicate: (p: PlayerState) => boolean,
  timeoutMs = 30_000,
): Promise<PlayerState> {
  const deadline = Date.now() + timeoutMs;
  let last: PlayerState | null = null;
  while (Date.now() < deadline) {
    last = await player(page);
    if (predicate(last)) return last;
    await sleep(200);
  }
  assert.fail(`${what}: not within ${timeoutMs} ms; last state ${JSON.stringify(last)}`);
}

/** A /player page whose uncaught errors are collected. */
async function openPlayer(
  browser: Browser,
  stack: Stack,
  query = '',
): Promise<{ page: Page; glass: PlayerGlass; pageErrors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(`${stack.baseUrl}/player${query}`);
  const glass = new PlayerGlass(page);
  await glass.install();
  return { page, glass, pageErrors };
}

/** Frames presented in the last second (wall clock of this machine, the page's too). */
async function recentFrames(glass: PlayerGlass): Promise<number> {
  const now = Date.now();
  return (await glass.framesBetween(now - 1000, now + 1000)).length;
}

async function metric(stack: Stack, name: string): Promise<number> {
  const text = await (await fetch(`${stack.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

describe('/player: WebRTC first', { timeout: 420_000 }, () => {
  let stack: Stack;
  let browser: Browser;
  /** Plays over WebRTC from the first test on, and is closed by the fifth. */
  let first: Awaited<ReturnType<typeof openPlayer>>;
  /** Falls back to LL-HLS while `first` holds the one place, then takes it over. */
  let second: Awaited<ReturnType<typeof openPlayer>>;

  before(async () => {
    stack = await startStack({
      config: { single_monitor_fallback: false, webrtc: { max_viewers: 1 } },
    });
    await stack.waitForPlaylist((text) => text.includes('#EXT-X-PART:'), 60_000);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('plays monitor 2 over WebRTC and says so', async () => {
    first = await openPlayer(browser, stack);
    const { page, glass } = first;
    const playing = await waitFor(
      page,
      'WebRTC playing',
      (p) => p.protocol === 'webrtc' && p.webrtc.state === 'connected' && p.webrtc.framesDecoded > 10,
    );
    await glass.waitForSteady('blue', 30_000);
    assert.match(playing.webrtc.location ?? '', /^\/whep\/sessions\/[0-9a-f-]{36}$/);
    assert.equal(playing.engine, 'WebRTC (WHEP)');
    assert.equal(playing.webrtc.reconnects, 0);
    assert.equal(await metric(stack, 'desktop_streamer_viewers{protocol="webrtc"}'), 1);
    const shown = await waitFor(page, 'the panel', (p) => p.protocolText === 'WebRTC · connected');
    assert.equal(shown.note, '');
    assert.equal(await page.evaluate("document.getElementById('p-mode').textContent"), 'WebRTC, H.264');
    // Polled with page.evaluate: waitForFunction evaluates a string predicate with eval(), which
    // the page's Content-Security-Policy (rightly) refuses once the first check is false.
    const jitterText = /^jitter buffer \d+ ms$/;
    let latencyText = '';
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && !jitterText.test(latencyText); ) {
      latencyText = String(await page.evaluate("document.getElementById('p-latency').textContent"));
      if (!jitterText.test(latencyText)) await sleep(200);
    }
    assert.match(latencyText, jitterText);
    assert.equal(await page.evaluate("document.getElementById('video').videoWidth"), 1280);
    assert.deepEqual(first.pageErrors, []);
  });

  it('a lost session (DELETEd by someone else) is replaced by a new one, and video plays again', async () => {
    const { page, glass } = first;
    const old = (await player(page)).webrtc.location;
    assert.ok(old);
    const deleted = await fetch(`${stack.baseUrl}${old}`, { method: 'DELETE' });
    assert.equal(deleted.status, 200);
    const deletedAt = Date.now();
    const back = await waitFor(
      page,
      'a new WebRTC session',
      (p) =>
        p.webrtc.location !== null &&
        p.webrtc.location !== old &&
        p.webrtc.state === 'connected' &&
        p.webrtc.reconnects >= 1 &&
        p.webrtc.framesDecoded > 5,
      120_000,
    );
    assert.equal(back.protocol, 'webrtc');
    const deadline = Date.now() + 20_000;
    while ((await glass.framesBetween(deletedAt, Date.now() + 1000)).length < 15) {
      assert.ok(Date.now() < deadline, 'frames of the new session');
      await sleep(200);
    }
    await glass.waitForSteady('blue', 20_000);
    assert.equal(
      await metric(stack, 'desktop_streamer_webrtc_sessions'),
      1,
      'one session: the old one is gone',
    );
    assert.deepEqual(first.pageErrors, []);
  });

  it('all WebRTC places taken (503): a second /player falls back to LL-HLS and plays, naming the reason', async () => {
    second = await openPlayer(browser, stack);
    const { page, glass } = second;
    const hls = await waitFor(
      page,
      'LL-HLS playing',
      (p) => p.protocol === 'hls' && p.currentTime > 0.5,
      60_000,
    );
    assert.match(hls.engine, /^hls\.js /);
    assert.equal(hls.webrtc.status, 503);
    assert.match(hls.webrtc.message ?? '', /HTTP 503: all 1 WebRTC viewer places are taken/);
    assert.ok(hls.webrtc.retryAt !== null, 'WebRTC is tried again later (a place may free up)');
    await glass.waitForSteady('blue', 45_000);
    const shown = await waitFor(page, 'the panel', (p) => p.protocolText === 'LL-HLS' && p.note !== '');
    assert.match(shown.note, /^WebRTC: HTTP 503: all 1 WebRTC viewer places are taken/);
    // The first page plays on over WebRTC.
    assert.equal((await player(first.page)).protocol, 'webrtc');
    assert.deepEqual(second.pageErrors, []);
  });

  it('?protocol=webrtc never falls back: it shows the refusal and tries again later', async () => {
    const only = await openPlayer(browser, stack, '?protocol=webrtc');
    const refused = await waitFor(
      only.page,
      'the refusal',
      (p) => p.webrtc.status === 503 && p.webrtc.retryAt !== null,
    );
    assert.equal(refused.protocol, 'webrtc');
    assert.equal(refused.engine, 'none', 'no HLS engine started');
    assert.equal(await only.page.evaluate('window.__player.hls'), null);
    // Not sooner than the server's Retry-After.
    assert.ok(
      refused.webrtc.retryAt! - Date.now() > 5_000,
      `next try in ${refused.webrtc.retryAt! - Date.now()} ms`,
    );
    assert.match(
      String(await only.page.evaluate("document.getElementById('notice').textContent")),
      /^WebRTC: HTTP 503: all 1 WebRTC viewer places are taken.*Retrying in \d+ s…$/,
    );
    assert.deepEqual(only.pageErrors, []);
    await only.page.close();
  });

  it('closing the page ends its WHEP session (DELETE with keepalive)', async () => {
    const { location } = (await player(first.page)).webrtc;
    assert.ok(location);
    await first.page.close();
    const deleted = await stack.waitForLog(
      (r) => r.msg === 'request' && r.method === 'DELETE' && r.path === location,
      15_000,
    );
    // 404 when the browser's own close of the connection (DTLS close_notify) reached the server first.
    assert.ok([200, 404].includes(deleted.status as number), `DELETE answered ${deleted.status}`);
  });

  it('the page on LL-HLS switches to WebRTC once a place is free (its next try, within a minute)', async () => {
    const { page, glass } = second;
    const switched = await waitFor(
      page,
      'WebRTC playing on the second page',
      (p) => p.protocol === 'webrtc' && p.webrtc.state === 'connected' && p.webrtc.framesDecoded > 10,
      90_000,
    );
    const switchedAt = Date.now();
    assert.equal(switched.engine, 'WebRTC (WHEP)');
    assert.equal(await page.evaluate('window.__player.hls'), null, 'hls.js is gone');
    const deadline = Date.now() + 20_000;
    while ((await glass.framesBetween(switchedAt, Date.now() + 1000)).length < 15) {
      assert.ok(Date.now() < deadline, 'frames after the switch');
      await sleep(200);
    }
    await glass.waitForSteady('blue', 20_000);
    assert.equal((await player(page)).note, '');
    assert.equal(await metric(stack, 'desktop_streamer_webrtc_sessions'), 1);
    assert.deepEqual(second.pageErrors, []);
  });

  // Last: a pipeline started while the WebRTC UDP socket is open inherits that socket, and once every
  // viewer has left no new session can be answered until the pipeline restarts (found with this
  // test, reported), so nothing here needs a new session after the kill.
  it('through kill -9 of the pipeline the connection stays up and frames resume, no reconnect', async () => {
    const { page, glass } = second;
    const previous = await player(page);
    const pid = stack.pipelinePid();
    assert.ok(pid, 'a pipeline is running');
    const states = new Set<string>();
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await stack.waitForLog((r) => r.msg === 'pipeline process started' && r.pid !== pid, 30_000);
    // Watch the connection state until frames come again after the kill.
    const deadline = Date.now() + 30_000;
    let resumed = false;
    while (Date.now() < deadline && !resumed) {
      states.add((await player(page)).webrtc.state);
      const frames = await glass.framesBetween(killedAt + 500, Date.now() + 1000);
      resumed = frames.length > 10;
      await sleep(100);
    }
    assert.ok(resumed, 'frames after the kill');
    await glass.waitForSteady('blue', 20_000);
    const afterKill = await player(page);
    assert.deepEqual([...states], ['connected'], 'the connection state never changed');
    assert.equal(afterKill.webrtc.location, previous.webrtc.location, 'the same WHEP session');
    assert.equal(afterKill.webrtc.reconnects, previous.webrtc.reconnects, 'no reconnect');
    assert.equal(afterKill.protocol, 'webrtc');
    assert.deepEqual(second.pageErrors, []);
  });
});

describe('/player with WebRTC turned off', { timeout: 180_000 }, () => {
  let stack: Stack;
  let browser: Browser;

  before(async () => {
    stack = await startStack({
      config: { single_monitor_fallback: false, webrtc: { enabled: false } },
    });
    await stack.waitForPlaylist((text) => text.includes('#EXT-X-PART:'), 60_000);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('falls back to LL-HLS at once, plays monitor 2, shows why and does not ask again', async () => {
    const { page, glass, pageErrors } = await openPlayer(browser, stack);
    const hls = await waitFor(
      page,
      'LL-HLS playing',
      (p) => p.protocol === 'hls' && p.currentTime > 0.5 && p.lowLatency === true,
      60_000,
    );
    assert.match(hls.engine, /^hls\.js /);
    assert.equal(hls.webrtc.status, 503);
    assert.match(hls.webrtc.message ?? '', /WebRTC is turned off/);
    assert.equal(hls.webrtc.retryAt, null, 'WebRTC off in the config: no retries');
    await glass.waitForSteady('blue', 45_000);
    assert.ok((await recentFrames(glass)) > 5);
    const shown = await waitFor(page, 'the panel', (p) => p.protocolText === 'LL-HLS');
    assert.match(shown.note, /^WebRTC: HTTP 503: WebRTC is turned off .* · playing LL-HLS$/);
    assert.deepEqual(pageErrors, []);
  });

  it('?protocol=hls is the LL-HLS player alone: no WHEP request at all', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const whep: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/whep'))
        whep.push(`${request.method()} ${request.url()}`);
    });
    await page.goto(`${stack.baseUrl}/player?protocol=hls`);
    const hls = await waitFor(
      page,
      'LL-HLS playing',
      (p) => p.protocol === 'hls' && p.currentTime > 0.5,
      60_000,
    );
    assert.match(hls.engine, /^hls\.js /);
    assert.equal(hls.webrtc.state, 'idle');
    await waitFor(page, 'the panel', (p) => p.protocolText === 'LL-HLS');
    assert.equal((await player(page)).note, '');
    assert.deepEqual(whep, []);
    await page.close();
  });
});
