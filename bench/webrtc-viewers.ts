/**
 * N concurrent WebRTC (WHEP) viewers on loopback against the real supervisor (`desktop-streamer
 * run` on the rig, default config: x264, 15 fps; static scene: the blue second monitor with its
 * clock, or --scene busy: ffplay's moving test pattern over it), in rounds: one supervisor, one
 * round per entry of --viewers (default 0,1,5,10,20,0,20; 0 = the baseline: the same supervisor
 * with no WebRTC viewer), so supervisor CPU per viewer = (CPU at N − CPU at 0) / N, RSS likewise.
 *
 * The viewers are node-datachannel PeerConnections (lib/whep-client.ts: recvonly H.264, RTP
 * packets counted, no decoding), all in ONE client process of their own, so their CPU is not the
 * supervisor's. Per round: the client connects N viewers (joins 50 ms apart), waits --settle s
 * (the cached GOP each viewer gets at once is over), then the measuring window of --seconds
 * starts; at its end every session is DELETEd. Measured over the window: the supervisor's CPU
 * (/proc utime + stime, all its threads: libdatachannel's included), its RSS every second, its
 * gst child's CPU, per viewer frames/s, lost packets, the longest interval between frames
 * (a stall: > 1 s), bytes; the supervisor's CPU while the viewers connected (DTLS handshakes);
 * the load average and how busy the machine was.
 *
 *   node --import tsx bench/webrtc-viewers.ts [--viewers 0,1,5,10,20,0,20] [--seconds 60] [--settle 3]
 *                                             [--warmup 10] [--scene static|busy] [--repo DIR | --source]
 *                                             [--nice N]
 *
 * By default the built supervisor is run (as its systemd unit does): `npm run build` first, or
 * --repo DIR (a built copy; recipe in bench/README.md), or --source to run the TypeScript under tsx.
 * --warmup S: one viewer for S seconds before the rounds, not counted (libdatachannel's threads
 * and the first DTLS context start on first use: a one-time cost, not a per-viewer one).
 * Output: a Markdown table on stdout, bench/results/webrtc-viewers-<timestamp>.jsonl.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startStack } from '../test/helpers/stack.ts';
import { startBusyScene } from './lib/capture.ts';
import { endGracefully, type Spawned } from './lib/children.ts';
import { cpuSecondsOf, loadAverage, machineBusySeconds, setNiceTree, tryReadProc } from './lib/proc.ts';
import { writeResults } from './lib/results.ts';
import { MiB, median, percentile, round } from './lib/stats.ts';
import { openWhepViewer, type WhepViewer, type WhepViewerCounters } from './lib/whep-client.ts';

const { values: args } = parseArgs({
  options: {
    viewers: { type: 'string', default: '0,1,5,10,20,0,20' },
    seconds: { type: 'string', default: '60' },
    settle: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '10' },
    scene: { type: 'string', default: 'static' },
    source: { type: 'boolean', default: false },
    repo: { type: 'string' },
    nice: { type: 'string' },
    // internal: run as the client process
    client: { type: 'string' },
    'base-url': { type: 'string' },
  },
});
const ROUNDS = args.viewers.split(',').map(Number);
const SECONDS = Number(args.seconds);
const SETTLE = Number(args.settle);
const WARMUP = Number(args.warmup);
for (const n of ROUNDS) {
  if (!(Number.isInteger(n) && n >= 0 && n <= 200))
    throw new RangeError(`--viewers must be integers 0..200 separated by commas, got ${args.viewers}`);
}
if (!(SECONDS > 0 && SECONDS <= 600)) throw new RangeError(`--seconds must be 1..600, got ${SECONDS}`);
if (!(SETTLE >= 0 && SETTLE <= 60)) throw new RangeError(`--settle must be 0..60, got ${SETTLE}`);
if (!(WARMUP >= 0 && WARMUP <= 600)) throw new RangeError(`--warmup must be 0..600, got ${WARMUP}`);
if (args.scene !== 'static' && args.scene !== 'busy')
  throw new RangeError(`--scene must be static or busy, got ${args.scene}`);
/** A frame interval longer than this while the stream runs is a stall. */
const STALL_MS = 1000;
const JOIN_SPREAD_MS = 50;
const RTP_CLOCK_HZ = 90_000;

