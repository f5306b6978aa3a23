/**
 * Glass to player, end to end: the real supervisor captures the rig's second monitor, the built-in
 * /player plays it in Debian's headless Chromium — over LL-HLS (hls.js) and over WebRTC (WHEP) —
 * the picture on that monitor changes twice (blue window unmapped → black, mapped again → blue)
 * and each change must show in the page's `<video>` (requestVideoFrameCallback + canvas,
 * test/helpers/glass.ts) within a generous bound (GLASS_TO_PLAYER_MAX_S, default 8 s for LL-HLS,
 * ≈ 1.2 s measured; WEBRTC_GLASS_TO_PLAYER_MAX_S, default 3 s, ≈ 0.2 s measured). Over LL-HLS the
 * latency /player shows must agree with the measured one.
 *
 * bench/glass-to-player.ts measures the same thing over many changes; run alone (2 shared cores):
 *   node --import tsx --test test/e2e/glass-to-player.e2e.ts
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { PlayerGlass, SecondMonitorPicture } from '../helpers/glass.ts';
import { parsePlaylist, type Stack, startStack } from '../helpers/stack.ts';

const BOUNDS_S = {
  hls: Number(process.env.GLASS_TO_PLAYER_MAX_S ?? 8),
  webrtc: Number(process.env.WEBRTC_GLASS_TO_PLAYER_MAX_S ?? 3),
};
/** How far the page's own figure (PROGRAM-DATE-TIME vs the clock) may be from the measured one. */
const PAGE_TOLERANCE_S = 2;

describe('glass to player', { timeout: 240_000 }, () => {
  let stack: Stack;
  let browser: Browser | undefined;
  let picture: SecondMonitorPicture | undefined;

  before(async () => {
    for (const [name, bound] of Object.entries(BOUNDS_S)) {
      assert.ok(Number.isFinite(bound) && bound > 0, `the ${name} bound must be > 0 s, got ${bound}`);
    }
    stack = await startStack();
    await stack.waitForPlaylist((t) => parsePlaylist(t).segments.length >= 1, 30_000);
    picture = await SecondMonitorPicture.find(stack.display);
    browser = await launchChromium();
  });
  after(async () => {
    await picture?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stack?.stop();
  });

  for (const protocol of ['hls', 'webrtc'] as const) {
    const bound = BOUNDS_S[protocol];
    it(`over ${protocol}: two picture changes on monitor 2 show in /player's <video>, each within ${bound} s`, async () => {
      const page = await browser!.newPage({ viewport: { width: 1280, height: 720 } });
      await page.goto(`${stack.baseUrl}/player?protocol=${protocol}`);
      const glass = new PlayerGlass(page);
      await glass.install();
      await glass.waitForSteady(picture!.state, 30_000);
      assert.equal(await page.evaluate('window.__player.protocol'), protocol);

      const seen: { to: string; seconds: number; page: number | null }[] = [];
      for (let i = 0; i < 2; i++) {
        await sleep(1000);
        const change = await picture!.toggle();
        const shown = await glass.waitForColour(change.to, change.requestedAt, bound * 1000 + 5000);
        const seconds = (shown.shownAt - change.at) / 1000;
        seen.push({ to: change.to, seconds, page: (await glass.player()).latency });
        assert.ok(
          seconds > 0 && seconds <= bound,
          `change to ${change.to} showed after ${seconds.toFixed(2)} s (bound ${bound} s)`,
        );
      }
      console.log(`glass to player over ${protocol}: ${JSON.stringify(seen)}`);
      if (protocol === 'hls') {
        for (const s of seen) {
          assert.ok(s.page !== null, '/player shows a latency from EXT-X-PROGRAM-DATE-TIME');
          assert.ok(
            Math.abs(s.page - s.seconds) <= PAGE_TOLERANCE_S,
            `/player says ${s.page.toFixed(2)} s, measured ${s.seconds.toFixed(2)} s`,
          );
        }
        const fatal = (await glass.player()).errors.filter((e) => e.fatal);
        assert.deepEqual(fatal, [], 'no fatal hls.js error');
      }
      await page.close();
    });
  }
});
