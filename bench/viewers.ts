/**
 * Plain-HLS and Low-Latency HLS viewers AT ONCE on loopback against the real supervisor
 * (`desktop-streamer run` on the rig, default config: x264, 15 fps, 2 s segments, 3-frame parts,
 * static scene: the blue second monitor with its clock):
 * - --plain N (500) viewers like a plain-HLS player (lib/viewer.ts): poll the playlist every
 *   target duration (2 s), start at the newest segment, fetch every new segment once, in order;
 * - --ll N (100) viewers like hls.js in low-latency mode (lib/ll-viewer.ts): blocking reloads
 *   `?_HLS_msn=&_HLS_part=` for the part after the last one listed, every new part fetched once.
 * Each kind runs in its own client process (so one kind's client CPU does not delay the other),
 * for --seconds (60), joins spread over 2 s. Counted: missed segments (gaps in each plain viewer's
 * sequence numbers), missed parts (listed, never fetched), every HTTP status (5xx, 503 = blocking
 * reload timed out), latencies; the supervisor's CPU and RSS (from /proc every second) and its gst
 * child's CPU over the load window, the client processes' CPU, the machine's load.
 *
 *   node --import tsx bench/viewers.ts [--plain 500] [--ll 100] [--seconds 60] [--rounds 1] [--source]
 *                                      [--repo DIR] [--nice N]
 *
 * --nice N gives the supervisor, its gst child and the two client processes nice value N (e.g.
 * -10: on a shared machine with a load far above its cores, otherwise everything measured is
 * just starved).
 *
 * By default the built supervisor is run (as its systemd unit does): `npm run build` first, or
 * --repo DIR (a built copy), or --source to run the TypeScript under tsx.
 * Output: a Markdown table on stdout, bench/results/viewers-<timestamp>.jsonl.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startStack } from '../test/helpers/stack.ts';
import { startLlViewers } from './lib/ll-viewer.ts';
import { cpuSecondsOf, loadAverage, machineBusySeconds, setNiceTree, tryReadProc } from './lib/proc.ts';
import { writeResults } from './lib/results.ts';
import { MiB, median, percentile, round } from './lib/stats.ts';
import { startViewers } from './lib/viewer.ts';

const { values: args } = parseArgs({
  options: {
    plain: { type: 'string', default: '500' },
    ll: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '1' },
    source: { type: 'boolean', default: false },
    repo: { type: 'string' },
    /** Nice value for the supervisor (and its gst child) and the client processes, e.g. -10 on a crowded machine. */
    nice: { type: 'string' },
    // internal: run as one client process
    client: { type: 'string' },
    'base-url': { type: 'string' },
  },
});
const PLAIN = Number(args.plain);
const LL = Number(args.ll);
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
for (const [name, value] of [
  ['--plain', PLAIN],
  ['--ll', LL],
] as const) {
  if (!(Number.isInteger(value) && value >= 0 && value <= 2000))
    throw new RangeError(`${name} must be an integer 0..2000, got ${value}`);
}
if (!(SECONDS > 0 && SECONDS <= 600)) throw new RangeError(`--seconds must be 1..600, got ${SECONDS}`);
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1 && ROUNDS <= 10))
  throw new RangeError(`--rounds must be 1..10, got ${ROUNDS}`);
const SEGMENT_S = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pct = (values: number[]) => ({
  p50: round(percentile(values, 50), 1),
  p99: round(percentile(values, 99), 1),
  max: round(values.length ? Math.max(...values) : Number.NaN, 1),
});