const say = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

/** The client process: N viewers, the window, the teardown; one JSON line per step on stdout. */
async function client(count: number, baseUrl: string): Promise<void> {
  const cpu0 = process.cpuUsage();
  const failures: string[] = [];
  const opened = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      await sleep(i * JOIN_SPREAD_MS);
      // A failed join is counted (failures) and tried again, up to 3 times, so the round still has N viewers.
      for (let attempt = 1; attempt <= 3; attempt++) {
        try {
          return await openWhepViewer({ baseUrl, name: `viewer-${i}-${attempt}` });
        } catch (error) {
          failures.push(`viewer ${i}, attempt ${attempt}: ${(error as Error).message}`);
          await sleep(500);
        }
      }
      return null;
    }),
  );
  const viewers = opened.filter((v): v is WhepViewer => v !== null);
  say({ event: 'connected', viewers: viewers.length, failures });
  await sleep(SETTLE * 1000);
  for (const v of viewers) v.resetLongestGap();
  const start = viewers.map((v) => v.snapshot());
  const cpuStart = process.cpuUsage();
  // This process's own event loop: a late callback here would look like a gap in every viewer.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const t0 = performance.now();
  say({ event: 'start' });
  await sleep(SECONDS * 1000);
  const end = viewers.map((v) => v.snapshot());
  const wall = (performance.now() - t0) / 1000;
  const cpuWindow = process.cpuUsage(cpuStart);
  const endAt = performance.now();
  say({ event: 'end', at: performance.timeOrigin + endAt });
  // The interval between frames that spans the window's end is measured once it closes (up to
  // 2 s later); the frames around the end (viewer 0): arrival relative to the end, RTP step, ms.
  await sleep(2000);
  loopDelay.disable();
  const acrossEnd = viewers.map((v) => {
    const frames = v.recentFrames();
    const after = frames.findIndex(([at]) => at > endAt);
    const before = after === -1 ? frames.at(-1) : frames[after - 1];
    if (!before) return { ms: Number.NaN, rtpMs: null };
    if (after === -1) return { ms: performance.now() - before[0], rtpMs: null }; // still open
    const [at, ts] = frames[after] as [number, number];
    return { ms: at - before[0], rtpMs: ((ts - before[1] + 2 ** 32) % 2 ** 32) / 90 };
  });
  const framesAroundEnd = (viewers[0]?.recentFrames() ?? [])
    .filter(([at]) => at > endAt - 2000)
    .map(([at, ts], i, all) => [
      round(at - endAt, 1),
      i === 0 ? null : round(((ts - all[i - 1]![1] + 2 ** 32) % 2 ** 32) / 90, 1),
    ]);
  const perViewer = viewers.map((v, i) => {
    const a = start[i] as WhepViewerCounters;
    const b = end[i] as WhepViewerCounters;
    const frames = b.frames - a.frames;
    const across = acrossEnd[i] as { ms: number; rtpMs: number | null };
    const endWins = across.ms > b.longestFrameGapMs;
    return {
      answer_ms: round(v.answerMs, 1),
      connected_ms: v.connectedMs === null ? null : round(v.connectedMs, 1),
      first_packet_ms: v.firstPacketMs === null ? null : round(v.firstPacketMs, 1),
      frames,
      fps: round(frames / wall, 2),
      /** Media time the frames of the window cover, over the window's wall time (≈ 1). */
      media_to_wall: round((b.rtpTicks - a.rtpTicks) / RTP_CLOCK_HZ / wall, 3),
      packets: b.packets - a.packets,
      bytes: b.bytes - a.bytes,
      lost: b.lost - a.lost,
      late: b.late - a.late,
      rtcp_in: b.rtcp - a.rtcp,
      /** Longest interval between two frames in the window, the one spanning its end included. */
      longest_frame_gap_ms: round(endWins ? across.ms : b.longestFrameGapMs, 1),
      longest_frame_gap_rtp_ms: (() => {
        const rtpMs = endWins ? across.rtpMs : b.longestFrameGapRtpMs;
        return rtpMs === null ? null : round(rtpMs, 1);
      })(),
      longest_frame_gap_spans_end: endWins,
      rtt_ms: v.rttMs(),
      states: v.states,
    };
  });
  const deleteStatuses = await Promise.all(viewers.map((v) => v.close()));
  const cpu = process.cpuUsage(cpu0);
  const gaps = perViewer.map((v) => v.longest_frame_gap_ms);
  const fps = perViewer.map((v) => v.fps);
  const connected = perViewer.flatMap((v) => (v.connected_ms === null ? [] : [v.connected_ms]));
  const firstPacket = perViewer.flatMap((v) => (v.first_packet_ms === null ? [] : [v.first_packet_ms]));
  say({
    event: 'result',
    viewers: count,
    opened: viewers.length,
    failures,
    window_s: round(wall, 2),
    fps_min: fps.length ? Math.min(...fps) : null,
    fps_median: fps.length ? median(fps) : null,
    fps_max: fps.length ? Math.max(...fps) : null,
    media_to_wall_median: perViewer.length ? median(perViewer.map((v) => v.media_to_wall)) : null,
    longest_frame_gap_ms_max: gaps.length ? Math.max(...gaps) : null,
    longest_frame_gap_ms_median: gaps.length ? median(gaps) : null,
    longest_frame_gap_rtp_ms: perViewer.find((v) => v.longest_frame_gap_ms === Math.max(...gaps))
      ?.longest_frame_gap_rtp_ms,
    longest_frame_gap_spans_end: perViewer.filter((v) => v.longest_frame_gap_spans_end).length,
    /** Over the window and the 2 s after it. */
    client_event_loop_delay_max_ms: round(loopDelay.max / 1e6, 1),
    frames_around_end: framesAroundEnd,
    stalls: gaps.filter((g) => g > STALL_MS).length,
    lost_packets: perViewer.reduce((s, v) => s + v.lost, 0),
    late_packets: perViewer.reduce((s, v) => s + v.late, 0),
    packets: perViewer.reduce((s, v) => s + v.packets, 0),
    mbit_per_s: round((perViewer.reduce((s, v) => s + v.bytes, 0) * 8) / 1e6 / wall, 2),
    answer_ms: { p50: round(median(perViewer.map((v) => v.answer_ms)), 1) },
    connected_ms: { p50: round(median(connected), 1), max: connected.length ? Math.max(...connected) : null },
    first_packet_ms: {
      p50: round(median(firstPacket), 1),
      p90: round(percentile(firstPacket, 90), 1),
      max: firstPacket.length ? Math.max(...firstPacket) : null,
    },
    delete_statuses: deleteStatuses,
    client_cpu_percent_window: round((100 * (cpuWindow.user + cpuWindow.system)) / 1e6 / wall, 1),
    client_cpu_seconds_total: round((cpu.user + cpu.system) / 1e6, 2),
    per_viewer: perViewer,
  });
  // libdatachannel's threads would keep the process alive a while: the result is out.
  process.exit(0);
}

