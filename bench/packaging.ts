import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { DEFAULT_CONFIG } from '../src/config/schema.ts';
import { nominalPartSeconds } from '../src/hls/low-latency.ts';
import { createHlsPublisher } from '../src/hls/publisher.ts';
import { LiveStream } from '../src/media/live-stream.ts';
import { TsFrameSplitter } from '../src/media/ts-frame-splitter.ts';
import { capturePlan } from '../test/fixtures/capture-plan.ts';
import { startRig } from '../test/helpers/rig.ts';
import { captureToFileArgs, startBusyScene } from './lib/capture.ts';
import { endGracefully, spawnMeasured } from './lib/children.ts';
import { loadAverage } from './lib/proc.ts';
import { RESULTS_DIR, writeResults } from './lib/results.ts';
import { probeVideo } from './lib/segments.ts';
import { median, round } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    record: { type: 'boolean', default: false },
    'record-seconds': { type: 'string', default: '60' },
    passes: { type: 'string', default: '7' },
    chunks: { type: 'string', default: '65536,1316' },
    inputs: { type: 'string', default: 'static,busy' },
  },
});
const FPS = DEFAULT_CONFIG.fps;
const SEGMENT_S = DEFAULT_CONFIG.segment_duration;
const PASSES = Number(args.passes);
const CHUNKS = args.chunks.split(',').map(Number);
const INPUTS = args.inputs.split(',');
if (!(Number.isInteger(PASSES) && PASSES >= 1 && PASSES <= 100))
  throw new RangeError('--passes must be 1..100');
if (CHUNKS.some((c) => !(Number.isInteger(c) && c >= 1)))
  throw new RangeError(`--chunks: positive integers, got ${args.chunks}`);
for (const input of INPUTS)
  if (input !== 'static' && input !== 'busy')
    throw new Error(`--inputs: unknown "${input}"; allowed: static, busy`);

const inputPath = (scene: string) => path.join(RESULTS_DIR, `packaging-input-${scene}.m2ts`);
const _sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The supervisor's capture argv (x264, defaults, no picture tap), `frames` long, into a file. */
function captureArgv(display: string, frames: number, file: string): string[] {
  const argv = captureToFileArgs(capturePlan({ display }), file);
  return argv.flatMap((arg) => (arg === 'show-pointer=false' ? [arg, `num-buffers=${frames}`] : [arg]));
}

async function record(): Promise<void> {
  const seconds = Number(args['record-seconds']);
  const rig = await startRig();
  try {
    for (const scene of INPUTS) {
      const player = scene === 'busy' ? await startBusyScene(rig.display) : null;
      try {
        const gst = await spawnMeasured(
          'gst-launch-1.0',
          captureArgv(rig.display, seconds * FPS, inputPath(scene)),
        );
        const timer = setTimeout(() => void endGracefully(gst, 5000), (seconds + 60) * 1000);
        const code = await gst.exited;
        clearTimeout(timer);
        if (code !== 0) throw new Error(`gst-launch-1.0 exited ${code}: ${gst.stderr()}`);
        console.error(`recorded ${inputPath(scene)}: ${statSync(inputPath(scene)).size} bytes`);
      } finally {
        if (player) await endGracefully(player, 3000);
      }
    }
  } finally {
    await rig.stop();
  }
}

type Stage = 'split' | 'package' | 'publish';

