/**
 * The built-in player really plays a live stream in a real browser: a real gst-launch-1.0
 * (videotestsrc → x264 → hlssink2) feeds the real /hls router, Debian's Chromium (driven by
 * playwright-core, no downloaded browser) opens /player, and the video's currentTime advances.
 * A screenshot of the page is written to $PLAYER_SCREENSHOT (default: the test's temp dir).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Router from '@koa/router';
import type { Browser } from 'playwright-core';
import { createHlsRouter } from '../../src/api/routes/hls.ts';
import { startTestServer, type TestServer } from '../api/helpers.ts';
import { launchChromium } from '../helpers/browser.ts';

function gstPipeline(dir: string): string[] {
  return [
    '-e',
    'videotestsrc',
    'is-live=true',
    '!',
    'video/x-raw,width=640,height=360,framerate=15/1',
    '!',
    'videoconvert',
    '!',
    'video/x-raw,format=I420',
    '!',
    'x264enc',
    'tune=zerolatency',
    'speed-preset=ultrafast',
    'key-int-max=15',
    '!',
    'h264parse',
    '!',
    'hlssink2',
    'target-duration=1',
    `location=${dir}/segment%05d.ts`,
    `playlist-location=${dir}/playlist.m3u8`,
    'max-files=20',
    'playlist-length=5',
  ];
}

/**
 * Publishes hlssink2's output under the names the real /hls router serves (seg-<9 digits>.ts),
 * by hard link (the router refuses symlinks), and keeps the rewritten playlist text in memory.
 */
class MiniPublisher {
  text: string | null = null;
  /** While true the playlist answers 404, as while the supervisor restarts from scratch. */
  outage = false;
  segments = 0;
  #timer: NodeJS.Timeout | undefined;
  constructor(
    readonly workDir: string,
    readonly publicDir: string,
  ) {}
  start(): void {
    this.#timer = setInterval(() => void this.#sync().catch(() => {}), 250);
  }
  stop(): void {
    clearInterval(this.#timer);
  }
  async #sync(): Promise<void> {
    const source = await readFile(path.join(this.workDir, 'playlist.m3u8'), 'utf8').catch(() => null);
    if (source === null) return;
    const names = [...source.matchAll(/^segment(\d+)\.ts$/gm)];
    for (const [name, number] of names) {
      const target = path.join(this.publicDir, `seg-${number!.padStart(9, '0')}.ts`);
      if (!existsSync(target)) await link(path.join(this.workDir, name), target).catch(() => {});
    }
    this.segments = names.length;
    this.text = source
      .replace(/^segment(\d+)\.ts$/gm, (_m, n: string) => `seg-${n.padStart(9, '0')}.ts`)
      .replace(/^#EXT-X-ENDLIST\n?/m, '');
  }
}

async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('built-in player in Chromium', { timeout: 180_000 }, () => {
  let dir: string;
  let gst: ChildProcess | undefined;
  let publisher: MiniPublisher;
  let server: TestServer;
  let browser: Browser | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'player-e2e-'));
    const workDir = path.join(dir, 'work');
    const publicDir = path.join(dir, 'public');
    await mkdir(workDir);
    await mkdir(publicDir);
    gst = spawn('gst-launch-1.0', gstPipeline(workDir), {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let gstErr = '';
    gst.stderr?.on('data', (chunk: Buffer) => {
      gstErr = (gstErr + chunk.toString()).slice(-2000);
    });
    publisher = new MiniPublisher(workDir, publicDir);
    publisher.start();
    server = await startTestServer({
      deps: {
        extraRouters: [
          createHlsRouter({ publicDir, playlist: () => (publisher.outage ? null : publisher.text) }),
        ],
      },
    });
    await waitFor(
      `3 segments from gst-launch-1.0 (stderr: ${gstErr})`,
      () => publisher.segments >= 3,
      30_000,
    );
  });

