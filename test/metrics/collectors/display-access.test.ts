import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DISPLAY_ACCESS_STATES } from '../../../src/capture/x-access.ts';
import { pipelineCollector } from '../../../src/metrics/collectors/pipeline.ts';
import { FakeSupervisor, NOW, recordingLogger } from '../fakes.ts';
import { registryWith, scrapeSamples, seriesOf } from '../samples.ts';

const REFUSED = readFileSync(
  new URL('../../fixtures/x-access/xrandr-no-cookie.txt', import.meta.url),
  'utf8',
);
const NO_SERVER = readFileSync(
  new URL('../../fixtures/x-access/xrandr-no-server.txt', import.meta.url),
  'utf8',
);

async function currentState(supervisor: FakeSupervisor): Promise<string[]> {
  const registry = registryWith(recordingLogger().logger, pipelineCollector({ supervisor, now: () => NOW }));
  const series = seriesOf(await scrapeSamples(registry), 'desktop_streamer_display_access');
  assert.equal(series.length, DISPLAY_ACCESS_STATES.length, 'one series per state, always');
  return series.filter((s) => s.value === 1).map((s) => String(s.labels.state));
}

test('display_access: granted while xrandr answers, refused / unreachable from its last failure', async () => {
  const supervisor = new FakeSupervisor();
  supervisor.current = { ...supervisor.current, displayError: null };
  assert.deepEqual(await currentState(supervisor), ['granted']);
  supervisor.current = { ...supervisor.current, state: 'no_signal', displayError: REFUSED };
  assert.deepEqual(await currentState(supervisor), ['refused']);
  supervisor.current = { ...supervisor.current, state: 'no_signal', displayError: NO_SERVER };
  assert.deepEqual(await currentState(supervisor), ['unreachable']);
  supervisor.current = { ...supervisor.current, capture: null, displayError: null };
  assert.deepEqual(await currentState(supervisor), ['unknown']);
});
