/**
 * Soak: the real supervisor (`desktop-streamer run` on the Xorg dummy rig, default config, x264 on
 * this machine) left streaming for N minutes — by default the built service (`npm run build` first)
 * with the environment its systemd unit gives it (LOG_LEVEL=info, MALLOC_ARENA_MAX=2), with the light load it has in production — one
 * player-like viewer (playlist every segment_duration, each new segment fetched) and a Prometheus
 * scrape of /metrics every 15 s. Every --interval seconds: CPU seconds and RSS of the supervisor's
 * own node process and of its gst-launch-1.0 child, from /proc. A CSV row is appended per sample
 * (partial runs keep their data) and a JSON summary is written at the end.
 *
 *   node --import tsx bench/soak.ts [--minutes 60] [--interval 30] [--warmup 30] [--source]
 *                                   [--no-viewer] [--no-scrape] [--scene static|busy] [--viewer plain|ll]
 *
 * --scene busy covers the second monitor with full-motion content (ffplay of lavfi testsrc2 at
 * 24 fps, as bench/capture-cost.ts), so the pipeline sends ≈ 2 Mbit/s instead of ≈ 0.3.
 * --nice N gives the supervisor, its gst child and this process nice value N (see bench/viewers.ts).
 * --viewer ll makes the one viewer a Low-Latency HLS one (blocking reloads, every part fetched,
 * lib/ll-viewer.ts) instead of the plain-HLS poller.
 *
 * --source runs the TypeScript sources under tsx instead of dist/. Sampling starts --warmup
 * seconds after the first segment, so start-up does not count. --repo DIR runs the supervisor of
 * another checkout (built there), e.g. a `git worktree` of an older commit as the baseline.
 *
 * Output: bench/results/soak-<timestamp>.{csv,jsonl} (gitignored) and a summary on stdout.
 */
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { startRig } from '../test/helpers/rig.ts';
import { startStack } from '../test/helpers/stack.ts';
import { startBusyScene } from './lib/capture.ts';
import { endGracefully } from './lib/children.ts';
import { startLlViewers } from './lib/ll-viewer.ts';
import { loadAverage, machineBusySeconds, type ProcSample, setNiceTree, tryReadProc } from './lib/proc.ts';
import { RESULTS_DIR, resultStamp, writeResults } from './lib/results.ts';
import { MiB, median, round, slope } from './lib/stats.ts';
import { startViewers } from './lib/viewer.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    interval: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '30' },
    source: { type: 'boolean', default: false },
    repo: { type: 'string' },
    'no-viewer': { type: 'boolean', default: false },
    'no-scrape': { type: 'boolean', default: false },
    scene: { type: 'string', default: 'static' },
    viewer: { type: 'string', default: 'plain' },
    nice: { type: 'string' },
  },
});
if (args.scene !== 'static' && args.scene !== 'busy')
  throw new Error(`--scene: unknown "${args.scene}"; allowed: static, busy`);
if (args.viewer !== 'plain' && args.viewer !== 'll')
  throw new Error(`--viewer: unknown "${args.viewer}"; allowed: plain, ll`);
const MINUTES = Number(args.minutes);
const INTERVAL_S = Number(args.interval);
const WARMUP_S = Number(args.warmup);
const SCRAPE_INTERVAL_MS = 15_000;
if (!(MINUTES > 0) || !(INTERVAL_S > 0) || !(WARMUP_S >= 0))
  throw new Error(
    `--minutes and --interval must be > 0 and --warmup >= 0, got ${MINUTES}, ${INTERVAL_S}, ${WARMUP_S}`,
  );
const BUILT = !args.source;
const REPO = args.repo ?? new URL('..', import.meta.url).pathname;
if (BUILT && !existsSync(`${REPO}/dist/cli/index.js`))
  throw new Error(
    `${REPO}/dist/cli/index.js is missing: run \`npm run build\` there first (or pass --source)`,
  );