  after(async () => {
    await browser?.close().catch(() => {});
    publisher?.stop();
    if (gst?.pid && gst.exitCode === null) {
      try {
        process.kill(-gst.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('plays the live stream: currentTime advances, the health panel says Healthy', async () => {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    page.on('response', (response) => {
      if (response.status() >= 400) consoleErrors.push(`${response.status()} ${response.url()}`);
    });

    await page.goto(`${server.url}/player`);
    // Browser-side code as strings: this project's TypeScript has no DOM lib.
    const currentTime = async () =>
      Number(await page.evaluate("document.getElementById('video').currentTime"));
    await waitFor('playback to start', async () => (await currentTime()) > 0.5, 45_000);
    const first = await currentTime();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const second = await currentTime();
    assert.ok(second - first > 1.5, `currentTime advanced only from ${first} to ${second}`);

    const engine = String(await page.evaluate('window.__player.engine'));
    assert.match(engine, /^hls\.js /);
    await page.waitForFunction("document.getElementById('badge').textContent === 'Healthy'", null, {
      timeout: 10_000,
    });
    const size = await page.evaluate(
      "(v => v.videoWidth + 'x' + v.videoHeight)(document.getElementById('video'))",
    );
    assert.equal(size, '640x360');
    await page.waitForFunction("document.getElementById('p-resolution').textContent === '640×360'");

    // Plain HLS (no parts, no HOLD-BACK): hls.js keeps two target durations from the live edge,
    // and the page shows how far behind live it plays (no PROGRAM-DATE-TIME here: hls.js' estimate).
    await page.waitForFunction("/^(≈ )?\\d+\\.\\d s/.test(document.getElementById('p-latency').textContent)");
    const player = (await page.evaluate(
      '({ lowLatency: window.__player.lowLatency, target: window.__player.targetLatency, td: window.__player.hls.latestLevelDetails.targetduration })',
    )) as { lowLatency: boolean; target: number; td: number };
    assert.equal(player.lowLatency, false);
    assert.ok(
      player.target >= 2 * player.td && player.target <= 3 * player.td,
      `target latency ${player.target} s: two target durations of ${player.td} s (plus at most one after stalls)`,
    );
    assert.equal(
      await page.evaluate("document.getElementById('p-mode').textContent"),
      `HLS, ${player.td} s segments`,
    );
    assert.match(
      String(await page.evaluate("document.getElementById('latency-chip').textContent")),
      /^(≈ )?\d+\.\d s behind live$/,
    );

    const screenshot = process.env.PLAYER_SCREENSHOT ?? path.join(dir, 'player.png');
    await page.screenshot({ path: path.join(dir, 'shot.png') });
    await copyFile(path.join(dir, 'shot.png'), screenshot).catch(() => {});
    assert.deepEqual(consoleErrors, []);
  });

  it('recovers by itself after the playlist was gone for a while', async () => {
    assert.ok(browser, 'the first test opened the browser');
    const page = browser.contexts()[0]!.pages()[0]!;
    const currentTime = async () =>
      Number(await page.evaluate("document.getElementById('video').currentTime"));
    publisher.outage = true;
    await waitFor(
      'the player to notice the outage',
      async () => Number(await page.evaluate('window.__player.recoveries')) > 0,
      45_000,
    );
    publisher.outage = false;
    const before = await currentTime();
    await waitFor('playback to resume', async () => (await currentTime()) !== before, 45_000);
    // Moving again, and not just once (a re-attached player may jump to the live edge).
    const first = await currentTime();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const second = await currentTime();
    assert.ok(second - first > 1.2, `currentTime ${first} → ${second} after the outage`);
  });
});

/** 15 fps, a keyframe every 5 frames: one TS file per 1/3 s part, each starting with a keyframe. */
const PART_FRAMES = 5;
const FPS = 15;
const PART_SECONDS = PART_FRAMES / FPS;
const PARTS_PER_SEGMENT = 6;
const SEGMENT_SECONDS = PART_SECONDS * PARTS_PER_SEGMENT;
const PART_HOLD_BACK = 1;

function llGstPipeline(dir: string): string[] {
  return [
    '-e',
    'videotestsrc',
    'is-live=true',
    '!',
    `video/x-raw,width=640,height=360,framerate=${FPS}/1`,
    '!',
    'videoconvert',
    '!',
    'video/x-raw,format=I420',
    '!',
    'x264enc',
    'tune=zerolatency',
    'speed-preset=ultrafast',
    `key-int-max=${PART_FRAMES}`,
    '!',
    'h264parse',
    '!',
    'splitmuxsink',
    'muxer-factory=mpegtsmux',
    // Split at every keyframe (they come every 333 ms).
    'max-size-time=300000000',
    `location=${dir}/part%05d.ts`,
  ];
}

/**
 * A minimal Low-Latency HLS origin (RFC 8216bis) for the player, in place of the supervisor's
 * /hls routes: parts from gst (a part is complete once the next file exists), segments of six
 * parts served as their concatenation, EXT-X-PART for the last two segments and the one in
 * progress, PART-HOLD-BACK 1 s, blocking playlist reload (_HLS_msn/_HLS_part, at most 3 target
 * durations), EXT-X-PRELOAD-HINT for the next part (its request blocks until the part is complete),
 * EXT-X-PROGRAM-DATE-TIME from the wall clock of the first part.
 */
class LlOrigin {
  readonly parts: string[] = [];
  #firstPartAt = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #waiters = new Set<() => void>();
  constructor(readonly dir: string) {}

  start(): void {
    this.#timer = setInterval(() => void this.#scan().catch(() => {}), 30);
  }
  stop(): void {
    clearInterval(this.#timer);
    for (const wake of this.#waiters) wake();
  }

  async #scan(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => /^part\d{5}\.ts$/.test(n)).sort();
    const complete = names.slice(0, -1);
    if (complete.length <= this.parts.length) return;
    // splitmuxsink opens a part's file once its GOP is complete; it is seen complete one part later.
    if (this.parts.length === 0) this.#firstPartAt = Date.now() - 2 * PART_SECONDS * 1000;
    this.parts.push(...complete.slice(this.parts.length));
    for (const wake of this.#waiters) wake();
  }

  /** Resolves once part `part` of segment `msn` (the whole segment without `part`) is listed. */
  #blockUntil(msn: number, part: number | null, timeoutMs: number): Promise<void> {
    return this.#blockUntilParts(
      part === null ? (msn + 1) * PARTS_PER_SEGMENT : msn * PARTS_PER_SEGMENT + part + 1,
      timeoutMs,
    );
  }

  async #blockUntilParts(needed: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.parts.length < needed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          resolve();
        };
        this.#waiters.add(wake);
        setTimeout(wake, Math.max(0, deadline - Date.now()));
      });
    }
  }

  playlist(): string {
    const complete = this.parts.length;
    const full = Math.floor(complete / PARTS_PER_SEGMENT);
    const first = Math.max(0, full - 4);
    const lines = [
      '#EXTM3U',
      '#EXT-X-VERSION:9',
      `#EXT-X-TARGETDURATION:${Math.round(SEGMENT_SECONDS)}`,
      `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${PART_HOLD_BACK.toFixed(3)}`,
      `#EXT-X-PART-INF:PART-TARGET=${PART_SECONDS.toFixed(5)}`,
      `#EXT-X-MEDIA-SEQUENCE:${first}`,
    ];
    const pdt = (n: number) =>
      `#EXT-X-PROGRAM-DATE-TIME:${new Date(this.#firstPartAt + n * SEGMENT_SECONDS * 1000).toISOString()}`;
    const partLines = (n: number, count: number) =>
      Array.from(
        { length: count },
        (_, i) =>
          `#EXT-X-PART:DURATION=${PART_SECONDS.toFixed(5)},URI="part-${n * PARTS_PER_SEGMENT + i}.ts",INDEPENDENT=YES`,
      );
    for (let n = first; n < full; n++) {
      lines.push(pdt(n));
      if (n >= full - 2) lines.push(...partLines(n, PARTS_PER_SEGMENT));
      lines.push(`#EXTINF:${SEGMENT_SECONDS.toFixed(5)},`, `seg-${n}.ts`);
    }
    const inProgress = complete - full * PARTS_PER_SEGMENT;
    if (inProgress > 0) lines.push(pdt(full), ...partLines(full, inProgress));
    // Without it hls.js 1.7 takes a playlist that ends on a whole segment for one whose last segment is
    // still in progress: it counts that segment twice and its timeline jumps between reloads.
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-${complete}.ts"`);
    return `${lines.join('\n')}\n`;
  }

  router(): Router {
    const router = new Router();
    router.get('/hls/desktop/playlist.m3u8', async (ctx) => {
      const msn = ctx.query._HLS_msn;
      const part = ctx.query._HLS_part;
      if (typeof msn === 'string') {
        await this.#blockUntil(
          Number(msn),
          typeof part === 'string' ? Number(part) : null,
          3 * SEGMENT_SECONDS * 1000,
        );
      }
      ctx.type = 'application/vnd.apple.mpegurl';
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = this.playlist();
    });
    router.get('/hls/desktop/:name', async (ctx) => {
      const part = /^part-(\d+)\.ts$/.exec(ctx.params.name ?? '');
      const segment = /^seg-(\d+)\.ts$/.exec(ctx.params.name ?? '');
      let indexes: number[] = [];
      if (part) indexes = [Number(part[1])];
      else if (segment)
        indexes = Array.from(
          { length: PARTS_PER_SEGMENT },
          (_, i) => Number(segment[1]) * PARTS_PER_SEGMENT + i,
        );
      // The preload-hinted part: answered once it is complete.
      if (part && indexes[0] === this.parts.length)
        await this.#blockUntilParts(indexes[0] + 1, 3 * SEGMENT_SECONDS * 1000);
      if (indexes.length === 0 || indexes.some((i) => i >= this.parts.length)) {
        ctx.status = 404;
        return;
      }
      ctx.type = 'video/mp2t';
      ctx.body = Buffer.concat(
        await Promise.all(indexes.map((i) => readFile(path.join(this.dir, this.parts[i]!)))),
      );
    });
    return router;
  }
}

