/**
 * How fast the real supervisor heals, on the virtual two-monitor rig with the real gst-launch-1.0:
 * the time from a fault until the PUBLIC playlist (the Low-Latency HLS playlist players poll)
 * lists the first NEW MEDIA of the new pipeline run — its first part (EXT-X-PART) or, without
 * parts, its first segment: the media right after the EXT-X-DISCONTINUITY. The playlist is polled
 * every --poll-ms (20) ms over loopback HTTP (plain GETs, no blocking reload, so the measurement
 * does not depend on the server's wake-ups). Where it matters, that first part is decoded (ffmpeg)
 * to check what it shows (rig: first monitor red, second blue; the slate is colour bars).
 *
 *   node --import tsx bench/recovery.ts [--runs N] [--poll-ms 20] [--nice N]
 *
 * Per run, three fresh supervisors (so each counted restart is the first one, with the first
 * backoff step, as after a long healthy run on a kiosk):
 *   A: start → first media; kill -9 of the pipeline; second monitor unplugged → first slate
 *      media; replugged → first captured media (checked to be the blue second monitor)
 *   B: start → first media; SIGSTOP of the pipeline (hung) → first media of the replacement
 *   C: start → first media; SIGSTOP of Xorg (a hung X server, as in a GPU hang) → first slate
 *      media; SIGCONT → first captured media (checked blue)
 * Start: "gst start" is the `pipeline process started` log line of the supervisor (pino `time`,
 * this machine's wall clock) → the first independent part listed.
 * Also per fault: the hole in the stream's own timeline, from PROGRAM-DATE-TIME: the new run's
 * first PDT − (PDT + EXTINF of the old run's last segment): what a player at the live edge skips.
 * Config: defaults (segment_duration 2 s, fps 15 → 3-frame parts, stall after 1.5 s without a
 * frame) plus single_monitor_fallback=false.
 *
 * Output: a Markdown table on stdout, bench/results/recovery-<timestamp>.jsonl (summary + samples).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { dominant, meanColour } from '../test/helpers/frames.ts';
import { type Rig, startRig } from '../test/helpers/rig.ts';
import { type LogRecord, type Stack, startStack } from '../test/helpers/stack.ts';
import { type LlPlaylist, type LlSegment, nextReload, parseLlPlaylist } from './lib/ll-playlist.ts';
import { loadAverage, setNiceTree } from './lib/proc.ts';
import { writeResults } from './lib/results.ts';
import { median, round } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'poll-ms': { type: 'string', default: '20' },
    nice: { type: 'string' },
  },
});
const RUNS = Number(args.runs);
const POLL_MS = Number(args['poll-ms']);
if (!Number.isInteger(RUNS) || RUNS < 1)
  throw new RangeError(`--runs must be an integer >= 1, got ${args.runs}`);
if (!(POLL_MS >= 1 && POLL_MS <= 1000))
  throw new RangeError(`--poll-ms must be 1..1000, got ${args['poll-ms']}`);
const WAIT_MS = 120_000;
/** --nice N: the supervisors (and so their gst children), the rig's Xorg and this process get nice N. */
const NICE = args.nice === undefined ? null : Number(args.nice);

async function playlist(stack: Stack): Promise<LlPlaylist | null> {
  const response = await fetch(`${stack.baseUrl}/hls/desktop/playlist.m3u8`).catch(() => null);
  return response?.ok ? parseLlPlaylist(await response.text()) : null;
}

interface Seen<T> {
  found: T;
  playlist: LlPlaylist;
  /** performance.now() and Date.now() when the playlist that held it arrived. */
  at: number;
  wall: number;
}

/** Polls the public playlist every POLL_MS until `find` returns something. */
async function poll<T>(stack: Stack, find: (playlist: LlPlaylist) => T | undefined): Promise<Seen<T>> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const pl = await playlist(stack);
    const found = pl === null ? undefined : find(pl);
    if (found !== undefined) return { found, playlist: pl!, at: performance.now(), wall: Date.now() };
    await sleep(POLL_MS);
  }
  throw new Error(`playlist condition not met within ${WAIT_MS} ms`);
}