/** One client process: N viewers of one kind for SECONDS, then a JSON line on stdout. */
async function client(kind: string, baseUrl: string, count: number): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  if (kind === 'plain') {
    const viewers = startViewers({ baseUrl, count, pollMs: SEGMENT_S * 1000, requestTimeoutMs: 15_000 });
    await sleep(SECONDS * 1000);
    await viewers.stop();
    const { fetches, playlistLatenciesMs, errors } = viewers.stats;
    // Missed: gaps in each viewer's fetched sequence numbers.
    const byViewer = new Map<number, number[]>();
    for (const f of fetches) {
      const seq = Number(/seg-(\d{9})\.ts$/.exec(f.uri)?.[1]);
      byViewer.set(f.viewer, [...(byViewer.get(f.viewer) ?? []), seq]);
    }
    let missed = 0;
    for (const seqs of byViewer.values()) {
      seqs.sort((a, b) => a - b);
      for (let i = 1; i < seqs.length; i++) missed += Math.max(0, seqs[i]! - seqs[i - 1]! - 1);
    }
    const status5xx = errors.filter((e) => / HTTP 5\d\d/.test(e)).length;
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    console.log(
      JSON.stringify({
        kind,
        viewers: count,
        segments_fetched: fetches.length,
        segments_per_viewer: round(fetches.length / count, 1),
        viewers_with_segments: byViewer.size,
        missed_segments: missed,
        errors: errors.length,
        http_5xx: status5xx,
        first_errors: errors.slice(0, 5),
        mbit_per_s: round((fetches.reduce((s, f) => s + f.bytes, 0) * 8) / 1e6 / wall, 1),
        segment_ms: pct(fetches.map((f) => f.latencyMs)),
        listed_to_delivered_ms: pct(fetches.map((f) => f.deliveredAtMs - f.listedAtMs)),
        playlist_ms: pct(playlistLatenciesMs),
        client_cpu_percent: round((100 * (cpu.user + cpu.system)) / 1e6 / wall, 1),
      }),
    );
  } else {
    const viewers = startLlViewers({ baseUrl, count, spreadMs: SEGMENT_S * 1000 });
    await sleep(SECONDS * 1000);
    await viewers.stop();
    const s = viewers.stats;
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const http5xx = Object.entries(s.statuses)
      .filter(([status]) => status.startsWith('5'))
      .reduce((sum, [, n]) => sum + n, 0);
    console.log(
      JSON.stringify({
        kind,
        viewers: count,
        parts_fetched: s.partsFetched,
        parts_per_viewer: round(s.partsFetched / count, 1),
        missed_parts: s.missedParts,
        cut_off_at_stop: s.cutOffAtStop,
        missed_segments: s.missedSegments,
        statuses: s.statuses,
        http_5xx: http5xx,
        reload_timeouts_503: s.reloadTimeouts,
        reloads: s.reloads,
        errors: s.errors.length,
        first_errors: s.errors.slice(0, 5),
        mbit_per_s: round((s.bytes * 8) / 1e6 / wall, 1),
        reload_wait_ms: pct(s.reloadWaitMs),
        part_ms: pct(s.partLatencyMs),
        listed_to_delivered_ms: pct(s.listedToDeliveredMs),
        part_end_to_delivered_ms: pct(s.behindLiveMs),
        client_cpu_percent: round((100 * (cpu.user + cpu.system)) / 1e6 / wall, 1),
      }),
    );
  }
}

function runClient(kind: string, baseUrl: string, count: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        new URL(import.meta.url).pathname,
        '--client',
        kind,
        '--base-url',
        baseUrl,
        `--${kind}`,
        String(count),
        '--seconds',
        String(SECONDS),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (args.nice !== undefined && child.pid) setNiceTree(child.pid, Number(args.nice));
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), (SECONDS + 60) * 1000);
    child.once('exit', (code) => {
      clearTimeout(killer);
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as Record<string, unknown>);
      } catch {
        reject(new Error(`${kind} client exited ${code} without a result: ${out.slice(-500)}`));
      }
    });
  });
}