interface ClientRun {
  /** Resolves when the client says its window starts / ends, and with its result. */
  connected: Promise<Record<string, unknown>>;
  started: Promise<void>;
  ended: Promise<void>;
  result: Promise<Record<string, unknown>>;
}

function runClient(count: number, baseUrl: string): ClientRun {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL(import.meta.url).pathname,
      ...['--client', String(count), '--base-url', baseUrl],
      ...['--seconds', String(SECONDS), '--settle', String(SETTLE)],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (args.nice !== undefined && child.pid) setNiceTree(child.pid, Number(args.nice));
  const waiters = new Map<string, (line: Record<string, unknown>) => void>();
  const wait = (event: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      waiters.set(event, resolve);
      child.once('exit', (code) => reject(new Error(`client exited ${code} before "${event}"`)));
    });
  const connected = wait('connected');
  const started = wait('start').then(() => undefined);
  const ended = wait('end').then(() => undefined);
  const result = wait('result');
  // Unhandled rejections of the earlier steps are reported through `result`.
  for (const p of [connected, started, ended]) p.catch(() => {});
  createInterface({ input: child.stdout }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    waiters.get(String(line.event))?.(line);
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), (SECONDS + SETTLE + 120) * 1000);
  child.once('exit', () => clearTimeout(killer));
  return { connected, started, ended, result };
}