/** The live edge right now: the sequence of the open segment (or the next one). */
async function edge(stack: Stack): Promise<number> {
  return (await poll(stack, (pl) => (pl.segments.length > 0 ? nextReload(pl).msn : undefined))).found;
}

interface NewMedia {
  segment: LlSegment;
  /** URI of the first part (or of the segment when no parts are listed). */
  uri: string;
  /** Hole in the stream timeline (s) between the previous run's last segment and this, from PDT. */
  pdtGap: number | null;
}

/** First media of a run that began at or after sequence `edgeAtFault` (right after its discontinuity). */
function newRunFrom(edgeAtFault: number) {
  return (pl: LlPlaylist): NewMedia | undefined => {
    const index = pl.segments.findIndex(
      (s) => s.sequence >= edgeAtFault && s.discontinuity && (s.parts.length > 0 || s.uri !== null),
    );
    if (index < 0) return undefined;
    const segment = pl.segments[index]!;
    const previous = pl.segments[index - 1];
    const pdtGap =
      previous?.programDateMs != null && previous.duration !== null && segment.programDateMs !== null
        ? (segment.programDateMs - (previous.programDateMs + previous.duration * 1000)) / 1000
        : null;
    return { segment, uri: segment.parts[0]?.uri ?? segment.uri!, pdtGap };
  };
}

/** Waits until the current run has one whole segment and parts of the next, so a fault hits a steady stream. */
async function steady(stack: Stack): Promise<void> {
  await poll(stack, (pl) => {
    const start = pl.segments.findLastIndex((s) => s.discontinuity);
    const run = pl.segments.slice(Math.max(0, start));
    const complete = run.filter((s) => s.uri !== null).length;
    const open = pl.segments.at(-1);
    return complete >= 1 && open?.uri === null && open.parts.length >= 1 ? true : undefined;
  });
}

function restartReasonSince(stack: Stack, mark: number): string {
  const record = stack.logs.slice(mark).find((r: LogRecord) => r.msg === 'restarting the pipeline');
  return String(record?.reason ?? 'none');
}

interface Sample {
  run: number;
  metric: string;
  seconds: number;
  pdt_gap_seconds: number | null;
  /** From the supervisor's log (pino `time`): fault → `restarting the pipeline`, → `pipeline process started`. */
  detected_after_s?: number | null;
  gst_started_after_s?: number | null;
  note: string;
  load1: number;
}

let currentRun = 0;
function push(
  samples: Sample[],
  metric: string,
  seconds: number,
  note = '',
  pdtGap: number | null = null,
  phases: { detected: number | null; started: number | null } | null = null,
) {
  samples.push({
    run: currentRun,
    metric,
    seconds: round(seconds, 3),
    pdt_gap_seconds: pdtGap === null ? null : round(pdtGap, 3),
    ...(phases && {
      detected_after_s: phases.detected === null ? null : round(phases.detected, 3),
      gst_started_after_s: phases.started === null ? null : round(phases.started, 3),
    }),
    note,
    load1: loadAverage()[0],
  });
}

async function startMeasured(rig: Rig, samples: Sample[]): Promise<Stack> {
  const t0 = performance.now();
  const stack = await startStack({ rig, config: { single_monitor_fallback: false } });
  if (NICE !== null) setNiceTree(stack.process.pid as number, NICE);
  const first = await poll(stack, (pl) =>
    pl.segments.flatMap((s) => s.parts).find((p) => p.independent) ? true : undefined,
  );
  push(samples, 'supervisor start → first media', (first.at - t0) / 1000);
  const started = stack.logs.find((r) => r.msg === 'pipeline process started');
  if (started) {
    // Both clocks are this machine's wall clock (pino's `time` is Date.now()).
    push(samples, 'gst start → first playable media', (first.wall - (started.time as number)) / 1000);
  }
  return stack;
}