describe('built-in player on a Low-Latency HLS playlist', { timeout: 120_000 }, () => {
  let dir: string;
  let gst: ChildProcess | undefined;
  let origin: LlOrigin;
  let server: TestServer;
  let browser: Browser | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'player-ll-e2e-'));
    gst = spawn('gst-launch-1.0', llGstPipeline(dir), {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let gstErr = '';
    gst.stderr?.on('data', (chunk: Buffer) => {
      gstErr = (gstErr + chunk.toString()).slice(-2000);
    });
    origin = new LlOrigin(dir);
    origin.start();
    server = await startTestServer({ deps: { extraRouters: [origin.router()] } });
    await waitFor(
      `two segments of parts from gst-launch-1.0 (stderr: ${gstErr})`,
      () => origin.parts.length >= 2 * PARTS_PER_SEGMENT,
      30_000,
    );
  });

  after(async () => {
    await browser?.close().catch(() => {});
    origin?.stop();
    if (gst?.pid && gst.exitCode === null) {
      try {
        process.kill(-gst.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('plays at the playlist PART-HOLD-BACK, not two target durations behind, and shows the latency', async () => {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(String(error)));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${server.url}/player`);
    const read = async () =>
      (await page.evaluate(
        `({ t: document.getElementById('video').currentTime, lowLatency: window.__player.lowLatency,
            target: window.__player.targetLatency, edge: window.__player.edgeLatency, latency: window.__player.latency,
            fatal: window.__player.errors.filter((e) => e.fatal) })`,
      )) as {
        t: number;
        lowLatency: boolean;
        target: number;
        edge: number;
        latency: number;
        fatal: unknown[];
      };
    await waitFor('playback to start', async () => (await read()).t > 0.5, 45_000);
    // hls.js reaches PART-HOLD-BACK by playing faster (maxLiveSyncPlaybackRate) or starts there.
    await waitFor('the player to settle near the live edge', async () => (await read()).edge < 2.5, 30_000);
    const first = await read();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const now = await read();

    assert.ok(now.t - first.t > 2, `currentTime advanced only from ${first.t} to ${now.t}`);
    assert.equal(now.lowLatency, true);
    // PART-HOLD-BACK (1 s), plus at most one target duration hls.js adds after stalls: never the
    // 2 x 2 s it would use if a liveSync* setting in the page overrode the playlist.
    assert.ok(
      now.target >= PART_HOLD_BACK && now.target <= PART_HOLD_BACK + SEGMENT_SECONDS,
      `target latency ${now.target} s`,
    );
    assert.ok(now.edge < 3, `${now.edge} s behind the playlist edge`);
    assert.ok(now.latency > 0 && now.latency < 4, `latency per PROGRAM-DATE-TIME ${now.latency} s`);
    assert.deepEqual(now.fatal, []);
    assert.equal(
      await page.evaluate("document.getElementById('p-mode').textContent"),
      'LL-HLS, 0.33 s parts',
    );
    assert.match(
      String(await page.evaluate("document.getElementById('p-latency').textContent")),
      /^\d+\.\d s/,
    );
    assert.match(
      String(await page.evaluate("document.getElementById('latency-chip').textContent")),
      /^\d+\.\d s behind live$/,
    );
    assert.deepEqual(problems, []);
    await page.screenshot({ path: process.env.PLAYER_LL_SCREENSHOT ?? path.join(dir, 'player-ll.png') });

    // Far behind (here: paused for a while, as after a long stall on a busy device): hls.js alone
    // would stay there; the page brings the viewer back to the live edge.
    await page.evaluate("document.getElementById('video').pause()");
    await new Promise((resolve) => setTimeout(resolve, 8000));
    await page.evaluate("document.getElementById('video').play()");
    await waitFor(
      'the jump back to the live edge',
      async () => Number(await page.evaluate('window.__player.jumps')) >= 1,
      20_000,
    );
    await waitFor('playing near the edge again', async () => (await read()).edge < 3, 15_000);
    assert.deepEqual((await read()).fatal, []);
  });
});