mkdirSync(RESULTS_DIR, { recursive: true });
const stamp = resultStamp();
const csvPath = `${RESULTS_DIR}soak-${stamp}.csv`;

interface Row {
  t_s: number;
  supervisor_cpu_s: number;
  supervisor_rss_mib: number;
  gst_pid: number | null;
  gst_cpu_s: number | null;
  gst_rss_mib: number | null;
  load1: number;
  machine_busy_s: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const rig = await startRig();
const scenePlayer = args.scene === 'busy' ? await startBusyScene(rig.display) : null;
const stack = await startStack({
  rig,
  built: BUILT,
  repo: REPO,
  // As systemd/desktop-streamer.service runs it.
  env: { LOG_LEVEL: 'info', MALLOC_ARENA_MAX: '2' },
});
const supervisorPid = stack.process.pid as number;
// --nice N: the supervisor and its gst child get nice N (see bench/viewers.ts), and so does this
// process, which runs the viewer and the scrape.
if (args.nice !== undefined) {
  setNiceTree(supervisorPid, Number(args.nice));
  setNiceTree(process.pid, Number(args.nice));
}
let stopping = false;
const cleanups: Array<() => Promise<void> | void> = [];
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  for (const cleanup of cleanups.reverse()) await cleanup();
  await stack.stop();
  if (scenePlayer) await endGracefully(scenePlayer, 3000);
  await rig.stop();
};
process.once('SIGINT', () => void shutdown().then(() => process.exit(130)));
process.once('SIGTERM', () => void shutdown().then(() => process.exit(143)));