let commandSeconds: number | null = null;
/** Runs a rig command, noting how long it took (the fault itself is timed from its start). */
async function timed(command: () => Promise<void>): Promise<undefined> {
  const t = performance.now();
  await command();
  commandSeconds = (performance.now() - t) / 1000;
  return undefined;
}

/** Fault → first media of the new run (decoded when asked). */
async function measureFault(
  stack: Stack,
  samples: Sample[],
  metric: string,
  /** Does the fault; may return when it took effect (performance.now()), else its start counts. */
  fault: () => Promise<number | undefined> | undefined,
  decode: boolean,
): Promise<void> {
  await steady(stack);
  const edgeAtFault = await edge(stack);
  const mark = stack.logs.length;
  commandSeconds = null;
  const tStart = performance.now();
  const t0 = (await fault()) ?? tStart;
  const wall0 = Date.now() - (performance.now() - t0);
  const seen = await poll(stack, newRunFrom(edgeAtFault));
  const seconds = (seen.at - t0) / 1000;
  const logs = stack.logs.slice(mark);
  const restartLog = logs.find((r) => r.msg === 'restarting the pipeline');
  const startedLog = logs.findLast((r) => r.msg === 'pipeline process started');
  const phases = {
    detected: restartLog ? ((restartLog.time as number) - wall0) / 1000 : null,
    started: startedLog ? ((startedLog.time as number) - wall0) / 1000 : null,
  };
  let note = restartReasonSince(stack, mark);
  const command = commandSeconds as number | null; // set by timed() inside fault()
  if (command !== null) note += `, rig command ${command.toFixed(2)} s`;
  if (decode) {
    const colour = await meanColour(`${stack.baseUrl}/hls/desktop/${seen.found.uri}`)
      .then(dominant)
      .catch((e: Error) => `undecodable (${e.message.slice(0, 80)})`);
    note += `, picture ${colour}`;
  }
  push(samples, metric, seconds, note, seen.found.pdtGap, phases);
}

async function runA(rig: Rig, samples: Sample[]): Promise<void> {
  const a = await startMeasured(rig, samples);
  try {
    await measureFault(
      a,
      samples,
      'kill -9 of the pipeline → new media',
      () => {
        process.kill(a.pipelinePid()!, 'SIGKILL');
        return undefined;
      },
      false,
    );
    // Unplug/replug are timed from the start of the rig command: its first action is the xrandr
    // call that (un)plugs DUMMY1 (replug then waits for two monitors and restores the content, and
    // under load the supervisor can be back before the command returns). Its run time is noted.
    await measureFault(a, samples, 'unplug → first slate media', () => timed(() => rig.unplugSecond()), true);
    await measureFault(
      a,
      samples,
      'replug → first captured media',
      () => timed(() => rig.replugSecond()),
      true,
    );
  } finally {
    await rig.replugSecond().catch(() => {});
    await a.stop();
  }
}

async function runB(rig: Rig, samples: Sample[]): Promise<void> {
  const b = await startMeasured(rig, samples);
  let stopped: number | null = null;
  try {
    await measureFault(
      b,
      samples,
      'SIGSTOP of the pipeline → new media',
      () => {
        stopped = b.pipelinePid()!;
        process.kill(stopped, 'SIGSTOP');
        return undefined;
      },
      false,
    );
  } finally {
    if (stopped !== null) {
      try {
        process.kill(stopped, 'SIGKILL');
      } catch {
        // the supervisor already killed it
      }
    }
    await b.stop();
  }
}

function xorgPid(rig: Rig): number {
  return Number(readFileSync(`/tmp/desktop-streamer-rig-${rig.display.slice(1)}/xorg.pid`, 'utf8').trim());
}

