/**
 * N concurrent player-like viewers on loopback against the real supervisor while it streams the
 * rig (static scene: the blue second monitor with its clock): each polls the playlist every
 * segment duration and fetches every new segment (see lib/viewer.ts). For each N: segment
 * delivery latency (request → last byte, and listed → delivered), playlist latency, errors, the
 * CPU of the supervisor, its gst child and this client process, and the stream's cadence as
 * viewer 0 saw it (EXTINF durations, gaps between segment listings). Anchor: the same viewers
 * against nginx serving the same output directory while the same supervisor keeps writing it.
 *
 *   node --import tsx bench/viewers.ts [--counts 1,10,100,500] [--seconds 40] [--servers supervisor,nginx]
 */
import { parseArgs } from 'node:util';
import { startStack } from '../test/helpers/stack.ts';
import { startNginx } from './lib/nginx.ts';
import { childPids, cpuSecondsOf, loadAverage, machineBusySeconds } from './lib/proc.ts';
import { writeResults } from './lib/results.ts';
import { median, percentile, round } from './lib/stats.ts';
import { startViewers } from './lib/viewer.ts';

const { values: args } = parseArgs({
  options: {
    counts: { type: 'string', default: '1,10,100,500' },
    seconds: { type: 'string', default: '40' },
    servers: { type: 'string', default: 'supervisor,nginx' },
  },
});
const COUNTS = args.counts.split(',').map(Number);
const SECONDS = Number(args.seconds);
const SERVERS = args.servers.split(',');
for (const server of SERVERS) {
  if (server !== 'supervisor' && server !== 'nginx')
    throw new Error(`--servers: unknown "${server}"; allowed: supervisor, nginx`);
}
if (COUNTS.some((n) => !(n > 0 && n <= 1000)))
  throw new Error(`--counts: each must be 1..1000, got ${args.counts}`);
const SEGMENT_S = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const stack = await startStack({ config: { segment_duration: SEGMENT_S } });
const nginx = SERVERS.includes('nginx')
  ? await startNginx(stack.outputDir).catch(async (e) => {
      await stack.stop();
      throw e;
    })
  : null;
