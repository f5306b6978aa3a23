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