async function main(): Promise<void> {
  const built = !args.source;
  const repo = args.repo ?? new URL('..', import.meta.url).pathname;
  if (built && !existsSync(`${repo}/dist/cli/index.js`))
    throw new Error(`${repo}/dist/cli/index.js is missing: build it (or pass --source)`);
  const command = `node --import tsx bench/viewers.ts --plain ${PLAIN} --ll ${LL} --seconds ${SECONDS} --rounds ${ROUNDS}${args.source ? ' --source' : ''}${args.repo ? ` --repo ${args.repo}` : ''}${args.nice !== undefined ? ` --nice=${args.nice}` : ''}`;
  const stack = await startStack({
    built,
    repo,
    config: { segment_duration: SEGMENT_S },
    env: { LOG_LEVEL: 'info', MALLOC_ARENA_MAX: '2' },
  });
  const results: Record<string, unknown>[] = [];
  try {
    await stack.waitForPlaylist((text) => (text.match(/^seg-\d+\.ts$/gm) ?? []).length >= 3, 60_000);
    const supervisorPid = stack.process.pid as number;
    if (args.nice !== undefined) setNiceTree(supervisorPid, Number(args.nice));
    for (let round_ = 1; round_ <= ROUNDS; round_++) {
      const gstPid = stack.pipelinePid();
      const restartsBefore = stack.logs.filter((r) => r.msg === 'restarting the pipeline').length;
      const before = {
        supervisor: cpuSecondsOf([supervisorPid]),
        gst: gstPid ? cpuSecondsOf([gstPid]) : 0,
        machine: machineBusySeconds(),
        at: performance.now(),
        load: loadAverage(),
      };
      const rss: number[] = [];
      const load1: number[] = [];
      const sampler = setInterval(() => {
        const sample = tryReadProc(supervisorPid);
        if (sample) rss.push(sample.rssBytes / MiB);
        load1.push(loadAverage()[0]);
      }, 1000);
      const clients = await Promise.all([
        PLAIN > 0 ? runClient('plain', stack.baseUrl, PLAIN) : null,
        LL > 0 ? runClient('ll', stack.baseUrl, LL) : null,
      ]);
      clearInterval(sampler);
      const wall = (performance.now() - before.at) / 1000;
      const machine = machineBusySeconds();
      const result = {
        round: round_,
        seconds: round(wall, 1),
        plain: clients[0],
        ll: clients[1],
        supervisor: {
          cpu_percent_of_one_core: round(
            (100 * (cpuSecondsOf([supervisorPid]) - before.supervisor)) / wall,
            1,
          ),
          rss_median_mib: round(median(rss), 1),
          rss_max_mib: round(Math.max(...rss), 1),
        },
        gst_cpu_percent: gstPid ? round((100 * (cpuSecondsOf([gstPid]) - before.gst)) / wall, 1) : null,
        pipeline_restarts:
          stack.logs.filter((r) => r.msg === 'restarting the pipeline').length - restartsBefore,
        restarts: stack.logs
          .filter((r) => r.msg === 'restarting the pipeline')
          .slice(restartsBefore)
          .map((r) => `${String(r.reason)}: ${String(r.detail)}`),
        machine_busy_percent_of_2_cores: round(
          (100 * (machine.busy - before.machine.busy)) / (machine.total - before.machine.total),
          1,
        ),
        load_average_before: before.load,
        load1_median: median(load1),
      };
      results.push(result);
      console.error(JSON.stringify(result));
      await sleep(5000); // let sockets close before the next round
    }
  } finally {
    await stack.stop();
  }
  writeResults('viewers', { command, at: new Date().toISOString() }, results);
  console.log(command);
  console.log(
    '| round | plain: segments/viewer, missed, 5xx, errors | plain segment p50/p99/max ms | LL: parts/viewer, missed (+ cut off at stop), 5xx (503), errors | LL reload wait p50/p99 ms | LL part p50/p99/max ms | LL part end → delivered p50/p99 ms | Mbit/s plain + LL | supervisor CPU % of 1 core | RSS median/max MiB | gst CPU % | client CPU % plain/LL | machine busy % | load1 |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  // biome-ignore lint/suspicious/noExplicitAny: printing the records built above
  for (const r of results as Array<Record<string, any>>) {
    const p = r.plain ?? {};
    const l = r.ll ?? {};
    console.log(
      `| ${r.round} | ${p.segments_per_viewer}, ${p.missed_segments}, ${p.http_5xx}, ${p.errors} | ${p.segment_ms?.p50} / ${p.segment_ms?.p99} / ${p.segment_ms?.max} | ${l.parts_per_viewer}, ${l.missed_parts} (+ ${l.cut_off_at_stop}), ${l.http_5xx} (${l.reload_timeouts_503}), ${l.errors} | ${l.reload_wait_ms?.p50} / ${l.reload_wait_ms?.p99} | ${l.part_ms?.p50} / ${l.part_ms?.p99} / ${l.part_ms?.max} | ${l.part_end_to_delivered_ms?.p50} / ${l.part_end_to_delivered_ms?.p99} | ${p.mbit_per_s} + ${l.mbit_per_s} | ${r.supervisor.cpu_percent_of_one_core} | ${r.supervisor.rss_median_mib} / ${r.supervisor.rss_max_mib} | ${r.gst_cpu_percent} | ${p.client_cpu_percent} / ${l.client_cpu_percent} | ${r.machine_busy_percent_of_2_cores} | ${r.load1_median} |`,
    );
  }
}

if (args.client) await client(args.client, args['base-url'] ?? '', args.client === 'plain' ? PLAIN : LL);
else await main();
