/**
 * Low-Latency HLS end to end, through real faults: the real supervisor packages the real
 * gst-launch-1.0's MPEG-TS (two-monitor rig: monitor 1 red, monitor 2 blue) into LL-HLS, and
 * - a watcher reloads the live playlist the way hls.js does (blocking reload: after every
 *   response it asks for the next part with `_HLS_msn`/`_HLS_part`), keeping every snapshot;
 * - hls.js in lowLatencyMode plays it in Debian's headless Chromium;
 * while the pipeline is killed (-9), hung (SIGSTOP) and the second monitor unplugged and
 * replugged. Every snapshot must pass test/helpers/hls-validator.ts (RFC 8216 / 8216bis),
 * playback must advance past each fault with no fatal hls.js error, and afterwards ffmpeg
 * reading the URL must decode the blue second monitor.
 *
 * Run alone (2 shared cores): node --import tsx --test test/e2e/ll-hls.e2e.ts
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type { Browser, Page } from 'playwright-core';
import { PART_NAME_PATTERN } from '../../src/hls/playlist.ts';
import { launchChromium } from '../helpers/browser.ts';
import { dominant, meanColour } from '../helpers/frames.ts';
import { serveHlsPage } from '../helpers/hls-page.ts';
import {
  formatFindings,
  parseSnapshot,
  summarizeFindings,
  validateSnapshots,
} from '../helpers/hls-validator.ts';
import { type LogRecord, type Stack, startStack } from '../helpers/stack.ts';

/** How far playback must advance past each fault (media seconds). */
const ADVANCE_PAST_FAULT_SECONDS = 3;
const FAULT_TIMEOUT_MS = 30_000;

interface HlsErrorRecord {
  type: string;
  details: string;
  fatal: boolean;
  at: number;
  wall: string;
  /** Why, for fatal errors and playlist parsing errors (hls.js puts both playlists in it). */
  reason?: string;
}

function pageHtml(playlistUrl: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>ll-hls</title></head>
<body>
<video id="video" muted autoplay playsinline width="640" height="360"></video>
<script src="/hls.min.js"></script>
<script>
  window.hlsErrors = [];
  window.partsLoaded = 0;
  const video = document.getElementById('video');
  const hls = new Hls({ lowLatencyMode: true });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    window.hlsErrors.push({ type: String(data.type), details: String(data.details), fatal: Boolean(data.fatal), at: video.currentTime, wall: new Date().toISOString(), reason: data.fatal || data.details === 'levelParsingError' ? String(data.reason || (data.error && data.error.message) || '') : undefined });
  });
  hls.on(Hls.Events.FRAG_LOADED, (_event, data) => { if (data.part) window.partsLoaded++; });
  hls.loadSource(${JSON.stringify(playlistUrl)});
  hls.attachMedia(video);
  hls.on(Hls.Events.MANIFEST_PARSED, () => { video.play().catch(() => {}); });
  window.hls = hls;