async function main(): Promise<void> {
  const built = !args.source;
  const repo = args.repo ?? new URL('..', import.meta.url).pathname;
  if (built && !existsSync(`${repo}/dist/cli/index.js`))
    throw new Error(`${repo}/dist/cli/index.js is missing: build it (or pass --source)`);
  const command = `node --import tsx bench/webrtc-viewers.ts --viewers ${ROUNDS.join(',')} --seconds ${SECONDS} --settle ${SETTLE} --warmup ${WARMUP} --scene ${args.scene}${args.source ? ' --source' : ''}${args.repo ? ` --repo ${args.repo}` : ''}${args.nice !== undefined ? ` --nice=${args.nice}` : ''}`;
  const maxViewers = Math.max(1, ...ROUNDS);
  const stack = await startStack({
    built,
    repo,
    config: { webrtc: { max_viewers: maxViewers } },
    env: { LOG_LEVEL: 'info', MALLOC_ARENA_MAX: '2' },
  });
  let scene: Spawned | null = null;
  const results: Record<string, unknown>[] = [];
  try {
    if (args.scene === 'busy') scene = await startBusyScene(stack.display);
    await stack.waitForPlaylist((text) => (text.match(/^seg-\d+\.ts$/gm) ?? []).length >= 3, 60_000);
    const supervisorPid = stack.process.pid as number;
    if (args.nice !== undefined) setNiceTree(supervisorPid, Number(args.nice));
    if (WARMUP > 0) {
      const warm = runClient(1, stack.baseUrl);
      await warm.connected;
      await sleep(WARMUP * 1000);
      // The client runs its full window; its result is not kept.
      await warm.result.catch(() => null);
      await sleep(3000);
    }
    for (let index = 0; index < ROUNDS.length; index++) {
      const n = ROUNDS[index] as number;
      const logsBefore = stack.logs.length;
      const connectCpu0 = cpuSecondsOf([supervisorPid]);
      const run = n > 0 ? runClient(n, stack.baseUrl) : null;
      let connectPhase: Record<string, unknown> | null = null;
      if (run) {
        connectPhase = await run.connected;
        await run.started;
      }
      const connectCpuSeconds = cpuSecondsOf([supervisorPid]) - connectCpu0;
      const gstPid = stack.pipelinePid();
      const before = {
        supervisor: cpuSecondsOf([supervisorPid]),
        gst: gstPid ? cpuSecondsOf([gstPid]) : 0,
        machine: machineBusySeconds(),
        at: performance.now(),
        load: loadAverage(),
      };
      const rss: number[] = [];
      const load1: number[] = [];
      const sample = () => {
        const proc = tryReadProc(supervisorPid);
        if (proc) rss.push(proc.rssBytes / MiB);
        load1.push(loadAverage()[0]);
      };
      sample();
      const sampler = setInterval(sample, 1000);
      if (run) await run.ended;
      else await sleep(SECONDS * 1000);
      clearInterval(sampler);
      const wall = (performance.now() - before.at) / 1000;
      const supervisorCpu = cpuSecondsOf([supervisorPid]) - before.supervisor;
      const gstCpu = gstPid ? cpuSecondsOf([gstPid]) - before.gst : null;
      const machine = machineBusySeconds();
      const viewerResult = run ? await run.result : null;
      const logs = stack.logs.slice(logsBefore);
      const result = {
        round: index + 1,
        viewers: n,
        seconds: round(wall, 1),
        supervisor: {
          cpu_percent_of_one_core: round((100 * supervisorCpu) / wall, 2),
          rss_median_mib: round(median(rss), 1),
          rss_max_mib: round(Math.max(...rss), 1),
          connect_phase_cpu_seconds: round(connectCpuSeconds, 2),
        },
        gst_cpu_percent: gstCpu === null ? null : round((100 * gstCpu) / wall, 1),
        gst_pid_changed: gstPid !== stack.pipelinePid(),
        client: viewerResult,
        connect_phase: connectPhase,
        server_log: {
          connected: logs.filter((r) => r.msg === 'WebRTC viewer connected').length,
          gone: logs.filter((r) => r.msg === 'WebRTC viewer gone').length,
          gone_failed: logs.filter((r) => r.msg === 'WebRTC viewer gone' && r.why === 'failed').length,
          warnings_or_errors: logs
            .filter((r) => r.level >= 40)
            .map((r) => `${r.msg}${r.err ? `: ${JSON.stringify(r.err)}` : ''}`)
            .slice(0, 10),
          pipeline_restarts: logs
            .filter((r) => r.msg === 'restarting the pipeline')
            .map((r) => `${String(r.reason)}: ${String(r.detail)}`),
        },
        machine_busy_percent_of_2_cores: round(
          (100 * (machine.busy - before.machine.busy)) / (machine.total - before.machine.total),
          1,
        ),
        load_average_before: before.load,
        load1_median: round(median(load1), 2),
      };
      results.push(result);
      const { per_viewer: _, ...brief } = (viewerResult ?? {}) as Record<string, unknown>;
      console.error(JSON.stringify({ ...result, client: viewerResult ? brief : null }));
      await sleep(5000); // sessions closed, sockets gone, before the next round
    }
  } finally {
    if (scene) await endGracefully(scene);
    await stack.stop();
  }
  const file = writeResults('webrtc-viewers', { command, at: new Date().toISOString() }, results);
  console.log(command);
  console.log(file);
  printTable(results);
}

