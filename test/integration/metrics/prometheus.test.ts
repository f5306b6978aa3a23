/**
 * A REAL Prometheus (/usr/bin/prometheus) scrapes a real Koa server exposing the metrics registry;
 * the key series must have data through the Prometheus HTTP API, and a change in the supervisor
 * must show up in a later scrape (values are collected at scrape time).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG } from '../../../src/config/schema.ts';
import { startPrometheus } from '../../alerting/servers.ts';
import { segment } from '../../metrics/fakes.ts';
import { startMetricsServer } from '../../metrics/server.ts';

const FIXTURE_SYSFS = fileURLToPath(new URL('../../fixtures/sysfs', import.meta.url));

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(base: string, promql: string): Promise<VectorSample[]> {
  const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await response.json()) as {
    status: string;
    data?: { result: VectorSample[] };
    error?: string;
  };
  if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error}`);
  return body.data!.result;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}`, { cause: lastError });
}

test('a real Prometheus scrapes /metrics and has the key series', { timeout: 90_000 }, async (t) => {
  const server = await startMetricsServer({ config: { ...DEFAULT_CONFIG, sysfs_root: FIXTURE_SYSFS } });
  t.after(() => server.close());
  server.hls.emit(segment(9));
  const target = new URL(server.url).host;

  const dir = await mkdtemp(join(tmpdir(), 'metrics-prometheus-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(
    configFile,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: desktop-streamer',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  );
  const prometheus = await startPrometheus(configFile, join(dir, 'data'));
  t.after(() => prometheus.stop());
  const base = prometheus.url;

  const up = await waitFor('up == 1', async () => {
    if (prometheus.process.exitCode !== null) throw new Error(`prometheus exited: ${prometheus.log()}`);
    const result = await query(base, 'up{job="desktop-streamer"}');
    return result[0]?.value[1] === '1' ? result[0] : undefined;
  });
  assert.equal(up.metric.instance, target);

  const one = async (promql: string): Promise<number> => {
    const result = await query(base, promql);
    assert.equal(result.length, 1, `${promql} → ${JSON.stringify(result)}`);
    return Number(result[0]!.value[1]);
  };
  assert.equal(await one('desktop_streamer_build_info{version="0.1.0",gstreamer_version="1.22.0"}'), 1);
  assert.equal(await one('desktop_streamer_capture_info{kiosk="test-kiosk",geometry="1280x720+1920+0"}'), 1);
  assert.equal(await one('desktop_streamer_pipeline_up'), 1);
  assert.equal(await one('desktop_streamer_pipeline_restarts_total{reason="exited"}'), 2);
  assert.equal(await one('desktop_streamer_hls_segments_written_total'), 10);
  assert.ok((await one('desktop_streamer_hls_segment_lag_seconds')) > 0);
  assert.equal(await one('desktop_streamer_hls_segment_duration_seconds_count'), 1);
  assert.equal(await one('desktop_streamer_drm_memory_vram_used_bytes{card="card0"}'), 274579456);
  assert.equal(await one('desktop_streamer_drm_gpu_busy_ratio{card="card10"}'), 1);
  assert.ok((await one('desktop_streamer_host_memory_total_bytes')) > 0);
  assert.ok((await one('count(desktop_streamer_host_network_receive_bytes_total)')) >= 1);
  assert.equal(await one('min(desktop_streamer_scrape_collector_success)'), 1, 'every collector succeeds');
  // identity, pipeline, pipeline_process, hls, picture, viewers, webrtc, host, amdgpu (docs/metrics.md)
  assert.equal(await one('count(desktop_streamer_scrape_collector_success)'), 9);
  assert.ok((await one('process_resident_memory_bytes{job="desktop-streamer"}')) > 0);
  assert.ok(
    (await one('scrape_samples_scraped{job="desktop-streamer"}')) > 100,
    'the whole exposition was ingested',
  );

  // Prometheus's own scrapes are counted by the HTTP middleware under the route template.
  await waitFor('the scrapes counted by route', async () => {
    const result = await query(
      base,
      'desktop_streamer_http_requests_total{route="/metrics",code="200"} >= 2',
    );
    return result.length === 1 ? result : undefined;
  });

  // Collected at scrape time: a state change reaches Prometheus with the next scrape.
  server.supervisor.current = { ...server.supervisor.current, state: 'failed' };
  await waitFor('pipeline_failed == 1', async () => {
    const result = await query(base, 'desktop_streamer_pipeline_failed == 1');
    return result.length === 1 ? result : undefined;
  });
  assert.equal(await one('desktop_streamer_pipeline_state{state="failed"}'), 1);
  assert.equal(await one('desktop_streamer_pipeline_up'), 0);
});