</script>
</body></html>`;
}

// Browser-side code as strings: this project's TypeScript has no DOM lib.
async function currentTime(page: Page): Promise<number> {
  return Number(await page.evaluate("document.getElementById('video').currentTime"));
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(200);
  }
}

interface Snapshot {
  at: number;
  text: string;
  /** The query that returned it ('' for a plain reload). */
  query: string;
}

/**
 * Reloads the playlist like hls.js in low-latency mode: after each response, a blocking request
 * for the next part (the one EXT-X-PRELOAD-HINT names, or part 0 of the next segment).
 */
class BlockingWatcher {
  readonly snapshots: Snapshot[] = [];
  readonly statuses = new Map<number, number>();
  readonly errors: string[] = [];
  #stopped = false;
  #done: Promise<void> | null = null;
  constructor(readonly playlistUrl: string) {}

  start(): void {
    this.#done = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }

  async #run(): Promise<void> {
    let query = '';
    while (!this.#stopped) {
      let response: Response;
      try {
        response = await fetch(`${this.playlistUrl}${query}`, { signal: AbortSignal.timeout(15_000) });
      } catch (error) {
        this.errors.push(`${new Date().toISOString()} ${query}: ${String(error)}`);
        await sleep(200);
        continue;
      }
      this.statuses.set(response.status, (this.statuses.get(response.status) ?? 0) + 1);
      const body = await response.text();
      if (response.status === 503) continue; // the blocking reload timed out: ask again
      if (response.status !== 200) {
        this.errors.push(
          `${new Date().toISOString()} ${query}: HTTP ${response.status} ${body.slice(0, 200)}`,
        );
        await sleep(200);
        continue;
      }
      this.snapshots.push({ at: Date.now(), text: body, query });
      query = nextQuery(body);
    }
  }

  /** Times (ms) at which a snapshot listed a part or segment no earlier snapshot had. */
  newMediaTimes(): number[] {
    const times: number[] = [];
    let lastEdge = '';
    for (const snapshot of this.snapshots) {
      const parsed = parseSnapshot(snapshot.text);
      const edge = parsed.open
        ? `${parsed.open.msn}/${parsed.open.parts.length}`
        : `${parsed.mediaSequence + parsed.segments.length - 1}/end`;
      if (edge !== lastEdge) times.push(snapshot.at);
      lastEdge = edge;
    }
    return times;
  }
}

function nextQuery(text: string): string {
  const parsed = parseSnapshot(text);
  const hinted = parsed.preloadHint ? PART_NAME_PATTERN.exec(parsed.preloadHint.uri) : null;
  if (hinted) return `?_HLS_msn=${Number(hinted[1])}&_HLS_part=${Number(hinted[2])}`;
  if (parsed.open) return `?_HLS_msn=${parsed.open.msn}&_HLS_part=${parsed.open.parts.length}`;
  return `?_HLS_msn=${parsed.mediaSequence + parsed.segments.length}&_HLS_part=0`;
}

/** Longest wait for new media in the playlist within [from, to] (ms). */
function longestGap(times: number[], from: number, to: number): number {
  const inside = times.filter((t) => t >= from && t <= to);
  let longest = 0;
  let previous = from;
  for (const t of inside) {
    longest = Math.max(longest, t - previous);
    previous = t;
  }
  return longest;
}

function afterNow(stack: Stack, predicate: (record: LogRecord) => boolean): (record: LogRecord) => boolean {
  const mark = stack.logs.length;
  return (record) => stack.logs.indexOf(record) >= mark && predicate(record);
}

function killQuietly(pid: number | null, signal: NodeJS.Signals): void {
  if (pid === null) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

describe('Low-Latency HLS through real faults', () => {
  let stack: Stack;
  let playlistUrl: string;
  let browser: Browser | undefined;
  let page: { server: Server; url: string } | undefined;
  let watcher: BlockingWatcher | undefined;
  const started = Date.now();

  before(async () => {
    stack = await startStack();
    playlistUrl = `${stack.baseUrl}/hls/desktop/playlist.m3u8`;
    await stack.waitForPlaylist((t) => parseSnapshot(t).segments.length >= 2, 60_000);
  });
  after(async () => {
    await watcher?.stop();
    await browser?.close().catch(() => {});
    await new Promise((resolve) => page?.server.close(resolve) ?? resolve(undefined));
    await stack?.stop();
    console.log(`ll-hls e2e wall time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it('plain HLS is served from a stream read every 333 ms; a Low-Latency request makes it read frame by frame', async () => {
    const everyFrame = async () => {
      const text = await (await fetch(`${stack.baseUrl}/metrics`)).text();
      return /^desktop_streamer_media_read_every_frame (\S+)$/m.exec(text)?.[1];
    };
    // Only plain reloads so far (the before hook): the playlist grew with nobody needing each frame.
    assert.equal(await everyFrame(), '0');
    const parsed = parseSnapshot(await (await fetch(playlistUrl)).text());
    const reload = await fetch(`${playlistUrl}?_HLS_msn=${parsed.mediaSequence + parsed.segments.length}`);
    assert.equal(reload.status, 200);
    assert.equal(await everyFrame(), '1');
  });

  it('a blocking request for the hinted part returns that part once it exists', async () => {
    const text = await (await fetch(playlistUrl)).text();
    const hint = parseSnapshot(text).preloadHint;
    assert.ok(hint, `the live playlist has a preload hint:\n${text}`);
    const asked = Date.now();
    const response = await fetch(`${stack.baseUrl}/hls/desktop/${hint.uri}`);
    const waited = Date.now() - asked;
    assert.equal(response.status, 200, `GET ${hint.uri}`);
    assert.equal(response.headers.get('content-type'), 'video/mp2t');
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.ok(bytes.length >= 188 && bytes[0] === 0x47, `an MPEG-TS part (${bytes.length} bytes)`);
    // It is now listed, with the same bytes.
    const after = await (await fetch(playlistUrl)).text();
    assert.ok(after.includes(`URI="${hint.uri}"`), `${hint.uri} listed after it was served:\n${after}`);
    const again = Buffer.from(await (await fetch(`${stack.baseUrl}/hls/desktop/${hint.uri}`)).arrayBuffer());
    assert.ok(again.equals(bytes), 'the same bytes when asked again');
    console.log(`hinted part ${hint.uri}: ${bytes.length} bytes after ${waited} ms`);
  });

  it('_HLS_msn far ahead of the live edge answers 400 at once; a malformed one too', async () => {
    const parsed = parseSnapshot(await (await fetch(playlistUrl)).text());
    const edge = parsed.mediaSequence + parsed.segments.length;
    const asked = Date.now();
    const ahead = await fetch(`${playlistUrl}?_HLS_msn=${edge + 50}`);
    assert.equal(ahead.status, 400);
    assert.ok(Date.now() - asked < 1000, 'without blocking');
    assert.equal((await fetch(`${playlistUrl}?_HLS_msn=${edge + 50}&_HLS_part=0`)).status, 400);
    assert.equal((await fetch(`${playlistUrl}?_HLS_part=1`)).status, 400);
    assert.equal((await fetch(`${playlistUrl}?_HLS_msn=-1`)).status, 400);
  });

  it('plain HLS clients: ffprobe reads the URL (h264 1280x720)', async () => {
    const { stdout } = await execa(
      'ffprobe',
      [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=codec_name,width,height',
        '-of',
        'json',
        playlistUrl,
      ],
      { timeout: 30_000, stdin: 'ignore' },
    );
    const stream = (
      JSON.parse(stdout) as { streams: Array<{ codec_name: string; width: number; height: number }> }
    ).streams[0];
    assert.deepEqual(stream, { codec_name: 'h264', width: 1280, height: 720 });
  });

  it('through kill -9, SIGSTOP and unplug/replug: every playlist snapshot valid, hls.js (low latency) keeps playing, ffmpeg sees monitor 2', {
    timeout: 170_000,
  }, async () => {
    watcher = new BlockingWatcher(playlistUrl);
    watcher.start();
    page = await serveHlsPage(pageHtml(playlistUrl));
    browser = await launchChromium();
    const tab = await browser.newPage({ viewport: { width: 800, height: 480 } });
    await tab.goto(page.url);
    await waitFor('playback to start', async () => (await currentTime(tab)) > 1, 45_000);
    // The player's state every 500 ms, for the record (and to explain a stall).
    const samples: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling && !tab.isClosed()) {
        const state = await tab
          .evaluate(
            "(v => [v.currentTime.toFixed(2), v.buffered.length ? v.buffered.end(v.buffered.length - 1).toFixed(2) : '-', v.readyState, v.paused, window.hls.latency ? window.hls.latency.toFixed(2) : '-'].join(' '))(document.getElementById('video'))",
          )
          .catch((error: unknown) => String(error));
        samples.push(`${new Date().toISOString().slice(11, 23)} ${String(state)}`);
        await sleep(500);
      }
    })();

    const faults: Array<{ name: string; at: number; mediaAt: number; resumedAt: number }> = [];
    const bufferedEnd = async () =>
      Number(
        await tab.evaluate(
          "(v => v.buffered.length ? v.buffered.end(v.buffered.length - 1) : 0)(document.getElementById('video'))",
        ),
      );
    /**
     * Injects a fault, waits until a new pipeline streams again, then until playback is well past
     * everything that was buffered when the fault hit: media loaded after the fault, played.
     */
    const throughFault = async (name: string, inject: () => Promise<void>) => {
      const mediaAt = await currentTime(tab);
      const bufferedAt = await bufferedEnd();
      const target = Math.max(mediaAt + ADVANCE_PAST_FAULT_SECONDS, bufferedAt + 2);
      const at = Date.now();
      const mark = stack.logs.length;
      await inject();
      await waitFor(
        `a new pipeline streaming after ${name}`,
        async () => {
          const started = stack.logs.findLastIndex(
            (r, i) => i >= mark && r.msg === 'pipeline process started',
          );
          return (
            started >= 0 &&
            stack.logs.some((r, i) => i > started && r.msg === 'state' && r.state === 'streaming')
          );
        },
        FAULT_TIMEOUT_MS,
      );
      await waitFor(
        `playback to reach ${target.toFixed(2)} s past ${name} (at ${mediaAt.toFixed(2)} s, buffered to ${bufferedAt.toFixed(2)} s)`,
        async () => (await currentTime(tab)) > target,
        FAULT_TIMEOUT_MS,
      ).catch(async (error: Error) => {
        const errors = (await tab.evaluate('window.hlsErrors')) as HlsErrorRecord[];
        throw new Error(
          `${error.message}; hls.js errors ${JSON.stringify(errors)}; player (time currentTime bufferedEnd readyState paused latency):\n${samples.slice(-60).join('\n')}`,
        );
      });
      faults.push({ name, at, mediaAt, resumedAt: Date.now() });
    };

    // A fault that playback does not survive is reported after everything else is collected.
    let faultFailure: Error | null = null;
    try {
      // 1. kill -9 of the pipeline.
      await throughFault('kill -9 of the pipeline', async () => {
        const pid = stack.pipelinePid();
        assert.ok(pid, 'pipeline pid known');
        const restart = afterNow(stack, (r) => r.msg === 'restarting the pipeline');
        process.kill(pid, 'SIGKILL');
        assert.equal((await stack.waitForLog(restart, FAULT_TIMEOUT_MS)).reason, 'exited');
        await waitFor('a new pipeline', async () => stack.pipelinePid() !== pid, FAULT_TIMEOUT_MS);
      });

      // 2. A hung pipeline (SIGSTOP): detected from the byte stream, killed and replaced.
      let stoppedPid: number | null = null;
      try {
        await throughFault('SIGSTOP of the pipeline', async () => {
          stoppedPid = stack.pipelinePid();
          assert.ok(stoppedPid, 'pipeline pid known');
          const restart = afterNow(stack, (r) => r.msg === 'restarting the pipeline');
          process.kill(stoppedPid, 'SIGSTOP');
          assert.equal((await stack.waitForLog(restart, FAULT_TIMEOUT_MS)).reason, 'stalled');
          await waitFor('a new pipeline', async () => stack.pipelinePid() !== stoppedPid, FAULT_TIMEOUT_MS);
        });
      } finally {
        killQuietly(stoppedPid, 'SIGKILL');
      }

      // 3. The second monitor unplugged (default fallback: the primary), then replugged.
      try {
        /** Resolves once the supervisor restarted the pipeline for a capture change and the new one runs. */
        const recaptured = async (from: number) => {
          let restartAt = -1;
          await waitFor(
            'a pipeline restarted for the capture change',
            async () => {
              restartAt = stack.logs.findIndex(
                (r, i) => i >= from && r.msg === 'restarting the pipeline' && r.reason === 'capture_changed',
              );
              return (
                restartAt >= 0 &&
                stack.logs.some((r, i) => i > restartAt && r.msg === 'pipeline process started')
              );
            },
            FAULT_TIMEOUT_MS,
          );
        };
        await throughFault('unplug of the second monitor', async () => {
          const mark = stack.logs.length;
          const fallback = afterNow(stack, (r) => /only one monitor: streaming the primary/.test(r.msg));
          await stack.rig.unplugSecond();
          await stack.waitForLog(fallback, FAULT_TIMEOUT_MS);
          await recaptured(mark);
        });
        await throughFault('replug of the second monitor', async () => {
          // Marked after the unplug's restart: the next capture change is the replug's.
          const mark = stack.logs.length;
          await stack.rig.replugSecond();
          await recaptured(mark);
        });
      } finally {
        await stack.rig.replugSecond().catch(() => {});
      }
    } catch (error) {
      faultFailure = error as Error;
    }

    // Still playing at the end: 5 s later, at least 3 s more media played.
    const late = await currentTime(tab);
    await sleep(5000);
    const endAdvance = (await currentTime(tab)) - late;
    await watcher.stop();
    sampling = false;
    await sampler;

    // ffmpeg (a plain HLS client) decodes the URL: the blue second monitor again.
    let colour = '';
    await waitFor(
      'ffmpeg to decode the blue second monitor',
      async () => {
        colour = dominant(await meanColour(playlistUrl)).toString();
        return colour === 'blue';
      },
      30_000,
    ).catch(() => {});

    // Report, then judge.
    const snapshots = watcher.snapshots;
    const times = watcher.newMediaTimes();
    for (const fault of faults) {
      console.log(
        `${fault.name}: playing media loaded after it within ${((fault.resumedAt - fault.at) / 1000).toFixed(1)} s; longest wait for new media in the playlist ${(longestGap(times, fault.at, fault.resumedAt) / 1000).toFixed(2)} s`,
      );
    }
    const errors = (await tab.evaluate('window.hlsErrors')) as HlsErrorRecord[];
    const partsLoaded = Number(await tab.evaluate('window.partsLoaded'));
    console.log(
      `${snapshots.length} snapshots, HTTP statuses ${JSON.stringify(Object.fromEntries(watcher.statuses))}, hls.js loaded ${partsLoaded} parts, non-fatal hls.js errors: ${JSON.stringify(errors.filter((e) => !e.fatal))}`,
    );
    const report = validateSnapshots(snapshots.map((s) => s.text));
    if (report.warnings.length > 0)
      console.log(`validator warnings:\n${formatFindings(report.warnings.slice(0, 20))}`);
    // The first snapshot breaking each rule (and the one before it, for the rules across snapshots).
    const firstByRule = new Map<string, number>();
    for (const v of report.violations) if (!firstByRule.has(v.rule)) firstByRule.set(v.rule, v.snapshot);
    const shown = [...new Set(firstByRule.values())].sort((a, b) => a - b);
    const evidence = shown
      .map((i) =>
        [
          i > 0 ? `--- snapshot ${i - 1} (${snapshots[i - 1]!.query})\n${snapshots[i - 1]!.text}` : '',
          `--- snapshot ${i} (${snapshots[i]!.query})\n${snapshots[i]!.text}`,
        ].join(''),
      )
      .join('');
    const byRule = new Map<string, number>();
    for (const v of report.violations) byRule.set(v.rule, (byRule.get(v.rule) ?? 0) + 1);

    console.log(
      `validator: ${report.violations.length} violations ${JSON.stringify(Object.fromEntries(byRule))}, ${report.warnings.length} warnings`,
    );
    const clock = (ms: number) => new Date(ms).toISOString().slice(11, 23);
    const edges: string[] = [];
    let lastEdge = '';
    for (const snapshot of snapshots) {
      const parsed = parseSnapshot(snapshot.text);
      const edge = parsed.open
        ? `open ${parsed.open.msn} parts ${parsed.open.parts.length}${parsed.open.discontinuity ? ' (discontinuity)' : ''}`
        : `complete ${parsed.mediaSequence + parsed.segments.length - 1}`;
      const line = `${edge}, hint ${parsed.preloadHint?.uri ?? 'none'}`;
      if (line !== lastEdge) edges.push(`${clock(snapshot.at)} ${line}`);
      lastEdge = line;
    }
    const supervisorLines = stack.logs
      .filter((r) => /pipeline|state|restart|monitor|stall|run/.test(r.msg))
      .map(
        (r) =>
          `${clock(Number(r.time))} ${r.msg} ${JSON.stringify({ reason: r.reason, state: r.state, pid: r.pid })}`,
      );
    const diagnostics = await mkdtemp(join(tmpdir(), 'ds-ll-hls-e2e-'));
    await writeFile(
      join(diagnostics, 'timeline.txt'),
      [
        ...faults.map(
          (f) =>
            `${clock(f.at)} FAULT ${f.name} (media ${f.mediaAt.toFixed(2)} s), playback +3 s at ${clock(f.resumedAt)}`,
        ),
        '--- player (time currentTime bufferedEnd readyState paused latency)',
        ...samples,
        '--- playlist live edge as the blocking watcher saw it',
        ...edges,
        '--- supervisor',
        ...supervisorLines,
        '--- hls.js errors',
        JSON.stringify(errors),
      ].join('\n'),
    );
    await writeFile(join(diagnostics, 'snapshots.json'), JSON.stringify(snapshots));
    console.log(`diagnostics: ${diagnostics}/timeline.txt, snapshots.json`);
    const fatal = errors.filter((e) => e.fatal);
    for (const e of errors.filter((e) => e.reason))
      console.log(`hls.js ${e.details} at ${e.wall}: ${e.reason}`);
    if (report.violations.length > 0)
      console.log(`validator violations:\n${summarizeFindings(report.violations)}`);

    // A blocking reload answers only once the playlist holds what was asked (RFC 8216bis §6.2.5.2).
    const premature = snapshots.filter((snapshot) => {
      const asked = /_HLS_msn=(\d+)&_HLS_part=(\d+)/.exec(snapshot.query);
      if (!asked) return false;
      const [msn, part] = [Number(asked[1]), Number(asked[2])];
      const parsed = parseSnapshot(snapshot.text);
      const lastComplete = parsed.mediaSequence + parsed.segments.length - 1;
      const holds =
        lastComplete >= msn ||
        (parsed.open !== null &&
          (parsed.open.msn > msn || (parsed.open.msn === msn && parsed.open.parts.length > part)));
      return !holds;
    });

    // Every problem at once: one fault can hide another.
    const problems: string[] = [];
    const check = (ok: boolean, problem: string) => {
      if (!ok) problems.push(problem);
    };
    check(
      fatal.length === 0,
      `fatal hls.js errors: ${JSON.stringify(fatal.map(({ reason, ...rest }) => ({ ...rest, reason: reason?.split('\n')[0] })))}`,
    );
    check(faultFailure === null, `playback did not survive a fault: ${faultFailure?.message.split('\n')[0]}`);
    check(endAdvance > 3, `still playing at the end: +${endAdvance.toFixed(2)} s of media in 5 s`);
    // The validation means something only if the watcher followed the live edge part by part
    // (about 5 answers a second) all along, faults included: at least 2 a second, and during every fault.
    const watchedSeconds = snapshots.length > 0 ? (snapshots.at(-1)!.at - snapshots[0]!.at) / 1000 : 0;
    const unwatched = faults.filter((f) => !snapshots.some((s) => s.at >= f.at && s.at <= f.resumedAt));
    check(
      snapshots.length > 0 && snapshots.length >= 2 * watchedSeconds && unwatched.length === 0,
      `the watcher followed the live edge: ${snapshots.length} snapshots in ${watchedSeconds.toFixed(1)} s${unwatched.length > 0 ? `, none during ${unwatched.map((f) => f.name).join(', ')}` : ''}`,
    );
    check(
      premature.length === 0,
      `blocking reloads answered before the asked part was listed: ${premature
        .slice(0, 3)
        .map((p) => `${p.query}\n${p.text}`)
        .join('\n')}`,
    );
    check(watcher.errors.length === 0, `reloads not answered 200 or 503: ${watcher.errors.join('; ')}`);
    check(colour === 'blue', `ffmpeg decodes the second (blue) monitor from the URL, saw ${colour}`);
    check(partsLoaded > 0, 'hls.js really loaded parts (low-latency mode)');
    check(
      report.violations.length === 0,
      `RFC 8216/8216bis violations:\n${summarizeFindings(report.violations)}\n${evidence}`,
    );
    if (problems.length > 0) assert.fail(problems.join('\n\n'));
  });
});
