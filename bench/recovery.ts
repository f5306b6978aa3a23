/**
 * How fast the real supervisor heals, on the virtual two-monitor rig with the real gst-launch-1.0:
 * the time from a fault until the PUBLIC playlist (what players poll) lists the first segment of
 * the new pipeline run (the first segment after the discontinuity).
 *
 *   node --import tsx bench/recovery.ts [--runs N]     (default 5 runs)
 *
 * Per run, two fresh supervisors (so each counted restart is the first one, with the first backoff
 * step, as after a long healthy run on a kiosk):
 *   A: start → first playlist; kill -9 of the pipeline; second monitor unplugged → first slate
 *      segment; replugged → first captured segment (checked to be the blue second monitor)
 *   B: start → first playlist; SIGSTOP of the pipeline (hung) → first segment of the replacement
 *   C: start → first playlist; SIGSTOP of Xorg (a hung X server, as in a GPU hang) → first slate
 *      segment; SIGCONT → first captured segment (checked blue)
 * Error burst is not measured: gst-launch-1.0 ends (or, with a thread blocked in Xlib, hangs) on
 * the first ERROR bus message, so a real fault shows up as an exit or a stall before errors can
 * pile up; error_burst fires only for a crash loop (each crash counts its bus error and its exit).
 * Config: defaults (segment_duration 2 s, so stall timeout 6 s) plus single_monitor_fallback=false.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { dominant, meanColour } from '../test/helpers/frames.ts';
import { type Rig, startRig } from '../test/helpers/rig.ts';
import {
  type LogRecord,
  type PlaylistEntry,
  playlistEntries,
  type Stack,
  startStack,
} from '../test/helpers/stack.ts';

const POLL_MS = 50;
const WAIT_MS = 120_000;

async function playlist(stack: Stack): Promise<string | null> {
  const response = await fetch(`${stack.baseUrl}/hls/desktop/playlist.m3u8`).catch(() => null);
  return response?.ok ? response.text() : null;
}

/** Polls the public playlist every POLL_MS until `find` returns an entry; returns it and when it was seen. */
async function poll(
  stack: Stack,
  find: (entries: PlaylistEntry[]) => PlaylistEntry | undefined,
): Promise<{ entry: PlaylistEntry; at: number }> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const text = await playlist(stack);
    const entry = text === null ? undefined : find(playlistEntries(text));
    if (entry) return { entry, at: performance.now() };
    await sleep(POLL_MS);
  }
  throw new Error(`playlist condition not met within ${WAIT_MS} ms`);
}

async function lastSequence(stack: Stack): Promise<number> {
  const { entry } = await poll(stack, (entries) => entries.at(-1));
  return entry.sequence;
}

/** First segment of a run started after `lastBefore` (the segment right after the discontinuity). */
function newRunAfter(lastBefore: number) {
  return (entries: PlaylistEntry[]) => entries.find((e) => e.sequence > lastBefore && e.discontinuity);
}

/** Waits until the current run has published two segments, so the next fault hits a steady stream. */
async function steady(stack: Stack): Promise<void> {
  await poll(stack, (entries) => {
    const start = entries.findLastIndex((e) => e.discontinuity);
    return entries.length - Math.max(0, start) >= 2 ? entries.at(-1) : undefined;
  });
}

function restartReasonSince(stack: Stack, mark: number): string {
  const record = stack.logs.slice(mark).find((r: LogRecord) => r.msg === 'restarting the pipeline');
  return String(record?.reason ?? 'none');
}

interface Sample {
  metric: string;
  seconds: number;
  note: string;
}

async function startMeasured(rig: Rig, samples: Sample[]): Promise<Stack> {
  const t0 = performance.now();
  const wall0 = Date.now();
  const stack = await startStack({ rig, config: { single_monitor_fallback: false } });
  const { at } = await poll(stack, (entries) => entries[0]);
  const firstAtWall = Date.now();
  samples.push({ metric: 'start → first playlist', seconds: (at - t0) / 1000, note: '' });
  const pipelineStarted = stack.logs.find((r) => r.msg === 'pipeline process started');
  if (pipelineStarted) {
    // Both clocks are this machine's wall clock (pino's `time` is Date.now()).
    const seconds = (firstAtWall - Math.max(wall0, pipelineStarted.time as number)) / 1000;
    samples.push({ metric: '  of which gst-launch start → first playlist', seconds, note: '' });
  }
  return stack;
}

