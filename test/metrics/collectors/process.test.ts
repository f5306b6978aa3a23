import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processCollector } from '../../../src/metrics/collectors/process.ts';
import { readProcessStats } from '../../../src/system/proc-process.ts';
import { FakeSupervisor, recordingLogger } from '../fakes.ts';
import { registryWith, sampleValue, scrapeSamples } from '../samples.ts';

const FIXTURE_PROC = fileURLToPath(new URL('../fixtures/proc', import.meta.url));

function setup(pid: number | null, procRoot = FIXTURE_PROC) {
  const supervisor = new FakeSupervisor();
  supervisor.current = { ...supervisor.current, pipeline: { ...supervisor.current.pipeline, pid } };
  const registry = registryWith(recordingLogger().logger, processCollector({ supervisor, procRoot }));
  return { supervisor, registry };
}

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