try {
  await stack.waitForPlaylist((text) => text.includes('.ts'), 60_000);
  const viewers =
    args['no-viewer'] || args.viewer !== 'plain'
      ? null
      : startViewers({ baseUrl: stack.baseUrl, count: 1, pollMs: 2000 });
  if (viewers) cleanups.push(() => viewers.stop());
  const llViewers =
    args['no-viewer'] || args.viewer !== 'll'
      ? null
      : startLlViewers({ baseUrl: stack.baseUrl, count: 1, spreadMs: 0 });
  if (llViewers) cleanups.push(() => llViewers.stop());
  if (!args['no-scrape']) {
    const timer = setInterval(() => {
      void fetch(`${stack.baseUrl}/metrics`)
        .then((r) => r.arrayBuffer())
        .catch(() => {});
    }, SCRAPE_INTERVAL_MS);
    cleanups.push(() => clearInterval(timer));
  }
  await sleep(WARMUP_S * 1000);

  writeFileSync(
    csvPath,
    'ts_s,supervisor_cpu_s,supervisor_rss_mib,gst_pid,gst_cpu_s,gst_rss_mib,load1,machine_busy_s\n',
  );
  const rows: Row[] = [];
  const gstPids = new Set<number>();
  const started = performance.now();
  const end = started + MINUTES * 60_000;
  for (;;) {
    const sup = tryReadProc(supervisorPid);
    if (!sup) throw new Error(`supervisor pid ${supervisorPid} is gone`);
    const gstPid = stack.pipelinePid();
    const gst: ProcSample | null = gstPid === null ? null : tryReadProc(gstPid);
    if (gstPid !== null) gstPids.add(gstPid);
    const row: Row = {
      t_s: round((performance.now() - started) / 1000, 1),
      supervisor_cpu_s: sup.cpuSeconds,
      supervisor_rss_mib: round(sup.rssBytes / MiB, 1),
      gst_pid: gstPid,
      gst_cpu_s: gst?.cpuSeconds ?? null,
      gst_rss_mib: gst ? round(gst.rssBytes / MiB, 1) : null,
      load1: loadAverage()[0],
      machine_busy_s: round(machineBusySeconds().busy, 1),
    };
    rows.push(row);
    appendFileSync(csvPath, `${Object.values(row).join(',')}\n`);
    if (performance.now() >= end) break;
    await sleep(Math.min(INTERVAL_S * 1000, end - performance.now()));
  }

  await llViewers?.stop(); // its missed-part count is final once it stopped
  const first = rows[0] as Row;
  const last = rows.at(-1) as Row;
  const wall = last.t_s - first.t_s;
  // Growth after warm-up: slope over the second half, so start-up allocation does not count as a leak.
  const half = rows.slice(Math.floor(rows.length / 2));
  const perHour = (key: 'supervisor_rss_mib' | 'gst_rss_mib') =>
    round(
      slope(
        half.filter((r) => r[key] !== null).map((r) => r.t_s / 3600),
        half.filter((r) => r[key] !== null).map((r) => r[key] as number),
      ),
      2,
    );
  const sameGst = gstPids.size === 1;
  const summary = {
    command: `node --import tsx bench/soak.ts --minutes ${MINUTES} --interval ${INTERVAL_S} --warmup ${WARMUP_S}${BUILT ? '' : ' --source'}${args.repo ? ` --repo ${args.repo}` : ''}${args['no-viewer'] ? ' --no-viewer' : ''}${args['no-scrape'] ? ' --no-scrape' : ''} --scene ${args.scene} --viewer ${args.viewer}${args.nice !== undefined ? ` --nice=${args.nice}` : ''}`,
    scene: args.scene,
    supervisor_entry: `${REPO.replace(/\/$/, '')}/${BUILT ? 'dist/cli/index.js' : 'src/cli/index.ts under tsx'}`,
    minutes: round(wall / 60, 1),
    samples: rows.length,
    viewer: viewers
      ? {
          segments_fetched: viewers.stats.fetches.length,
          errors: viewers.stats.errors.length,
          first_errors: viewers.stats.errors.slice(0, 3),
        }
      : llViewers
        ? {
            kind: 'll',
            parts_fetched: llViewers.stats.partsFetched,
            missed_parts: llViewers.stats.missedParts,
            statuses: llViewers.stats.statuses,
            errors: llViewers.stats.errors.length,
          }
        : null,
    scrape_every_s: args['no-scrape'] ? null : SCRAPE_INTERVAL_MS / 1000,
    pipeline_restarts: gstPids.size - 1,
    supervisor: {
      rss_start_mib: first.supervisor_rss_mib,
      rss_end_mib: last.supervisor_rss_mib,
      rss_max_mib: Math.max(...rows.map((r) => r.supervisor_rss_mib)),
      rss_median_mib: median(rows.map((r) => r.supervisor_rss_mib)),
      rss_growth_mib: round(last.supervisor_rss_mib - first.supervisor_rss_mib, 1),
      rss_slope_second_half_mib_per_h: perHour('supervisor_rss_mib'),
      cpu_percent_of_one_core: round((100 * (last.supervisor_cpu_s - first.supervisor_cpu_s)) / wall, 2),
      cpu_percent_second_half: round(
        (100 * (last.supervisor_cpu_s - (half[0] as Row).supervisor_cpu_s)) /
          (last.t_s - (half[0] as Row).t_s),
        2,
      ),
    },
    gst: sameGst
      ? {
          rss_start_mib: first.gst_rss_mib,
          rss_end_mib: last.gst_rss_mib,
          rss_growth_mib: round((last.gst_rss_mib ?? 0) - (first.gst_rss_mib ?? 0), 1),
          rss_slope_second_half_mib_per_h: perHour('gst_rss_mib'),
          cpu_percent_of_one_core: round((100 * ((last.gst_cpu_s ?? 0) - (first.gst_cpu_s ?? 0))) / wall, 2),
        }
      : { note: `pipeline restarted (${gstPids.size} pids): per-pid figures in the CSV` },
    machine: {
      cores: availableParallelism(),
      busy_percent_of_all_cores: round(
        (100 * (last.machine_busy_s - first.machine_busy_s)) / wall / availableParallelism(),
        1,
      ),
      load1_median: median(rows.map((r) => r.load1)),
    },
    csv: csvPath,
  };
  writeResults('soak', summary, rows, stamp);
  console.log(JSON.stringify(summary, null, 2));
} finally {
  await shutdown();
}
