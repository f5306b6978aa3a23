import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processCollector } from '../../../src/metrics/collectors/process.ts';
import {
  ProcParseError,
  parseStatCpuTicks,
  parseStatus,
  readProcessStats,
} from '../../../src/metrics/procfs.ts';
import { FakeSupervisor, recordingLogger } from '../fakes.ts';
import { registryWith, sampleValue, scrapeSamples } from '../samples.ts';

const FIXTURE_PROC = fileURLToPath(new URL('../fixtures/proc', import.meta.url));

function setup(pid: number | null, procRoot = FIXTURE_PROC) {
  const supervisor = new FakeSupervisor();
  supervisor.current = { ...supervisor.current, pipeline: { ...supervisor.current.pipeline, pid } };
  const registry = registryWith(recordingLogger().logger, processCollector({ supervisor, procRoot }));
  return { supervisor, registry };
}

test('stat: utime+stime even when comm holds spaces and parentheses', () => {
  assert.equal(parseStatCpuTicks('1 (a) b) S 0 1 1 0 -1 0 0 0 0 0 150 50 0 0 20 0 3 0 1 1 1'), 200);
  assert.throws(() => parseStatCpuTicks('garbage'), ProcParseError);
  assert.throws(() => parseStatCpuTicks('1 (x) S 0'), /utime\/stime are not numbers/);
});

test('status: VmRSS in bytes and Threads; a zombie without VmRSS has 0 bytes', () => {
  assert.deepEqual(parseStatus('Name:\tx\nVmRSS:\t    2048 kB\nThreads:\t3\n'), {
    residentBytes: 2048 * 1024,
    threads: 3,
  });
  assert.deepEqual(parseStatus('Name:\tx\nThreads:\t1\n'), { residentBytes: 0, threads: 1 });
  assert.throws(() => parseStatus('Name:\tx\n'), /no "Threads:" line/);
});

test('the gst child from a fixture /proc: CPU seconds at 100 ticks/s, RSS, threads', async () => {
  const samples = await scrapeSamples(setup(4242).registry);
  assert.equal(
    sampleValue(samples, 'desktop_streamer_pipeline_process_cpu_seconds_total'),
    (31415 + 2718) / 100,
  );
  assert.equal(
    sampleValue(samples, 'desktop_streamer_pipeline_process_resident_memory_bytes'),
    102400 * 1024,
  );
  assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_process_threads'), 7);
  assert.equal(
    sampleValue(samples, 'desktop_streamer_scrape_collector_success', { collector: 'pipeline_process' }),
    1,
  );
});

test('no pid, or a pid that is gone: all 0 and the collector still succeeds', async () => {
  for (const pid of [null, 999_999]) {
    const { registry } = setup(4242);
    await scrapeSamples(registry); // non-zero first, so a stale value would show
    const { supervisor, registry: fresh } = setup(4242);
    await scrapeSamples(fresh);
    supervisor.current = { ...supervisor.current, pipeline: { ...supervisor.current.pipeline, pid } };
    const samples = await scrapeSamples(fresh);
    assert.equal(
      sampleValue(samples, 'desktop_streamer_pipeline_process_cpu_seconds_total'),
      0,
      `pid ${pid}`,
    );
    assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_process_resident_memory_bytes'), 0);
    assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_process_threads'), 0);
    assert.equal(
      sampleValue(samples, 'desktop_streamer_scrape_collector_success', { collector: 'pipeline_process' }),
      1,
    );
  }
});

test('a zombie child reads as 0 bytes resident', async () => {
  const samples = await scrapeSamples(setup(4343).registry);
  assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_process_resident_memory_bytes'), 0);
  assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_process_cpu_seconds_total'), 6);
});

test('a real child process read from the real /proc', async (t) => {
  // Burns 300 ms of CPU (not wall clock: the machine is shared), says so, then idles.
  const burn =
    'while (process.cpuUsage().user + process.cpuUsage().system < 300000); console.log("burnt"); setInterval(() => {}, 1000)';
  const child = spawn(process.execPath, ['-e', burn], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  await once(child.stdout, 'data');
  const stats = await readProcessStats('/proc', child.pid!);
  assert.ok(stats, 'the child is alive');
  assert.ok(stats.cpuSeconds >= 0.25 && stats.cpuSeconds < 5, `cpu ${stats.cpuSeconds}`);
  assert.ok(stats.residentBytes > 10 * 1024 * 1024, `rss ${stats.residentBytes}`);
  assert.ok(stats.threads >= 2, `threads ${stats.threads}`);
  const samples = await scrapeSamples(setup(child.pid!, '/proc').registry);
  assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_process_threads'), stats.threads);
});
