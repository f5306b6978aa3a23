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
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { MEDIA_FD } from '../src/capture/pipeline-argv.ts';
import { runReaderRounds } from './lib/reader-rounds.ts';

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

/** The reader, with gst writing its TS to fd MEDIA_FD, as under the supervisor: here the reader's stdin. */
async function start(name: string, argv: string[], display: string) {
  const [command, readerArgs] = READERS[name]!;
  const reader = spawn(command, readerArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
  const stdio: Array<'ignore' | Writable> = Array.from({ length: MEDIA_FD + 1 }, () => 'ignore');
  stdio[MEDIA_FD] = reader.stdin!;
  const gst = spawn('gst-launch-1.0', argv, { stdio, env: { ...process.env, DISPLAY: display } });
  reader.stdin!.destroy(); // the write end lives in gst only
  return { reader, gst };
}

await runReaderRounds({
  bench: 'intake-floor',
  command: `node --import tsx bench/intake-floor.ts --rounds ${ROUNDS} --seconds ${SECONDS} --warmup ${WARMUP}`,
  readers: Object.keys(READERS),
  rounds: ROUNDS,
  window: { warmupSeconds: WARMUP, seconds: SECONDS },
  start,
});
