/**
 * What the intake benches share (bench/intake-floor.ts, bench/intake-cadence.ts): one reader of
 * the pipeline's stream at a time, each with its own gst child on the rig, its CPU (utime + stime
 * from /proc/<pid>/stat) taken over a window after a warm-up, the readers' order reversed from
 * round to round. A reader prints how many reads it made when it gets SIGTERM.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildCaptureArgs } from '../../src/capture/pipeline-argv.ts';
import { capturePlan } from '../../test/fixtures/capture-plan.ts';
import { startRig } from '../../test/helpers/rig.ts';
import { loadAverage, readProc } from './proc.ts';
import { writeResults } from './results.ts';

export interface ReaderRun {
  round: number;
  reader: string;
  cpuPercentOfOneCore: number;
  readsPerSecond: number | null;
  load1: number;
}

export interface ReaderWindow {
  warmupSeconds: number;
  seconds: number;
}

/** Starts reader `name` and its gst child (capture argv, on `display`); returns both. */
export type StartReader = (
  name: string,
  argv: string[],
  display: string,
) => Promise<{ reader: ChildProcess; gst: ChildProcess }>;

/** The reader's CPU over the window, and its reads per second when it counts them. Kills both after. */
async function measure(
  name: string,
  started: { reader: ChildProcess; gst: ChildProcess },
  window: ReaderWindow,
): Promise<Omit<ReaderRun, 'round'>> {
  const { reader, gst } = started;
  let printed = '';
  reader.stdout!.on('data', (chunk: Buffer) => {
    printed += chunk.toString();
  });
  const readerExited = once(reader, 'exit');
  try {
    await sleep(window.warmupSeconds * 1000);
    const before = readProc(reader.pid!);
    await sleep(window.seconds * 1000);
    const after = readProc(reader.pid!);
    const elapsedSeconds = (after.atMs - before.atMs) / 1000;
    reader.kill('SIGTERM');
    await Promise.race([readerExited, sleep(3000)]);
    const reads = Number.parseInt(printed, 10);
    return {
      reader: name,
      cpuPercentOfOneCore:
        Math.round(((after.cpuSeconds - before.cpuSeconds) / elapsedSeconds) * 10_000) / 100,
      readsPerSecond: Number.isNaN(reads)
        ? null
        : Math.round((reads / (window.warmupSeconds + window.seconds)) * 10) / 10,
      load1: loadAverage()[0],
    };
  } finally {
    gst.kill('SIGKILL');
    reader.kill('SIGKILL');
  }
}

/** Every reader `rounds` times; prints each run and the results file (bench/results/<bench>-*.jsonl). */
export async function runReaderRounds(options: {
  bench: string;
  command: string;
  readers: readonly string[];
  rounds: number;
  window: ReaderWindow;
  start: StartReader;
}): Promise<void> {
  const rig = await startRig();
  const runs: ReaderRun[] = [];
  try {
    const plan = capturePlan({ display: rig.display, encoder: { element: 'x264enc', reason: 'bench' } });
    const argv = buildCaptureArgs(plan);
    for (let round = 1; round <= options.rounds; round++) {
      const order = round % 2 === 1 ? [...options.readers] : [...options.readers].reverse();
      for (const name of order) {
        const started = await options.start(name, argv, rig.display);
        const run = { round, ...(await measure(name, started, options.window)) };
        runs.push(run);
        console.log(JSON.stringify(run));
      }
    }
  } finally {
    await rig.stop();
  }
  const cpuPercentOfOneCore = Object.fromEntries(
    options.readers.map((name) => [
      name,
      runs.filter((r) => r.reader === name).map((r) => r.cpuPercentOfOneCore),
    ]),
  );
  console.log(writeResults(options.bench, { command: options.command, cpuPercentOfOneCore }, runs));
}
