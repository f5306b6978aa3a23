/** docs/metrics.md is the contract alert rules and dashboards are written against: the registry must match it exactly. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { createMetrics } from '../../src/metrics/index.ts';
import { FakeHls, FakeSupervisor, fakeHostSource, recordingLogger } from './fakes.ts';

const DOC = fileURLToPath(new URL('../../docs/metrics.md', import.meta.url));

async function documentedNames(): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const line of (await readFile(DOC, 'utf8')).split('\n')) {
    const match = /^\|\s*`(desktop_streamer_[a-z0-9_]+)`\s*\|\s*([a-z]+)/.exec(line);
    if (match) names.set(match[1]!, match[2]!);
  }
  return names;
}

test('the registry holds exactly the series of docs/metrics.md, with the documented types', async () => {
  const { logger } = recordingLogger();
  const metrics = createMetrics({
    config: { ...DEFAULT_CONFIG },
    logger,
    supervisor: new FakeSupervisor(),
    hls: new FakeHls(),
    version: '0.1.0',
    gstreamerVersion: '1.22.0',
    kioskName: 'k',
    hostSource: fakeHostSource(),
  });
  const registered = new Map(
    metrics.registry
      .getMetricsAsArray()
      .map((metric) => metric as unknown as { name: string; type: string })
      .filter((metric) => metric.name.startsWith('desktop_streamer_'))
      .map((metric) => [metric.name, metric.type]),
  );
  const documented = await documentedNames();
  assert.ok(documented.size > 40, `parsed ${documented.size} names from docs/metrics.md`);
  assert.deepEqual(
    [...registered.keys()].filter((name) => !documented.has(name)),
    [],
    'registered but not documented',
  );
  assert.deepEqual(
    [...documented.keys()].filter((name) => !registered.has(name)),
    [],
    'documented but not registered',
  );
  for (const [name, type] of documented) assert.equal(registered.get(name), type, name);
});
