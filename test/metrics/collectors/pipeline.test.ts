import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pipelineCollector } from '../../../src/metrics/collectors/pipeline.ts';
import { PIPELINE_ERROR_TYPES, RESTART_REASONS, SUPERVISOR_STATES } from '../../../src/pipeline/types.ts';
import { FakeSupervisor, NOW, recordingLogger } from '../fakes.ts';
import { registryWith, sampleValue, scrapeSamples, seriesOf } from '../samples.ts';

function setup() {
  const supervisor = new FakeSupervisor();
  const registry = registryWith(recordingLogger().logger, pipelineCollector({ supervisor, now: () => NOW }));
  return { supervisor, registry };
}

test('state: one series per state, exactly one of them 1; up and failed follow it', async () => {
  const { supervisor, registry } = setup();
  for (const state of SUPERVISOR_STATES) {
    supervisor.current = { ...supervisor.current, state };
    const samples = await scrapeSamples(registry);
    const series = seriesOf(samples, 'desktop_streamer_pipeline_state');
    assert.equal(series.length, SUPERVISOR_STATES.length);
    assert.deepEqual(
      series.filter((s) => s.value === 1).map((s) => s.labels.state),
      [state],
    );
    assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_up'), state === 'streaming' ? 1 : 0);
    assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_failed'), state === 'failed' ? 1 : 0);
  }
});

test('restarts, errors and warnings mirror the snapshot, every label value present', async () => {
  const { registry } = setup();
  const samples = await scrapeSamples(registry);
  assert.equal(seriesOf(samples, 'desktop_streamer_pipeline_restarts_total').length, RESTART_REASONS.length);
  assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_restarts_total', { reason: 'exited' }), 2);
  assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_restarts_total', { reason: 'manual' }), 1);
  assert.equal(
    sampleValue(samples, 'desktop_streamer_pipeline_restarts_total', { reason: 'encoder_demoted' }),
    0,
  );
  assert.equal(
    seriesOf(samples, 'desktop_streamer_pipeline_errors_total').length,
    PIPELINE_ERROR_TYPES.length,
  );
  assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_errors_total', { type: 'resource' }), 2);
  assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_warnings_total'), 7);
});

test('timestamps in seconds, uptime from the pipeline start, backoff', async () => {
  const { supervisor, registry } = setup();
  let samples = await scrapeSamples(registry);
  assert.equal(
    sampleValue(samples, 'desktop_streamer_pipeline_start_timestamp_seconds'),
    (NOW - 90_000) / 1000,
  );
  assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_uptime_seconds'), 90);
  assert.equal(
    sampleValue(samples, 'desktop_streamer_pipeline_last_error_timestamp_seconds'),
    (NOW - 120_000) / 1000,
  );
  assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_restart_backoff_seconds'), 0);

  supervisor.current = {
    ...supervisor.current,
    state: 'backoff',
    pipeline: { pid: null, startedAt: null, argv: [] },
    lastError: null,
    backoffSeconds: 8,
  };
  samples = await scrapeSamples(registry);
  assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_start_timestamp_seconds'), 0);
  assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_uptime_seconds'), 0);
  assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_last_error_timestamp_seconds'), 0);
  assert.equal(sampleValue(samples, 'desktop_streamer_pipeline_restart_backoff_seconds'), 8);
});
