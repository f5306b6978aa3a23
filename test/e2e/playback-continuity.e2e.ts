/**
 * A real player keeps playing through a pipeline restart: hls.js in Debian's headless Chromium
 * plays the real supervisor's live stream (real gst-launch-1.0 on the two-monitor rig), the
 * pipeline is killed with SIGKILL, and playback must carry on across the discontinuity with no
 * fatal hls.js error.
 *
 * The page is a minimal one served here (hls.js from node_modules) so the test watches hls.js
 * itself — every ERROR event, fatal or not — rather than a UI built on top of it.
 *
 * Run alone (2 shared cores): node --import tsx --test test/e2e/playback-continuity.e2e.ts
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { serveHlsPage } from '../helpers/hls-page.ts';
import { parsePlaylist, type Stack, startStack } from '../helpers/stack.ts';

interface HlsErrorRecord {
  type: string;
  details: string;
  fatal: boolean;
  at: number;
}

function pageHtml(playlistUrl: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>continuity</title></head>
<body>
<video id="video" muted autoplay playsinline width="640" height="360"></video>
<script src="/hls.min.js"></script>
<script>
  window.hlsErrors = [];
  const video = document.getElementById('video');
  const hls = new Hls({ lowLatencyMode: false });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    window.hlsErrors.push({ type: String(data.type), details: String(data.details), fatal: Boolean(data.fatal), at: video.currentTime });
  });
  window.playedFragments = [];
  hls.on(Hls.Events.FRAG_CHANGED, (_event, data) => { window.playedFragments.push(Number(data.frag.sn)); });
  hls.loadSource(${JSON.stringify(playlistUrl)});
  hls.attachMedia(video);
  hls.on(Hls.Events.MANIFEST_PARSED, () => { video.play().catch(() => {}); });
  window.hls = hls;
</script>
</body></html>`;
}

/** Media sequence number of the first segment after a discontinuity that is newer than `lastBefore`. */
function firstOfNewRun(text: string, lastBefore: number): number | null {
  let sequence = parsePlaylist(text).mediaSequence;
  let discontinuity = false;
  for (const line of text.split('\n')) {
    if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (line !== '' && !line.startsWith('#')) {
      if (discontinuity && sequence > lastBefore) return sequence;
      sequence++;
      discontinuity = false;
    }
  }
  return null;
}

// Browser-side code as strings: this project's TypeScript has no DOM lib.
async function currentTime(page: Page): Promise<number> {
  return Number(await page.evaluate("document.getElementById('video').currentTime"));
}

async function hlsErrors(page: Page): Promise<HlsErrorRecord[]> {
  return (await page.evaluate('window.hlsErrors')) as HlsErrorRecord[];
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(250);
  }
}

describe('playback continuity through a pipeline restart', () => {
  let stack: Stack;
  let browser: Browser | undefined;
  let page: { server: Server; url: string } | undefined;

  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await new Promise((resolve) => page?.server.close(resolve) ?? resolve(undefined));
    await stack?.stop();
  });

  it('hls.js keeps playing after kill -9 of the pipeline, with no fatal error', {
    timeout: 240_000,
  }, async () => {
    const before = parsePlaylist(
      await stack.waitForPlaylist((t) => parsePlaylist(t).segments.length >= 3, 90_000),
    );
    page = await serveHlsPage(pageHtml(`${stack.baseUrl}/hls/desktop/playlist.m3u8`));
    browser = await launchChromium();
    const tab = await browser.newPage({ viewport: { width: 800, height: 480 } });
    await tab.goto(page.url);

    await waitFor('playback to start', async () => (await currentTime(tab)) > 2, 60_000);
    const startedAt = await currentTime(tab);
    await sleep(3000);
    assert.ok((await currentTime(tab)) - startedAt > 1.5, 'playback advances before the fault');

    const pid = stack.pipelinePid();
    assert.ok(pid, 'pipeline pid known');
    const lastBefore = before.mediaSequence + before.segments.length - 1;
    const atKill = await currentTime(tab);
    process.kill(pid, 'SIGKILL');

    // The restart really happened: a new run, marked by a discontinuity in the playlist.
    const restarted = await stack.waitForPlaylist((t) => firstOfNewRun(t, lastBefore) !== null, 90_000);
    const firstNew = firstOfNewRun(restarted, lastBefore)!;
    assert.notEqual(stack.pipelinePid(), pid);

    // Playback carries on well past the restart (20 s of media, i.e. 10 segments of the new run).
    await waitFor(
      'playback to advance 20 s past the kill',
      async () => (await currentTime(tab)) > atKill + 20,
      90_000,
    );
    const late = await currentTime(tab);
    await sleep(3000);
    assert.ok((await currentTime(tab)) - late > 1.5, 'still advancing at the end');

    // hls.js really played segments of the new run, several of them.
    const played = (await tab.evaluate('window.playedFragments')) as number[];
    assert.ok(
      played.includes(firstNew) && Math.max(...played) >= firstNew + 3,
      `played fragments ${played.join(',')} cover the new run from ${firstNew}`,
    );

    const errors = await hlsErrors(tab);
    const fatal = errors.filter((e) => e.fatal);
    assert.deepEqual(fatal, [], `fatal hls.js errors: ${JSON.stringify(fatal)}`);
    const size = String(
      await tab.evaluate("(v => v.videoWidth + 'x' + v.videoHeight)(document.getElementById('video'))"),
    );
    assert.equal(size, '1280x720');
    // Non-fatal errors (e.g. a buffer stall during the gap) are allowed; print them for the record.
    if (errors.length > 0) console.log(`non-fatal hls.js errors: ${JSON.stringify(errors)}`);
  });
});