async function runOnce(rig: Rig, samples: Sample[]): Promise<void> {
  const a = await startMeasured(rig, samples);
  try {
    await steady(a);
    let lastBefore = await lastSequence(a);
    let mark = a.logs.length;
    let t0 = performance.now();
    process.kill(a.pipelinePid()!, 'SIGKILL');
    let seen = await poll(a, newRunAfter(lastBefore));
    samples.push({
      metric: 'kill -9 → next new segment',
      seconds: (seen.at - t0) / 1000,
      note: restartReasonSince(a, mark),
    });

    await steady(a);
    lastBefore = await lastSequence(a);
    mark = a.logs.length;
    await rig.unplugSecond();
    t0 = performance.now();
    seen = await poll(a, newRunAfter(lastBefore));
    const slateColour = dominant(await meanColour(`${a.baseUrl}/hls/desktop/${seen.entry.uri}`));
    samples.push({
      metric: 'unplug → first slate segment',
      seconds: (seen.at - t0) / 1000,
      note: `${restartReasonSince(a, mark)}, picture ${slateColour}`,
    });

    await steady(a);
    lastBefore = await lastSequence(a);
    mark = a.logs.length;
    await rig.replugSecond();
    t0 = performance.now();
    seen = await poll(a, newRunAfter(lastBefore));
    const colour = dominant(await meanColour(`${a.baseUrl}/hls/desktop/${seen.entry.uri}`));
    samples.push({
      metric: 'replug → first captured segment',
      seconds: (seen.at - t0) / 1000,
      note: `${restartReasonSince(a, mark)}, picture ${colour}`,
    });
  } finally {
    await rig.replugSecond().catch(() => {});
    await a.stop();
  }

  const b = await startMeasured(rig, samples);
  let stopped: number | null = null;
  try {
    await steady(b);
    const lastBefore = await lastSequence(b);
    const mark = b.logs.length;
    stopped = b.pipelinePid()!;
    const t0 = performance.now();
    process.kill(stopped, 'SIGSTOP');
    const seen = await poll(b, newRunAfter(lastBefore));
    samples.push({
      metric: 'SIGSTOP → next new segment',
      seconds: (seen.at - t0) / 1000,
      note: restartReasonSince(b, mark),
    });
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

/** C: the X server hangs (SIGSTOP, as in a GPU hang) → slate; resumes (SIGCONT) → capture again. */
async function xServerHang(rig: Rig, samples: Sample[]): Promise<void> {
  const c = await startMeasured(rig, samples);
  const xorg = xorgPid(rig);
  try {
    await steady(c);
    let lastBefore = await lastSequence(c);
    let mark = c.logs.length;
    let t0 = performance.now();
    process.kill(xorg, 'SIGSTOP');
    let seen = await poll(c, newRunAfter(lastBefore));
    let colour = dominant(await meanColour(`${c.baseUrl}/hls/desktop/${seen.entry.uri}`));
    samples.push({
      metric: 'X server hung → first slate segment',
      seconds: (seen.at - t0) / 1000,
      note: `${restartReasonSince(c, mark)}, picture ${colour}`,
    });

    await steady(c);
    lastBefore = await lastSequence(c);
    mark = c.logs.length;
    t0 = performance.now();
    process.kill(xorg, 'SIGCONT');
    seen = await poll(c, newRunAfter(lastBefore));
    colour = dominant(await meanColour(`${c.baseUrl}/hls/desktop/${seen.entry.uri}`));
    samples.push({
      metric: 'X server resumed → first captured segment',
      seconds: (seen.at - t0) / 1000,
      note: `${restartReasonSince(c, mark)}, picture ${colour}`,
    });
  } finally {
    process.kill(xorg, 'SIGCONT');
    await c.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function report(samples: Sample[], runs: number): void {
  const metrics = [...new Set(samples.map((s) => s.metric))];
  const rows = metrics.map((metric) => {
    const of = samples.filter((s) => s.metric === metric);
    const seconds = of.map((s) => s.seconds);
    const notes = [...new Set(of.map((s) => s.note).filter(Boolean))].join('; ');
    return [
      metric,
      String(of.length),
      median(seconds).toFixed(2),
      Math.min(...seconds).toFixed(2),
      Math.max(...seconds).toFixed(2),
      notes,
    ];
  });
  const header = ['seconds', 'n', 'median', 'min', 'max', 'restart reason / decoded picture'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\nrecovery over ${runs} run(s), polling the public playlist every ${POLL_MS} ms\n`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
  console.log('\nraw:', JSON.stringify(samples.map((s) => [s.metric.trim(), Number(s.seconds.toFixed(3))])));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new RangeError(`--runs must be an integer >= 1, got ${JSON.stringify(values.runs)}`);
  }
  const rig = await startRig();
  const samples: Sample[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      const before = samples.length;
      await runOnce(rig, samples);
      await xServerHang(rig, samples);
      const got = samples.slice(before).map((s) => `${s.metric.trim()} ${s.seconds.toFixed(2)} s`);
      console.error(`run ${run}/${runs}: ${got.join(', ')}`);
    }
  } finally {
    await rig.stop();
  }
  report(samples, runs);
}

await main();