function printTable(results: Record<string, unknown>[]): void {
  // biome-ignore lint/suspicious/noExplicitAny: printing the records built above
  const rows = results as Array<Record<string, any>>;
  const baseline = rows.find((r) => r.viewers === 0);
  console.log(
    '| round | N | supervisor CPU % of a core | per viewer (vs first N=0) | RSS median / max MiB | per viewer MiB | gst CPU % | frames/s per viewer min / median | longest frame gap max ms (its RTP step ms; stalls) | lost packets | connected p50 / max ms | first packet p50 / max ms | Mbit/s | connect-phase CPU s | load1 | machine busy % |',
  );
  console.log(
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const r of rows) {
    const c = r.client ?? {};
    const perViewer = (key: 'cpu_percent_of_one_core' | 'rss_median_mib', digits: number) =>
      baseline && r.viewers > 0
        ? round((r.supervisor[key] - baseline.supervisor[key]) / r.viewers, digits)
        : '–';
    console.log(
      `| ${r.round} | ${r.viewers} | ${r.supervisor.cpu_percent_of_one_core} | ${perViewer('cpu_percent_of_one_core', 3)} | ${r.supervisor.rss_median_mib} / ${r.supervisor.rss_max_mib} | ${perViewer('rss_median_mib', 2)} | ${r.gst_cpu_percent} | ${c.fps_min ?? '–'} / ${c.fps_median ?? '–'} | ${c.longest_frame_gap_ms_max ?? '–'} (${c.longest_frame_gap_ms_max === undefined ? '–' : (c.longest_frame_gap_rtp_ms ?? 'still open')}; ${c.stalls ?? '–'}) | ${c.lost_packets ?? '–'} | ${c.connected_ms?.p50 ?? '–'} / ${c.connected_ms?.max ?? '–'} | ${c.first_packet_ms?.p50 ?? '–'} / ${c.first_packet_ms?.max ?? '–'} | ${c.mbit_per_s ?? '–'} | ${r.supervisor.connect_phase_cpu_seconds} | ${r.load1_median} | ${r.machine_busy_percent_of_2_cores} |`,
    );
  }
}

if (args.client !== undefined) await client(Number(args.client), args['base-url'] ?? '');
else await main();
