/**
 * Self-healing against REAL faults: the real supervisor (`desktop-streamer run`) drives the real
 * gst-launch-1.0 on the virtual two-monitor rig (first monitor red, second blue), and each test
 * breaks something for real — a SIGSTOPped pipeline, a GStreamer plugin that vanished, an
 * unplugged monitor, a killed X server, a deleted or nearly full output directory, a SIGKILLed
 * supervisor — then checks what players and operators see.
 *
 * Run alone (2 shared cores): node --import tsx --test test/e2e/faults.e2e.ts
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, statfs, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ColourName, dominant, meanColour } from '../helpers/frames.ts';
import { type Rig, startRig } from '../helpers/rig.ts';
import {
  type LogRecord,
  parsePlaylist,
  playlistEntries,
  type Stack,
  type StackOptions,
  startStack,
} from '../helpers/stack.ts';

const TEST_TIMEOUT_MS = 240_000;

/** The system's GStreamer plugin directory (multiarch path differs per architecture). */
function gstPluginDir(): string {
  const info = execFileSync('gst-inspect-1.0', ['coreelements'], { encoding: 'utf8' });
  const file = /^\s*Filename\s+(\S+)$/m.exec(info)?.[1];
  if (!file) throw new Error(`gst-inspect-1.0 coreelements names no plugin file:\n${info}`);
  return dirname(file);
}

function lastSequenceOf(text: string): number {
  return playlistEntries(text).at(-1)?.sequence ?? -1;
}

/** A predicate matching only log records written after this call. */
function afterNow(stack: Stack, predicate: (record: LogRecord) => boolean): (record: LogRecord) => boolean {
  const mark = stack.logs.length;
  return (record) => stack.logs.indexOf(record) >= mark && predicate(record);
}

async function currentPlaylist(stack: Stack): Promise<string> {
  return stack.waitForPlaylist(() => true);
}

/**
 * Decodes each segment newer than `afterSequence`, in order, until one passes `test`.
 * Returns its sequence and every colour seen on the way.
 */
async function waitForPicture(
  stack: Stack,
  afterSequence: number,
  test: (colour: ColourName) => boolean,
  timeoutMs = 90_000,
): Promise<{ sequence: number; seen: string[] }> {
  const deadline = Date.now() + timeoutMs;
  const seen: string[] = [];
  let checked = afterSequence;
  while (Date.now() < deadline) {
    for (const entry of playlistEntries(await currentPlaylist(stack))) {
      if (entry.sequence <= checked) continue;
      checked = entry.sequence;
      const colour = dominant(await meanColour(`${stack.baseUrl}/hls/desktop/${entry.uri}`));
      seen.push(`${entry.sequence}:${colour}`);
      if (test(colour)) return { sequence: entry.sequence, seen };
    }
    await sleep(250);
  }
  throw new Error(`no matching picture within ${timeoutMs} ms; segments seen: ${seen.join(' ') || 'none'}`);
}

async function detailedState(stack: Stack): Promise<string> {
  const response = await fetch(`${stack.baseUrl}/api/health/detailed`);
  assert.equal(response.status, 200);
  const body = (await response.json()) as { supervisor: { state: string } };
  return body.supervisor.state;
}

/** Alive and not a zombie. */
function processRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(100);
  }
}

