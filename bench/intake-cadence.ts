/**
 * Intake cadence: what it costs to receive the pipeline's stream from a FIFO as the supervisor
 * does (one read per frame, woken by epoll: `net.Socket` with `onread`, src/pipeline/media-fifo.ts)
 * against draining the same FIFO on a timer (`fs.readSync` on the non-blocking read end until
 * EAGAIN), every 333 ms (about one LL-HLS part at 15 fps) or 200 ms. A timer cannot hand a
 * low-latency viewer each frame as it is made; the question is what the frames cost when nobody
 * needs them at once (no viewer, or only plain-HLS viewers, which fetch whole segments).
 *
 * The supervisor's capture argv (buildCaptureArgs, no picture tap) writes its MPEG-TS to fd 5, the
 * write end of a FIFO; the reader gets the read end (opened O_NONBLOCK) as its fd 3, not 0: the
 * child's stdio fds 0–2 are made blocking by libuv, and a timer must never block on the read.
 * Readers do nothing with the bytes. One reader at a time, each with its own gst child; after
 * --warmup seconds its CPU (utime + stime from /proc/<pid>/stat) is taken over --seconds. Order
 * reverses from round to round.
 *
 *   node --import tsx bench/intake-cadence.ts [--rounds 3] [--seconds 40] [--warmup 10]
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, openSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MEDIA_FD } from '../src/capture/pipeline-argv.ts';
import { runCommand } from '../src/system/run-command.ts';
import { runReaderRounds } from './lib/reader-rounds.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '40' },
    warmup: { type: 'string', default: '10' },
  },
});
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const READER_FD = 3;

// Each reader counts its reads and prints the count when it ends (SIGTERM).
const ON_EVERY_FRAME = `const net = require('node:net'); let reads = 0;
new net.Socket({ fd: ${READER_FD}, readable: true, onread: { buffer: Buffer.alloc(65536), callback: () => { reads++; } } });
process.on('SIGTERM', () => { console.log(reads); process.exit(0); });`;
const onTimer = (
  ms: number,
) => `const fs = require('node:fs'); let reads = 0; const buffer = Buffer.alloc(65536);
setInterval(() => {
  for (;;) {
    let bytes;
    try { bytes = fs.readSync(${READER_FD}, buffer); } catch (error) { if (error.code === 'EAGAIN') return; throw error; }
    if (bytes === 0) process.exit(0);
    reads++;
  }
}, ${ms});
process.on('SIGTERM', () => { console.log(reads); process.exit(0); });`;
const READERS: Record<string, string> = {
  'every-frame': ON_EVERY_FRAME,
  'timer-333ms': onTimer(333),
  'timer-200ms': onTimer(200),
};

/** A FIFO opened at both ends (the read end non-blocking) and unlinked, as media-fifo.ts does. */
async function fifo(): Promise<{ readFd: number; writeFd: number }> {
  const path = join(tmpdir(), `.intake-cadence-${process.pid}`);
  const made = await runCommand('mkfifo', ['-m', '600', path], { timeoutMs: 5000 });
  if (made.exitCode !== 0) throw new Error(`mkfifo ${path} failed: ${made.stderr.trim()}`);
  try {
    const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    return { readFd, writeFd: openSync(path, constants.O_WRONLY) };
  } finally {
    unlinkSync(path);
  }
}

/** The reader with the FIFO's read end as its fd READER_FD, gst with the write end as fd MEDIA_FD. */
async function start(name: string, argv: string[], display: string) {
  const { readFd, writeFd } = await fifo();
  const reader = spawn(process.execPath, ['-e', READERS[name]!], {
    stdio: ['ignore', 'pipe', 'inherit', readFd],
  });
  const stdio: Array<'ignore' | number> = Array.from({ length: MEDIA_FD + 1 }, () => 'ignore');
  stdio[MEDIA_FD] = writeFd;
  const gst = spawn('gst-launch-1.0', argv, { stdio, env: { ...process.env, DISPLAY: display } });
  closeSync(readFd); // both ends live in the children only
  closeSync(writeFd);
  return { reader, gst };
}

await runReaderRounds({
  bench: 'intake-cadence',
  command: `node --import tsx bench/intake-cadence.ts --rounds ${ROUNDS} --seconds ${SECONDS} --warmup ${WARMUP}`,
  readers: Object.keys(READERS),
  rounds: ROUNDS,
  window: { warmupSeconds: WARMUP, seconds: SECONDS },
  start,
});
