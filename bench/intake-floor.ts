/**
 * Intake floor: what it costs only to RECEIVE the pipeline's stream, frame by frame, before any
 * parsing. The supervisor's own capture argv (buildCaptureArgs, no picture tap) runs on the rig
 * and writes its MPEG-TS to fd 5 as the supervisor's child does; that pipe is the stdin of a
 * reader that does nothing with the bytes:
 *
 *   cat          `cat > /dev/null` (the baseline: a C read loop)
 *   node-stream  Node, `process.stdin.on('data')` (how child.ts read the stdio pipe before the FIFO)
 *   node-onread  Node, `new net.Socket({ fd: 0, onread })`: one reused buffer, no stream machinery
 *                (how src/pipeline/media-fifo.ts reads)
 *   node-onread-paused  the same, paused for 175 ms after each read (about one LL-HLS part), so the
 *                frames of a part come in one read instead of one read each
 *
 * One reader at a time, each with its own gst child; after --warmup seconds the reader's CPU
 * (utime + stime from /proc/<pid>/stat) is taken over --seconds. Order reverses from round to round.
 *
 *   node --import tsx bench/intake-floor.ts [--rounds 2] [--seconds 60] [--warmup 10]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { buildCaptureArgs, MEDIA_FD } from '../src/capture/pipeline-argv.ts';
import { capturePlan } from '../test/fixtures/capture-plan.ts';
import { startRig } from '../test/helpers/rig.ts';
import { loadAverage, readProc } from './lib/proc.ts';
import { writeResults } from './lib/results.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '10' },
  },
});
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);

// Each Node reader counts its reads and prints the count when it ends (SIGTERM).
const NODE_STREAM = `let reads = 0; process.stdin.on('data', () => reads++);
process.on('SIGTERM', () => { console.log(reads); process.exit(0); });`;
const NODE_ONREAD = `const net = require('node:net'); let reads = 0;
new net.Socket({ fd: 0, readable: true, onread: { buffer: Buffer.alloc(65536), callback: () => { reads++; } } });
process.on('SIGTERM', () => { console.log(reads); process.exit(0); });`;
const NODE_ONREAD_PAUSED = `const net = require('node:net'); let reads = 0;
const socket = new net.Socket({ fd: 0, readable: true, onread: { buffer: Buffer.alloc(65536), callback: () => {
  reads++; socket.pause(); setTimeout(() => socket.resume(), 175); } } });
process.on('SIGTERM', () => { console.log(reads); process.exit(0); });`;
const READERS: Record<string, [string, string[]]> = {
  cat: ['cat', []],
  'node-stream': [process.execPath, ['-e', NODE_STREAM]],
  'node-onread': [process.execPath, ['-e', NODE_ONREAD]],
  'node-onread-paused': [process.execPath, ['-e', NODE_ONREAD_PAUSED]],
};

interface Run {
  round: number;
  reader: string;
  cpuPercentOfOneCore: number;
  readsPerSecond: number | null;
  load1: number;
}

/** The reader's CPU over the window, and its reads per second when it counts them. */
async function measure(name: string, argv: string[], display: string): Promise<Omit<Run, 'round'>> {
  const [command, readerArgs] = READERS[name]!;
  const reader = spawn(command, readerArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
  let printed = '';
  reader.stdout!.on('data', (chunk: Buffer) => {
    printed += chunk.toString();
  });
  const readerExited = once(reader, 'exit');
  // gst writes its TS to fd MEDIA_FD, as under the supervisor: here that is the reader's stdin.
  const stdio: Array<'ignore' | Writable> = Array.from({ length: MEDIA_FD + 1 }, () => 'ignore');
  stdio[MEDIA_FD] = reader.stdin!;
  const gst = spawn('gst-launch-1.0', argv, { stdio, env: { ...process.env, DISPLAY: display } });
  reader.stdin!.destroy(); // the write end lives in gst only
  try {
    await sleep(WARMUP * 1000);
    const before = readProc(reader.pid!);
    await sleep(SECONDS * 1000);
    const after = readProc(reader.pid!);
    const elapsedSeconds = (after.atMs - before.atMs) / 1000;
    reader.kill('SIGTERM');
    await readerExited;
    const reads = Number.parseInt(printed, 10);
    return {
      reader: name,
      cpuPercentOfOneCore:
        Math.round(((after.cpuSeconds - before.cpuSeconds) / elapsedSeconds) * 10_000) / 100,
      readsPerSecond: Number.isNaN(reads) ? null : Math.round((reads / (WARMUP + SECONDS)) * 10) / 10,
      load1: loadAverage()[0],
    };
  } finally {
    gst.kill('SIGKILL');
    reader.kill('SIGKILL');
  }
}

const rig = await startRig();
const runs: Run[] = [];
try {
  const plan = capturePlan({ display: rig.display, encoder: { element: 'x264enc', reason: 'bench' } });
  const argv = buildCaptureArgs(plan);
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? Object.keys(READERS) : Object.keys(READERS).reverse();
    for (const name of order) {
      const run = { round, ...(await measure(name, argv, rig.display)) };
      runs.push(run);
      console.log(JSON.stringify(run));
    }
  }
} finally {
  await rig.stop();
}
const command = `node --import tsx bench/intake-floor.ts --rounds ${ROUNDS} --seconds ${SECONDS} --warmup ${WARMUP}`;
const cpuPercentOfOneCore = Object.fromEntries(
  Object.keys(READERS).map((name) => [
    name,
    runs.filter((r) => r.reader === name).map((r) => r.cpuPercentOfOneCore),
  ]),
);
console.log(writeResults('intake-floor', { command, cpuPercentOfOneCore }, runs));