function killQuietly(pid: number | null, signal: NodeJS.Signals): void {
  if (pid === null) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

async function streamingStack(rig: Rig, options: Omit<StackOptions, 'rig'> = {}): Promise<Stack> {
  const stack = await startStack({ ...options, rig });
  try {
    await stack.waitForPlaylist((t) => parsePlaylist(t).segments.length >= 2, 90_000);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}

/** Waits for the playlist to list a segment newer than `lastBefore` that starts a new run (discontinuity). */
async function waitForNewRun(stack: Stack, lastBefore: number, timeoutMs = 90_000): Promise<string> {
  return stack.waitForPlaylist(
    (t) => playlistEntries(t).some((e) => e.sequence > lastBefore && e.discontinuity),
    timeoutMs,
  );
}

describe('self-healing against real faults on the two-monitor rig', () => {
  let rig: Rig;

  before(async () => {
    rig = await startRig();
  });
  after(async () => {
    await rig?.stop();
  });

  it('a hung pipeline (SIGSTOP, never resumed) is detected as stalled, killed and replaced', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const stack = await streamingStack(rig);
    let stoppedPid: number | null = null;
    try {
      const before = await stack.waitForPlaylist((t) => parsePlaylist(t).segments.length >= 2);
      const lastBefore = lastSequenceOf(before);
      stoppedPid = stack.pipelinePid();
      assert.ok(stoppedPid, 'pipeline pid known');
      process.kill(stoppedPid, 'SIGSTOP');

      const restart = await stack.waitForLog(
        afterNow(stack, (r) => r.msg === 'restarting the pipeline'),
        60_000,
      );
      assert.equal(restart.reason, 'stalled', JSON.stringify(restart));
      const text = await waitForNewRun(stack, lastBefore);
      const after = parsePlaylist(text);
      assert.ok(after.mediaSequence >= parsePlaylist(before).mediaSequence, 'media sequence never goes back');
      assert.ok(lastSequenceOf(text) > lastBefore, 'the sequence continues past the hung run');
      assert.doesNotMatch(text, /#EXT-X-ENDLIST/);
      assert.notEqual(stack.pipelinePid(), stoppedPid, 'a new pipeline process runs');
      await waitUntil(
        () => !processRunning(stoppedPid!),
        10_000,
        `the stopped pipeline ${stoppedPid} to be killed`,
      );
    } finally {
      killQuietly(stoppedPid, 'SIGKILL');
      await stack.stop();
    }
  });

  it('a pipeline that fails on every start (its encoder plugin vanished) ends in the failed state; the API still answers; POST /api/stream/start recovers', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    // GStreamer reads its plugins from a directory of links to the system's plugins; removing the
    // x264 link is what a half-finished package upgrade does: every gst-launch-1.0 from then on
    // exits with 'no element "x264enc"' (capture and slate alike).
    const gst = await mkdtemp(join(tmpdir(), 'ds-faults-gst-'));
    const plugins = join(gst, 'plugins');
    await mkdir(plugins);
    await mkdir(join(gst, 'no-extra-plugins'));
    const systemPlugins = gstPluginDir();
    for (const name of await readdir(systemPlugins)) {
      if (name.endsWith('.so')) await symlink(join(systemPlugins, name), join(plugins, name));
    }
    const stack = await streamingStack(rig, {
      config: { max_restarts: 3, restart_delay: 1 },
      env: {
        GST_PLUGIN_SYSTEM_PATH_1_0: plugins,
        GST_PLUGIN_PATH_1_0: join(gst, 'no-extra-plugins'),
        GST_REGISTRY_1_0: join(gst, 'registry.bin'),
        DESKTOP_STREAMER_API_TOKEN: 'faults-token',
      },
    });
    try {
      await rm(join(plugins, 'libgstx264.so'));
      const pid = stack.pipelinePid();
      assert.ok(pid, 'pipeline pid known');
      process.kill(pid, 'SIGKILL');

      await stack.waitForLog(
        afterNow(stack, (r) => r.msg.startsWith('too many restarts')),
        90_000,
      );
      const restarts = stack.logs.filter((r) => r.msg === 'restarting the pipeline');
      assert.ok(restarts.length >= 4, `4 restarts before giving up, saw ${restarts.length}`);
      assert.ok(
        restarts.slice(1).every((r) => r.reason === 'exited' && /status 1/.test(String(r.detail))),
        `the later restarts are gst-launch-1.0 exiting with status 1: ${JSON.stringify(restarts)}`,
      );
      assert.equal(await detailedState(stack), 'failed');
      const metrics = await (await fetch(`${stack.baseUrl}/metrics`)).text();
      assert.match(metrics, /^desktop_streamer_pipeline_failed(\{[^}]*\})? 1$/m);
      assert.match(metrics, /^desktop_streamer_pipeline_state\{[^}]*state="failed"[^}]*\} 1$/m);
      assert.equal((await fetch(`${stack.baseUrl}/api/health`)).status, 503, 'failed is unhealthy');
      assert.equal((await fetch(`${stack.baseUrl}/api/status`)).status, 200, 'the API still answers');
      assert.equal(stack.process.exitCode, null, 'the supervisor keeps running');
      // Failed means failed: no more pipelines are started.
      const started = stack.logs.filter((r) => r.msg === 'pipeline process started').length;
      await sleep(4000);
      assert.equal(stack.logs.filter((r) => r.msg === 'pipeline process started').length, started);
      assert.equal(await detailedState(stack), 'failed');

      // Once the plugin is back, the operator's POST /api/stream/start streams again.
      const lastBefore = lastSequenceOf(await currentPlaylist(stack));
      await symlink(join(systemPlugins, 'libgstx264.so'), join(plugins, 'libgstx264.so'));
      const response = await fetch(`${stack.baseUrl}/api/stream/start`, {
        method: 'POST',
        headers: { authorization: 'Bearer faults-token' },
      });
      assert.equal(response.status, 200, await response.text());
      await waitForNewRun(stack, lastBefore);
      assert.equal(await detailedState(stack), 'streaming');
      assert.match(
        await (await fetch(`${stack.baseUrl}/metrics`)).text(),
        /^desktop_streamer_pipeline_failed(\{[^}]*\})? 0$/m,
      );
    } finally {
      await stack.stop();
      await rm(gst, { recursive: true, force: true });
    }
  });

  it('second monitor unplugged without fallback: the playlist stays live with the "no signal" slate, replug brings the picture back', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const stack = await streamingStack(rig, { config: { single_monitor_fallback: false } });
    try {
      assert.equal(dominant(await meanColour(`${stack.baseUrl}/hls/desktop/playlist.m3u8`)), 'blue');
      const lastBefore = lastSequenceOf(await stack.waitForPlaylist(() => true));

      await rig.unplugSecond();
      await stack.waitForLog(
        afterNow(stack, (r) => r.msg === 'state' && r.state === 'no_signal'),
        60_000,
      );
      // Everything listed after the state change belongs to the slate run.
      const slateMark = lastSequenceOf(await currentPlaylist(stack));
      const slate = await waitForPicture(stack, slateMark, () => true);
      assert.ok(!/:(blue|red)$/.test(slate.seen[0]!), `the slate shows no monitor: ${slate.seen}`);
      // The playlist stays live: more slate segments keep coming after the first.
      await stack.waitForPlaylist((t) => lastSequenceOf(t) >= slate.sequence + 2, 60_000);
      const text = await stack.waitForPlaylist(() => true);
      assert.doesNotMatch(text, /#EXT-X-ENDLIST/);
      assert.ok(
        playlistEntries(text).some((e) => e.sequence > lastBefore && e.discontinuity),
        'the slate run starts with a discontinuity',
      );
      assert.equal(await detailedState(stack), 'no_signal');

      const replugMark = lastSequenceOf(await currentPlaylist(stack));
      await rig.replugSecond();
      const back = await waitForPicture(stack, replugMark, (c) => c === 'blue');
      assert.ok(back.sequence > slate.sequence);
      assert.equal(await detailedState(stack), 'streaming');
    } finally {
      await rig.replugSecond().catch(() => {});
      await stack.stop();
    }
  });

  it('second monitor unplugged with the default fallback: streams the primary (red) with a warning, replug → blue', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const stack = await streamingStack(rig);
    try {
      const mark = lastSequenceOf(await currentPlaylist(stack));
      await rig.unplugSecond();
      await stack.waitForLog(
        afterNow(stack, (r) => r.level === 40 && /only one monitor: streaming the primary/.test(r.msg)),
        60_000,
      );
      const red = await waitForPicture(stack, mark, (c) => c === 'red');
      assert.equal(await detailedState(stack), 'streaming');

      const replugMark = lastSequenceOf(await currentPlaylist(stack));
      await rig.replugSecond();
      const blue = await waitForPicture(stack, replugMark, (c) => c === 'blue');
      assert.ok(blue.sequence > red.sequence);
    } finally {
      await rig.replugSecond().catch(() => {});
      await stack.stop();
    }
  });

  it('X server killed and restarted: slate meanwhile, the picture again once it is back', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const stack = await streamingStack(rig);
    try {
      const mark = stack.logs.length;
      await rig.killXServer();
      await stack.waitForLog(
        afterNow(stack, (r) => r.msg === 'state' && r.state === 'no_signal'),
        60_000,
      );
      // Everything listed after the state change belongs to the slate run.
      const slateMark = lastSequenceOf(await currentPlaylist(stack));
      const slate = await waitForPicture(stack, slateMark, () => true);
      assert.ok(!/:(blue|red)$/.test(slate.seen[0]!), `the slate shows no monitor: ${slate.seen}`);
      assert.equal(await detailedState(stack), 'no_signal');
      const restart = stack.logs.slice(mark).find((r) => r.msg === 'restarting the pipeline');
      assert.ok(restart, 'the pipeline that lost its X server was restarted');

      const backMark = lastSequenceOf(await currentPlaylist(stack));
      await rig.restartXServer();
      const back = await waitForPicture(stack, backMark, (c) => c === 'blue');
      assert.ok(back.sequence > slate.sequence);
      assert.equal(stack.process.exitCode, null, 'the supervisor survived');
    } finally {
      await rig.restartXServer().catch(() => {});
      await stack.stop();
    }
  });

  it('X server hung (SIGSTOP of Xorg): the stuck pipeline is replaced by the slate, the picture returns on SIGCONT', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const stack = await streamingStack(rig);
    const xorg = Number(readFileSync(`/tmp/desktop-streamer-rig-${rig.display.slice(1)}/xorg.pid`, 'utf8'));
    try {
      const mark = stack.logs.length;
      process.kill(xorg, 'SIGSTOP');
      // ximagesrc blocks in Xlib and gst-launch-1.0 hangs. Whichever notices first restarts it: the
      // monitor poll (xrandr times out → capture lost) or the stall detection (no frame for 1.5 s,
      // before the in-pipeline watchdog's 4 s). The next plan → slate.
      await stack.waitForLog(
        afterNow(stack, (r) => r.msg === 'state' && r.state === 'no_signal'),
        90_000,
      );
      const logged = stack.logs.slice(mark);
      const restart = logged.find((r) => r.msg === 'restarting the pipeline');
      assert.ok(['stalled', 'capture_changed'].includes(String(restart?.reason)), JSON.stringify(restart));
      if (restart?.reason === 'stalled') {
        assert.match(String(restart?.detail), /^no media for \d+\.\d s \(limit 1\.5 s\)$/);
      } else {
        assert.match(String(restart?.detail), /^capture lost: /);
      }
      const slateMark = lastSequenceOf(await currentPlaylist(stack));
      const slate = await waitForPicture(stack, slateMark, () => true);
      assert.ok(!/:(blue|red)$/.test(slate.seen[0]!), `the slate shows no monitor: ${slate.seen}`);
      assert.equal(await detailedState(stack), 'no_signal');

      const backMark = lastSequenceOf(await currentPlaylist(stack));
      process.kill(xorg, 'SIGCONT');
      const back = await waitForPicture(stack, backMark, (c) => c === 'blue');
      assert.ok(back.sequence > slate.sequence);
    } finally {
      killQuietly(xorg, 'SIGCONT');
      await stack.stop();
    }
  });

  it('HLS output dir deleted while streaming: recreated, the stream continues, the supervisor survives', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const stack = await streamingStack(rig);
    try {
      const before = await stack.waitForPlaylist((t) => parsePlaylist(t).segments.length >= 2);
      const lastBefore = lastSequenceOf(before);
      await rm(stack.outputDir, { recursive: true, force: true });

      const text = await stack.waitForPlaylist((t) => lastSequenceOf(t) >= lastBefore + 3, 90_000);
      assert.ok(parsePlaylist(text).mediaSequence >= parsePlaylist(before).mediaSequence);
      assert.doesNotMatch(text, /#EXT-X-ENDLIST/);
      // Every listed segment is downloadable again, and the files are back on disk.
      for (const uri of parsePlaylist(text).segments.slice(-2)) {
        const response = await fetch(`${stack.baseUrl}/hls/desktop/${uri}`);
        assert.equal(response.status, 200, uri);
        await response.arrayBuffer();
      }
      await waitUntil(
        () => existsSync(join(stack.outputDir, 'desktop', 'playlist.m3u8')),
        15_000,
        'the public playlist to be written again',
      );
      const onDisk = await readFile(join(stack.outputDir, 'desktop', 'playlist.m3u8'), 'utf8');
      assert.ok(lastSequenceOf(onDisk) > lastBefore);
      const fresh = await waitForPicture(stack, lastBefore, (c) => c === 'blue');
      assert.ok(fresh.sequence > lastBefore);
      assert.equal(stack.process.exitCode, null, 'the supervisor survived');
      assert.ok(!stack.logs.some((r) => r.level >= 60), 'no fatal log line');
    } finally {
      await stack.stop();
    }
  });

  it('output filesystem read-only for a while (as after I/O errors on flash): viewers keep watching from memory, the files catch up once writable', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const stack = await streamingStack(rig);
    let readOnly = false;
    try {
      const lastBefore = lastSequenceOf(await currentPlaylist(stack));
      // A read-only bind mount over the output dir: every new open/mkdir there fails with EROFS.
      execFileSync('mount', ['--bind', stack.outputDir, stack.outputDir]);
      readOnly = true;
      execFileSync('mount', ['-o', 'remount,bind,ro', stack.outputDir]);
      const writeFailed = (r: LogRecord) => r.level === 50 && /publishing media failed/.test(String(r.msg));
      await stack.waitForLog(afterNow(stack, writeFailed), 30_000);
      // Still streaming the blue monitor, with no restart: segments are served from memory.
      const during = await waitForPicture(stack, lastBefore, (c) => c === 'blue');
      const onDiskDuring = await readFile(join(stack.outputDir, 'desktop', 'playlist.m3u8'), 'utf8');
      assert.ok(during.sequence > lastSequenceOf(onDiskDuring), 'served newer than the file on disk says');
      assert.equal(await detailedState(stack), 'streaming');
      assert.ok(!stack.logs.some((r) => r.msg === 'restarting the pipeline'), 'a restart would not help');

      execFileSync('umount', [stack.outputDir]);
      readOnly = false;
      const served = lastSequenceOf(await currentPlaylist(stack));
      await waitUntil(
        async () =>
          lastSequenceOf(await readFile(join(stack.outputDir, 'desktop', 'playlist.m3u8'), 'utf8')) >= served,
        30_000,
        'the playlist file on disk to catch up',
      );
      const onDisk = await readFile(join(stack.outputDir, 'desktop', 'playlist.m3u8'), 'utf8');
      for (const entry of playlistEntries(onDisk)) {
        assert.ok(existsSync(join(stack.outputDir, 'desktop', entry.uri)), `${entry.uri} written`);
      }
      assert.equal(stack.process.exitCode, null, 'the supervisor survived');
    } finally {
      if (readOnly) execFileSync('umount', [stack.outputDir]);
      await stack.stop();
    }
  });

  it('disk filling: above the emergency threshold only emergency_segments are listed, foreign files survive, the stream goes on', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const outputDir = await mkdtemp(join(tmpdir(), 'ds-faults-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', outputDir]);
    let stack: Stack | null = null;
    try {
      // Files that are not ours, one of them named almost like our segments.
      await mkdir(join(outputDir, 'desktop'));
      const foreign = [join(outputDir, 'keep-me.txt'), join(outputDir, 'desktop', 'seg-00000001.ts')];
      for (const file of foreign) await writeFile(file, `not the streamer's: ${file}\n`);
      // Fill to 88 %: above emergency_cleanup_threshold_percent (85) but below critical (98).
      const fs = await statfs(outputDir);
      const total = fs.blocks * fs.bsize;
      const used = (fs.blocks - fs.bfree) * fs.bsize;
      await writeFile(join(outputDir, 'filler.bin'), Buffer.alloc(Math.floor(total * 0.88) - used, 1));

      // An output dir holding files that are not ours is refused unless it carries our marker.
      await writeFile(join(outputDir, '.desktop-streamer'), '');
      stack = await startStack({ rig, outputDir });
      await stack.waitForLog((r) => r.msg === 'HLS output disk pressure is now emergency', 60_000);
      const first = await stack.waitForPlaylist((t) => parsePlaylist(t).segments.length >= 1, 90_000);
      // Over several new segments, the playlist never lists more than emergency_segments.
      let text = first;
      const target = lastSequenceOf(first) + 4;
      while (lastSequenceOf(text) < target) {
        text = await stack.waitForPlaylist((t) => t !== text, 30_000);
        assert.ok(parsePlaylist(text).segments.length <= 2, `at most 2 segments listed:\n${text}`);
      }
      assert.doesNotMatch(text, /#EXT-X-ENDLIST/);
      for (const file of foreign) assert.equal(readFileSync(file, 'utf8'), `not the streamer's: ${file}\n`);
      assert.equal(stack.process.exitCode, null, 'the supervisor keeps running');

      // Pressure gone → the full window again.
      await rm(join(outputDir, 'filler.bin'));
      await stack.waitForPlaylist((t) => parsePlaylist(t).segments.length >= 4, 90_000);
      for (const file of foreign) assert.ok(existsSync(file), `${file} survived`);
    } finally {
      await stack?.stop();
      execFileSync('umount', [outputDir]);
      await rm(outputDir, { recursive: true, force: true });
    }
  });

  it('supervisor SIGKILLed with a hung pipeline: the next one stops the orphaned pipeline and continues the playlist with a discontinuity', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const outputDir = join(await mkdtemp(join(tmpdir(), 'ds-faults-restart-')), 'hls');
    const first = await streamingStack(rig, { outputDir });
    let orphan: number | null = null;
    let second: Stack | null = null;
    try {
      const before = await first.waitForPlaylist((t) => parsePlaylist(t).segments.length >= 2);
      const lastBefore = lastSequenceOf(before);
      orphan = first.pipelinePid();
      assert.ok(orphan, 'pipeline pid known');
      // A running orphan dies of SIGPIPE at its next bus message once nobody reads its stdout; a
      // hung one (SIGSTOP here) stays forever, holding the work dir: that is what the pid file is for.
      process.kill(orphan, 'SIGSTOP');
      first.process.kill('SIGKILL');
      await new Promise((resolve) => first.process.once('exit', resolve));
      assert.ok(processRunning(orphan), 'the pipeline outlived its supervisor (own process group)');

      second = await startStack({ rig, outputDir });
      const stopped = await second.waitForLog(
        (r) => r.msg === 'stopping a pipeline left behind by an earlier supervisor',
        30_000,
      );
      assert.equal(stopped.pid, orphan);
      await waitUntil(() => !processRunning(orphan!), 10_000, `orphan ${orphan} to be gone`);
      const text = await waitForNewRun(second, lastBefore);
      assert.ok(parsePlaylist(text).mediaSequence >= parsePlaylist(before).mediaSequence);
      assert.ok(lastSequenceOf(text) > lastBefore);
      assert.notEqual(second.pipelinePid(), orphan);
    } finally {
      killQuietly(orphan, 'SIGKILL');
      await second?.stop();
      await first.stop();
      await rm(join(outputDir, '..'), { recursive: true, force: true });
    }
  });
});
