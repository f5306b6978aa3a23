/**
 * What the fleet dashboard shows for a healthy, a broken and an unreachable kiosk: its
 * queries (taken from the generated JSON) evaluated by the real PromQL engine through
 * `promtool test rules` on synthetic series, so "a broken kiosk stands out" is checked.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { UNREACHABLE_STATE_CODE } from '../../../grafana/src/common.ts';
import { FLEET_UID } from '../../../grafana/src/fleet.ts';
import { allPanels, loadDashboards, substituteVariables } from '../../grafana/dashboard-queries.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const JOB = 'job="desktop-streamer"';
const ok = `${JOB}, kiosk="ok", instance="ok:8888"`;
const broken = `${JOB}, kiosk="broken", instance="broken:8888"`;
const gone = `${JOB}, kiosk="gone", instance="gone:8888"`;

/** 31 samples one minute apart (t = 0 … 30 min), all equal, or a counter from `from` by `step`. */
const flat = (value: number) => `${value}x30`;
const states = (labels: string, active: string) =>
  ['starting', 'streaming', 'backoff', 'no_signal', 'failed', 'stopped'].map((state) => ({
    series: `desktop_streamer_pipeline_state{${labels}, state="${state}"}`,
    values: flat(state === active ? 1 : 0),
  }));

const INPUT_SERIES = [
  { series: `up{${ok}}`, values: flat(1) },
  { series: `up{${broken}}`, values: flat(1) },
  { series: `up{${gone}}`, values: flat(0) },
  ...states(ok, 'streaming'),
  ...states(broken, 'failed'),
  { series: `desktop_streamer_pipeline_up{${ok}}`, values: flat(1) },
  { series: `desktop_streamer_pipeline_up{${broken}}`, values: flat(0) },
  { series: `desktop_streamer_hls_segment_lag_seconds{${ok}}`, values: flat(0.5) },
  { series: `desktop_streamer_hls_segment_lag_seconds{${broken}}`, values: flat(120) },
  { series: `desktop_streamer_pipeline_restarts_total{${ok}, reason="exited"}`, values: flat(0) },
  { series: `desktop_streamer_pipeline_restarts_total{${broken}, reason="exited"}`, values: '0+1x30' },
  { series: `desktop_streamer_host_filesystem_size_bytes{${ok}, mountpoint="/"}`, values: flat(100 * MiB) },
  { series: `desktop_streamer_host_filesystem_avail_bytes{${ok}, mountpoint="/"}`, values: flat(60 * MiB) },
  {
    series: `desktop_streamer_host_filesystem_size_bytes{${broken}, mountpoint="/"}`,
    values: flat(100 * MiB),
  },
  {
    series: `desktop_streamer_host_filesystem_avail_bytes{${broken}, mountpoint="/"}`,
    values: flat(5 * MiB),
  },
  { series: `desktop_streamer_drm_memory_vram_used_bytes{${ok}, card="card0"}`, values: flat(256 * MiB) },
  {
    series: `desktop_streamer_drm_memory_vram_used_bytes{${broken}, card="card0"}`,
    values: flat(1536 * MiB),
  },
  { series: `desktop_streamer_config_gpu_memory_limit_bytes{${ok}}`, values: flat(1024 * MiB) },
  { series: `desktop_streamer_config_gpu_memory_limit_bytes{${broken}}`, values: flat(1024 * MiB) },
  {
    series: `ALERTS{alertname="DesktopStreamerFailed", alertstate="firing", severity="critical", ${broken}}`,
    values: flat(1),
  },
];

/** Expected cell per fleet-table column (refId) and kiosk; undefined = no row from that query. */
const EXPECTED: Record<string, { ok?: number; broken?: number; gone?: number }> = {
  A: { ok: 1, broken: 1, gone: 0 }, // Scrape
  B: { ok: 1, broken: 6, gone: UNREACHABLE_STATE_CODE }, // State
  C: { ok: 1, broken: 0 }, // Stream
  D: { ok: 0.5, broken: 120 }, // Segment lag
  E: { ok: 0, broken: 30, gone: 0 }, // Restarts 24 h
  F: { ok: 0.4, broken: 0.95 }, // Disk used
  G: { ok: 256 * MiB, broken: 1536 * MiB }, // GPU VRAM
  H: { ok: 0.25, broken: 1.5 }, // GPU memory vs limit
  I: { ok: 0, broken: 1, gone: 0 }, // Firing alerts
};

/** Fleet stat panels: one number for the whole fleet. */
const EXPECTED_TOTALS: Record<string, number> = {
  'Kiosks streaming': 1,
  'Kiosks not streaming': 1,
  'Kiosks unreachable': 1,
  'Firing alerts': 1,
};

it('the fleet table and totals single out the broken and the unreachable kiosk', async (t) => {
  const fleet = loadDashboards().find((d) => d.board.uid === FLEET_UID)?.board;
  assert.ok(fleet, 'fleet dashboard');
  const panels = allPanels(fleet);
  const values = { kiosk: '.*', __rate_interval: '1m' };
  const table = panels.find((p) => p.title === 'Kiosks');
  assert.ok(table?.targets);
  assert.deepEqual(table.targets.map((target) => target.refId).sort(), Object.keys(EXPECTED).sort());

  const tests = table.targets.map((target) => ({
    expr: substituteVariables(target.expr ?? '', values),
    eval_time: '30m',
    exp_samples: Object.entries(EXPECTED[target.refId ?? ''] ?? {}).map(([kiosk, value]) => ({
      labels: `{kiosk="${kiosk}", instance="${kiosk}:8888"}`,
      value,
    })),
  }));
  for (const [title, value] of Object.entries(EXPECTED_TOTALS)) {
    const expr = panels.find((p) => p.title === title)?.targets?.[0]?.expr;
    assert.ok(expr, title);
    tests.push({
      expr: substituteVariables(expr, values),
      eval_time: '30m',
      exp_samples: [{ labels: '{}', value }],
    });
  }

  const dir = await mkdtemp(path.join(tmpdir(), 'fleet-semantics-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'fleet.test.yml');
  await writeFile(
    file,
    stringify({
      rule_files: [],
      evaluation_interval: '1m',
      tests: [{ interval: '1m', input_series: INPUT_SERIES, promql_expr_test: tests }],
    }),
  );
  const result = await run('promtool', ['test', 'rules', file]).catch(
    (error: { stdout?: string; stderr?: string }) => error,
  );
  assert.match(`${result.stdout}${result.stderr}`, /SUCCESS/, `${result.stdout}\n${result.stderr}`);
});