async function runC(rig: Rig, samples: Sample[]): Promise<void> {
  const c = await startMeasured(rig, samples);
  const xorg = xorgPid(rig);
  try {
    await measureFault(
      c,
      samples,
      'X server hung (SIGSTOP Xorg) → first slate media',
      () => {
        process.kill(xorg, 'SIGSTOP');
        return undefined;
      },
      true,
    );
    await measureFault(
      c,
      samples,
      'X server resumed (SIGCONT) → first captured media',
      () => {
        process.kill(xorg, 'SIGCONT');
        return undefined;
      },
      true,
    );
  } finally {
    process.kill(xorg, 'SIGCONT');
    await c.stop();
  }
}

function report(samples: Sample[]): string[] {
  const metrics = [...new Set(samples.map((s) => s.metric))];
  const header = [
    'seconds',
    'n',
    'median',
    'min',
    'max',
    'restart logged / gst started (median)',
    'PDT gap median s',
    'restart reason / decoded picture',
  ];
  const rows = metrics.map((metric) => {
    const of = samples.filter((s) => s.metric === metric);
    const seconds = of.map((s) => s.seconds);
    const gaps = of.map((s) => s.pdt_gap_seconds).filter((g): g is number => g !== null);
    const commands = of
      .map((s) => /, rig command ([\d.]+) s/.exec(s.note)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number);
    const notes = [
      ...new Set(of.map((s) => s.note.replace(/, rig command [\d.]+ s/, '')).filter(Boolean)),
      ...(commands.length ? [`rig command ${median(commands).toFixed(2)} s median`] : []),
    ].join('; ');
    const phase = (key: 'detected_after_s' | 'gst_started_after_s') => {
      const values = of.map((s) => s[key]).filter((v): v is number => typeof v === 'number');
      return values.length ? median(values).toFixed(2) : '–';
    };
    const phases = of.some((s) => 'detected_after_s' in s)
      ? `${phase('detected_after_s')} / ${phase('gst_started_after_s')}`
      : '';
    return [
      metric,
      String(of.length),
      median(seconds).toFixed(2),
      Math.min(...seconds).toFixed(2),
      Math.max(...seconds).toFixed(2),
      phases,
      gaps.length ? median(gaps).toFixed(2) : '',
      notes,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

async function main(): Promise<void> {
  const command = `node --import tsx bench/recovery.ts --runs ${RUNS} --poll-ms ${POLL_MS}${NICE === null ? '' : ` --nice=${NICE}`}`;
  const startedAt = new Date().toISOString();
  const loadBefore = loadAverage();
  const rig = await startRig();
  if (NICE !== null) {
    setNiceTree(process.pid, NICE);
    setNiceTree(xorgPid(rig), NICE);
  }
  const samples: Sample[] = [];
  try {
    for (currentRun = 1; currentRun <= RUNS; currentRun++) {
      const before = samples.length;
      await runA(rig, samples);
      await runB(rig, samples);
      await runC(rig, samples);
      const got = samples.slice(before).map((s) => `${s.metric} ${s.seconds.toFixed(2)} s`);
      console.error(`run ${currentRun}/${RUNS}: ${got.join(', ')}`);
    }
  } finally {
    await rig.stop();
  }
  const table = report(samples);
  const summary = {
    command,
    started_at: startedAt,
    ended_at: new Date().toISOString(),
    poll_ms: POLL_MS,
    load_average_before: loadBefore,
    load_average_after: loadAverage(),
    load1_median: median(samples.map((s) => s.load1)),
    medians: Object.fromEntries(
      [...new Set(samples.map((s) => s.metric))].map((m) => [
        m,
        round(median(samples.filter((s) => s.metric === m).map((s) => s.seconds)), 3),
      ]),
    ),
  };
  const path = writeResults('recovery', summary, samples);
  console.log(`\n${command}\nrecovery over ${RUNS} run(s), polling the public playlist every ${POLL_MS} ms`);
  console.log(`load average before ${loadBefore.join(' ')}, after ${loadAverage().join(' ')}\n`);
  console.log(table.join('\n'));
  console.log(`\nresults: ${path}`);
}

await main();