interface PassResult {
  input: string;
  stage: Stage;
  chunk: number;
  pass: number;
  cpu_ms: number;
  wall_ms: number;
  frames: number;
  parts: number;
  segments: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function runPass(
  input: string,
  data: Buffer,
  stage: Stage,
  chunk: number,
  pass: number,
): Promise<PassResult> {
  const dir = stage === 'publish' ? await mkdtemp(path.join(tmpdir(), 'ds-bench-packaging-')) : null;
  let clock = Date.UTC(2026, 11, 2);
  const publisher = dir
    ? createHlsPublisher({
        config: { ...DEFAULT_CONFIG, output_dir: dir },
        logger: pino({ level: 'silent' }),
        now: () => clock,
        diskUsage: async () => ({ usedPercent: 1 }),
      })
    : null;
  await publisher?.start();
  let parts = 0;
  let segments = 0;
  let frames = 0;
  const pending: Promise<unknown>[] = [];
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += chunk)
    chunks.push(data.subarray(offset, offset + chunk));
  const wall0 = performance.now();
  const cpu0 = cpuMs();
  if (stage === 'split') {
    const splitter = new TsFrameSplitter();
    for (const c of chunks) frames += splitter.push(c).length;
  } else {
    await publisher?.beginRun();
    const stream = new LiveStream({
      fps: FPS,
      partSeconds: nominalPartSeconds(FPS),
      segmentSeconds: SEGMENT_S,
      now: () => clock,
      onFrame: () => {
        frames++;
        clock += 1000 / FPS; // the publisher's clock follows the stream
      },
      onPart: (part) => {
        parts++;
        if (part.endsSegment) segments++;
        if (publisher) pending.push(publisher.publishPart(part));
      },
    });
    for (const c of chunks) stream.push(c);
    stream.end();
    if (publisher) {
      await publisher.endRun();
      await Promise.all(pending);
    }
  }
  const result = {
    input,
    stage,
    chunk,
    pass,
    cpu_ms: round(cpuMs() - cpu0, 1),
    wall_ms: round(performance.now() - wall0, 1),
    frames,
    parts,
    segments,
  };
  await publisher?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  return result;
}

async function bench(): Promise<void> {
  const command = `node --import tsx bench/packaging.ts --passes ${PASSES} --chunks ${CHUNKS.join(',')} --inputs ${INPUTS.join(',')}`;
  const load = loadAverage();
  const records: PassResult[] = [];
  const rows: Record<string, unknown>[] = [];
  for (const input of INPUTS) {
    const file = inputPath(input);
    if (!existsSync(file)) throw new Error(`${file} is missing: run with --record first`);
    const data = readFileSync(file);
    const info = probeVideo(data, FPS, file);
    // Warm-up (JIT) pass of each stage, not counted.
    for (const stage of ['split', 'package', 'publish'] as const)
      await runPass(input, data, stage, CHUNKS[0]!, 0);
    for (const chunk of CHUNKS) {
      for (const stage of ['split', 'package', 'publish'] as const) {
        const mine: PassResult[] = [];
        for (let pass = 1; pass <= PASSES; pass++) mine.push(await runPass(input, data, stage, chunk, pass));
        records.push(...mine);
        const cpu = median(mine.map((r) => r.cpu_ms));
        const row = {
          input,
          bytes: data.length,
          kbit_per_s: round((data.length * 8) / 1000 / info.streamSeconds, 0),
          stream_seconds: round(info.streamSeconds, 2),
          frames: mine[0]!.frames,
          ffprobe_frames: info.frames,
          parts: mine[0]!.parts,
          segments: mine[0]!.segments,
          stage,
          chunk,
          cpu_ms_median: round(cpu, 1),
          cpu_ms_all: mine.map((r) => r.cpu_ms),
          cpu_ms_per_stream_second: round(cpu / info.streamSeconds, 3),
          cpu_percent_of_one_core_live: round(cpu / info.streamSeconds / 10, 3),
          cpu_us_per_frame: round((cpu * 1000) / mine[0]!.frames, 1),
          wall_ms_median: round(median(mine.map((r) => r.wall_ms)), 1),
        };
        rows.push(row);
        console.error(JSON.stringify(row));
      }
    }
  }
  const path_ = writeResults(
    'packaging',
    { command, load_average: load, at: new Date().toISOString(), rows },
    records,
  );
  console.log(`${command}\nload average ${load.join(' ')} → ${loadAverage().join(' ')}\n`);
  console.log(
    '| input | kbit/s | frames (parts, segments) | stage | chunk B | CPU ms per pass (median of n) | CPU ms per s of stream | % of a core live | CPU µs per frame | wall ms per pass |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  // biome-ignore lint/suspicious/noExplicitAny: printing the rows built above
  for (const r of rows as Array<Record<string, any>>) {
    console.log(
      `| ${r.input} | ${r.kbit_per_s} | ${r.frames} (${r.parts}, ${r.segments}) | ${r.stage} | ${r.chunk} | ${r.cpu_ms_median} (${PASSES}) | ${r.cpu_ms_per_stream_second} | ${r.cpu_percent_of_one_core_live} | ${r.cpu_us_per_frame} | ${r.wall_ms_median} |`,
    );
  }
  console.log(`\nresults: ${path_}`);
}

if (args.record) await record();
else await bench();