const results: Record<string, unknown>[] = [];
try {
  await stack.waitForPlaylist((text) => (text.match(/\.ts/g) ?? []).length >= 3, 60_000);
  const supervisorPid = stack.process.pid as number;
  for (const server of SERVERS) {
    const baseUrl = server === 'nginx' && nginx ? nginx.baseUrl : stack.baseUrl;
    const serverPids = server === 'nginx' && nginx ? [nginx.masterPid, ...childPids(nginx.masterPid)] : [];
    for (const count of COUNTS) {
      const gstPid = stack.pipelinePid();
      const before = {
        supervisor: cpuSecondsOf([supervisorPid]),
        nginx: cpuSecondsOf(serverPids),
        gst: gstPid ? cpuSecondsOf([gstPid]) : 0,
        client: process.cpuUsage(),
        machine: machineBusySeconds(),
        at: performance.now(),
      };
      const viewers = startViewers({ baseUrl, count, pollMs: SEGMENT_S * 1000 });
      await sleep(SECONDS * 1000);
      await viewers.stop();
      const wall = (performance.now() - before.at) / 1000;
      const client = process.cpuUsage(before.client);
      const machine = machineBusySeconds();
      const { fetches, playlistLatenciesMs, errors, listings } = viewers.stats;
      const latencies = fetches.map((f) => f.latencyMs);
      const listedToDelivered = fetches.map((f) => f.deliveredAtMs - f.listedAtMs);
      // The first listing holds the whole window at once; cadence counts from the second poll on.
      const fresh = listings.filter((l) => l.firstSeenMs > (listings[0]?.firstSeenMs ?? 0));
      const durations = fresh.map((l) => l.duration);
      const gaps = fresh.slice(1).map((l, i) => (l.firstSeenMs - (fresh[i]?.firstSeenMs ?? 0)) / 1000);
      const pdtGaps = fresh
        .slice(1)
        .map((l, i) =>
          l.programDateMs !== null && fresh[i]?.programDateMs != null
            ? (l.programDateMs - (fresh[i]?.programDateMs as number)) / 1000
            : Number.NaN,
        )
        .filter((g) => Number.isFinite(g));
      const expectedPerViewer = (SECONDS - SEGMENT_S) / SEGMENT_S;
      const result = {
        server,
        viewers: count,
        seconds: round(wall, 1),
        segments_fetched: fetches.length,
        segments_per_viewer: round(fetches.length / count, 1),
        segments_expected_per_viewer: round(expectedPerViewer, 1),
        mbit_per_s: round((fetches.reduce((s, f) => s + f.bytes, 0) * 8) / 1e6 / wall, 1),
        segment_ms: {
          p50: round(percentile(latencies, 50)),
          p90: round(percentile(latencies, 90)),
          p99: round(percentile(latencies, 99)),
          max: round(Math.max(...latencies)),
        },
        listed_to_delivered_ms: {
          p50: round(percentile(listedToDelivered, 50)),
          p99: round(percentile(listedToDelivered, 99)),
        },
        playlist_ms: {
          p50: round(percentile(playlistLatenciesMs, 50)),
          p99: round(percentile(playlistLatenciesMs, 99)),
        },
        errors: errors.length,
        first_errors: errors.slice(0, 3),
        cadence: {
          new_segments: fresh.length,
          extinf_median_s: round(median(durations), 3),
          extinf_min_s: round(Math.min(...durations), 3),
          extinf_max_s: round(Math.max(...durations), 3),
          listing_gap_max_s: round(Math.max(...gaps), 2),
          program_date_gap_max_s: pdtGaps.length ? round(Math.max(...pdtGaps), 3) : null,
        },
        cpu_percent_of_one_core: {
          supervisor: round((100 * (cpuSecondsOf([supervisorPid]) - before.supervisor)) / wall, 1),
          nginx: serverPids.length
            ? round((100 * (cpuSecondsOf(serverPids) - before.nginx)) / wall, 1)
            : null,
          gst: gstPid ? round((100 * (cpuSecondsOf([gstPid]) - before.gst)) / wall, 1) : null,
          client: round((100 * (client.user + client.system)) / 1e6 / wall, 1),
        },
        pipeline_restarted: stack.pipelinePid() !== gstPid,
        machine_busy_percent_of_2_cores: round(
          (100 * (machine.busy - before.machine.busy)) / (machine.total - before.machine.total),
          1,
        ),
        load1: loadAverage()[0],
      };
      results.push(result);
      console.error(JSON.stringify(result));
      await sleep(3000); // let sockets close before the next step
    }
  }
} finally {
  await nginx?.stop();
  await stack.stop();
}

const command = `node --import tsx bench/viewers.ts --counts ${COUNTS.join(',')} --seconds ${SECONDS} --servers ${SERVERS.join(',')}`;
writeResults('viewers', { command }, results);
console.log(command);
console.log(
  '| server | viewers | segment p50 ms | p99 ms | max ms | listed→delivered p50/p99 ms | playlist p50/p99 ms | errors | segs/viewer (expected) | Mbit/s | server CPU % | gst CPU % | client CPU % | EXTINF min/median/max s | max listing gap s | machine busy % |',
);
console.log(
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
);
// biome-ignore lint/suspicious/noExplicitAny: printing the records built above
for (const r of results as Array<Record<string, any>>) {
  const cpu = r.cpu_percent_of_one_core;
  console.log(
    `| ${r.server} | ${r.viewers} | ${r.segment_ms.p50} | ${r.segment_ms.p99} | ${r.segment_ms.max} | ${r.listed_to_delivered_ms.p50} / ${r.listed_to_delivered_ms.p99} | ${r.playlist_ms.p50} / ${r.playlist_ms.p99} | ${r.errors} | ${r.segments_per_viewer} (${r.segments_expected_per_viewer}) | ${r.mbit_per_s} | ${r.server === 'nginx' ? cpu.nginx : cpu.supervisor} (sup ${cpu.supervisor}) | ${cpu.gst} | ${cpu.client} | ${r.cadence.extinf_min_s} / ${r.cadence.extinf_median_s} / ${r.cadence.extinf_max_s} | ${r.cadence.listing_gap_max_s} | ${r.machine_busy_percent_of_2_cores} |`,
  );
}
