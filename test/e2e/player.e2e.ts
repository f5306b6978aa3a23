/**
 * The built-in player really plays a live stream in a real browser: a real gst-launch-1.0
 * (videotestsrc → x264 → hlssink2) feeds the real /hls router, Debian's Chromium (driven by
 * playwright-core, no downloaded browser) opens /player, and the video's currentTime advances.
 * A screenshot of the page is written to $PLAYER_SCREENSHOT (default: the test's temp dir).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { createHlsRouter } from '../../src/api/routes/hls.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { lowLatencyTiming, nominalPartSeconds } from '../../src/hls/low-latency.ts';
import { createHlsPublisher, type LocalHlsPublisher } from '../../src/hls/publisher.ts';
import { LiveStream } from '../../src/media/live-stream.ts';
import { startTestServer, type TestServer } from '../api/helpers.ts';
import { encodedStreamArgs } from '../fixtures/encoded-stream.ts';
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

    await page.goto(`${server.url}/player?protocol=hls`);
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

/**
 * The supervisor's own media path without the supervisor: a live test pattern encoded as the
 * capture pipeline does, cut by LiveStream and listed by the real publisher, served by the real
 * /hls router with blocking reload — so the player meets exactly the playlists a kiosk serves.
 */
const FPS = 15;
const SEGMENT_SECONDS = 2;
const { partTargetSeconds: PART_TARGET, partHoldBackSeconds: PART_HOLD_BACK } = lowLatencyTiming(FPS);

/**
 * A busy device in the page: every SourceBuffer.remove() takes effect REMOVE_DELAY_MS late (longer
 * than a part), so whatever the player loads meanwhile queues up behind it. Counts the removals.
 */
const REMOVE_DELAY_MS = 400;
const SLOW_SOURCE_BUFFER_REMOVE = `(() => {
  const remove = SourceBuffer.prototype.remove;
  window.__sourceBufferRemoves = 0;
  SourceBuffer.prototype.remove = function (start, end) {
    window.__sourceBufferRemoves += 1;
    setTimeout(() => remove.call(this, start, end), ${REMOVE_DELAY_MS});
  };
})()`;
/** How long the player plays in the segment-boundary test: past the 30 s of back buffer hls.js kept before. */
const LONG_PLAY_S = 45;

describe('built-in player on a Low-Latency HLS playlist', { timeout: 180_000 }, () => {
  let dir: string;
  let gst: ChildProcess | undefined;
  let publisher: LocalHlsPublisher;
  let server: TestServer;
  let browser: Browser | undefined;
  let parts = 0;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'player-ll-e2e-'));
    publisher = createHlsPublisher({
      config: { ...DEFAULT_CONFIG, output_dir: dir, fps: FPS, segment_duration: SEGMENT_SECONDS },
      logger: pino({ level: 'silent' }),
    });
    await publisher.start();
    await publisher.beginRun();
    const stream = new LiveStream({
      fps: FPS,
      partSeconds: nominalPartSeconds(FPS),
      segmentSeconds: SEGMENT_SECONDS,
      now: Date.now,
      onPart: (part) => {
        parts++;
        void publisher.publishPart(part).catch(() => {});
      },
    });
    gst = spawn(
      'gst-launch-1.0',
      [
        '-q',
        ...encodedStreamArgs({ fps: FPS, width: 640, height: 360, gop: FPS * SEGMENT_SECONDS, live: true }, [
          'fdsink',
          'fd=1',
          'sync=false',
        ]),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    let gstErr = '';
    gst.stderr?.on('data', (chunk: Buffer) => {
      gstErr = (gstErr + chunk.toString()).slice(-2000);
    });
    gst.stdout?.on('data', (chunk: Buffer) => stream.push(chunk));
    server = await startTestServer({
      deps: {
        extraRouters: [
          createHlsRouter({
            publicDir: publisher.paths.publicDir,
            playlist: () => publisher.livePlaylistText(),
            segmentData: (name) => publisher.listedSegmentData(name),
            lowLatency: {
              waitForMedia: (msn, part, timeoutMs) => publisher.waitForMedia(msn, part, timeoutMs),
              liveEdge: () => publisher.liveEdge(),
              partData: (name) => publisher.partData(name),
              blockTimeoutMs: () => 3 * SEGMENT_SECONDS * 1000,
            },
          }),
        ],
      },
    });
    await waitFor(
      `two segments of parts from gst-launch-1.0 (stderr: ${gstErr})`,
      () => publisher.snapshot().segments.length >= 2 && parts > 0,
      30_000,
    );
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await publisher?.stop();
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
    await page.goto(`${server.url}/player?protocol=hls`);
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
    // PART-HOLD-BACK, plus at most one target duration hls.js adds after stalls: never the
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
      `LL-HLS, ${PART_TARGET.toFixed(2)} s parts`,
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

  it(`plays ${LONG_PLAY_S} s across segment boundaries without freezing, even when removing media from the buffer is slow`, async () => {
    // hls.js 1.7 with a finite backBufferLength removes played media at every segment change; when a
    // removal completed while a part was loaded but not yet appended, it forgot the parts it had
    // appended of the segment being loaded, and at that segment's end loaded nothing until the
    // playlist stopped listing them: the video froze for 2-6 s (bench/README.md, Glass to player).
    browser ??= await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.addInitScript(SLOW_SOURCE_BUFFER_REMOVE);
    await page.goto(`${server.url}/player?protocol=hls`);
    const currentTime = async () =>
      Number(await page.evaluate("document.getElementById('video').currentTime"));
    if (process.env.PLAYER_TRACE_FILE)
      await page.evaluate((await import('../helpers/glass.ts')).PLAYER_TRACE_SCRIPT);
    await waitFor('playback to start', async () => (await currentTime()) > 0.5, 45_000);
    // Every 100 ms: how far the video moved; the longest stretch without progress is a freeze.
    const started = Date.now();
    let last = await currentTime();
    let stillSince = Date.now();
    let longestStillMs = 0;
    let stillAt = 0;
    while (Date.now() - started < LONG_PLAY_S * 1000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const t = await currentTime();
      if (t !== last) {
        last = t;
        stillSince = Date.now();
      } else if (Date.now() - stillSince > longestStillMs) {
        longestStillMs = Date.now() - stillSince;
        stillAt = t;
      }
    }
    if (process.env.PLAYER_TRACE_FILE) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(
        process.env.PLAYER_TRACE_FILE,
        JSON.stringify(await page.evaluate('window.__trace.events')),
      );
    }
    const player = (await page.evaluate(
      `({ errors: window.__player.errors, removes: window.__sourceBufferRemoves, lowLatency: window.__player.lowLatency })`,
    )) as { errors: { details: string; fatal: boolean }[]; removes: number; lowLatency: boolean };
    await page.close();
    assert.equal(player.lowLatency, true);
    const stalls = player.errors.filter((e) => e.details === 'bufferStalledError').length;
    assert.ok(
      longestStillMs < 1500,
      `the video stood still for ${longestStillMs} ms at ${stillAt.toFixed(3)} s (${stalls} hls.js stall(s), ${player.removes} SourceBuffer removals in ${LONG_PLAY_S} s)`,
    );
    assert.deepEqual(
      player.errors.filter((e) => e.fatal),
      [],
    );
  });
});
