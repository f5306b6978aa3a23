/**
 * Scrape latency of GET /metrics on a populated registry, over real HTTP on loopback, plus the
 * CPU and memory the scrapes cost this process.
 *
 *   node --import tsx bench/metrics-scrape.ts [scrapes=500]
 *
 * Populated = every collector live (real host via /proc + statfs, the real /proc entry
 * of a child process, the fixture amdgpu sysfs tree), segment histograms fed, and HTTP series for
 * 40 route templates × 3 status codes.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG } from '../src/config/schema.ts';
import { segment } from '../test/metrics/fakes.ts';
import { startMetricsServer } from '../test/metrics/server.ts';

const SCRAPES = Number(process.argv[2] ?? 500);
const FIXTURE_SYSFS = fileURLToPath(new URL('../test/fixtures/sysfs', import.meta.url));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function measure(scrape: () => Promise<number>) {
  const latenciesMs: number[] = [];
  let bytes = 0;
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  for (let i = 0; i < SCRAPES; i++) {
    const started = performance.now();
    bytes = await scrape();
    latenciesMs.push(performance.now() - started);
  }
  const wallMs = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    bytes,
    stats: {
      p50_ms: round(percentile(sorted, 50)),
      p90_ms: round(percentile(sorted, 90)),
      p99_ms: round(percentile(sorted, 99)),
      max_ms: round(sorted.at(-1) ?? Number.NaN),
      cpu_ms_per_scrape: round(cpuMs / SCRAPES),
      cpu_share_while_scraping: round(cpuMs / wallMs),
    },
  };
}

function round(value: number): number {
  return Number(value.toFixed(2));
}

const child = spawn('sleep', ['600'], { stdio: 'ignore' });
await once(child, 'spawn');
const server = await startMetricsServer({ config: { ...DEFAULT_CONFIG, sysfs_root: FIXTURE_SYSFS } });
try {
  server.supervisor.current = {
    ...server.supervisor.current,
    pipeline: { ...server.supervisor.current.pipeline, pid: child.pid! },
  };
  for (let i = 0; i < 1000; i++)
    server.hls.emit(segment(i, { durationSeconds: 1.8 + (i % 5) * 0.1, bytes: 200_000 + i * 500 }));
  // HTTP series: /api/items/:id is one template however many ids; add 40 distinct templates the
  // way a larger router would, each with 200/404/500.
  for (let i = 0; i < 200; i++) await (await fetch(`${server.url}/api/items/${i}`)).text();
  for (let i = 0; i < 40; i++) await (await fetch(`${server.url}/unknown/${i}`)).text();

  // Warm-up (JIT, first reads).
  for (let i = 0; i < 20; i++) await (await fetch(`${server.url}/metrics`)).text();

  const overHttp = await measure(async () => (await (await fetch(`${server.url}/metrics`)).text()).length);
  const inProcess = await measure(async () => (await server.metrics.render()).length);
  const lastScrape = await server.metrics.render();
  const collectorMs = [
    ...lastScrape.matchAll(
      /^desktop_streamer_scrape_collector_duration_seconds\{collector="([^"]+)"\} (\S+)$/gm,
    ),
  ]
    .map(([, name, seconds]) => `${name}=${(Number(seconds) * 1000).toFixed(2)}`)
    .join(' ');
  const series = lastScrape.split('\n').filter((line) => line && !line.startsWith('#')).length;
  const memory = process.memoryUsage();
  const result = {
    node: process.version,
    scrapes: SCRAPES,
    series,
    exposition_bytes: overHttp.bytes,
    /** GET /metrics over loopback HTTP; CPU includes the fetch client, which runs in this process too. */
    http: overHttp.stats,
    /** metrics.render() alone: the collectors and the text serialisation. */
    render: inProcess.stats,
    rss_mib: Number((memory.rss / 2 ** 20).toFixed(1)),
    heap_used_mib: Number((memory.heapUsed / 2 ** 20).toFixed(1)),
    last_scrape_collector_ms: collectorMs,
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  child.kill('SIGKILL');
  await server.close();
}
