/**
 * The systemd watchdog must see a supervisor that is stuck between runs (something it waits on
 * never answers), not only one whose loop stopped turning.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import type { Monitor } from '../../src/capture/types.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import type { HlsPublisher } from '../../src/hls/types.ts';
import { PipelineChild } from '../../src/pipeline/child.ts';
import { Supervisor } from '../../src/pipeline/supervisor.ts';

const CHILDREN = new URL('../fixtures/children/', import.meta.url).pathname;
const MONITORS: Monitor[] = [
  { index: 0, name: 'DUMMY0', outputs: ['DUMMY0'], primary: true, x: 0, y: 0, width: 1920, height: 1080 },
  { index: 1, name: 'DUMMY1', outputs: ['DUMMY1'], primary: false, x: 1920, y: 0, width: 1280, height: 720 },
];

const publisher: HlsPublisher = {
  async start() {},
  async stop() {},
  async beginRun() {},
  async publishPart() {
    return null;
  },
  async endRun() {},
  async cleanup() {
    return { removedFiles: 0, removedBytes: 0 };
  },
  snapshot() {
    throw new Error('not used');
  },
  onSegment() {},
  onPart() {},
};

test('in backoff far longer than any backoff (a monitor lookup that never answers): unhealthy for the watchdog', async (t) => {
  let clock = Date.now();
  let lookups = 0;
  const supervisor = new Supervisor({
    config: { ...DEFAULT_CONFIG, output_dir: '/tmp/ds-liveness-unused', restart_delay: 10 },
    logger: pino({ level: 'silent' }),
    publisher,
    display: ':0',
    encoders: { available: new Set(['x264enc']), renderNode: null },
    now: () => clock,
    // The first run's lookup answers; the restart's never does.
    listMonitors: () => (++lookups === 1 ? Promise.resolve(MONITORS) : new Promise<Monitor[]>(() => {})),
    spawnChild: (options) =>
      new PipelineChild({ ...options, command: join(CHILDREN, 'exits-1.sh'), stopTimeoutMs: 500 }),
  });
  // stop() clears the watch loop at once; the stopping itself waits behind the stuck lookup.
  t.after(() => {
    void supervisor.stop();
  });
  await supervisor.start();
  const deadline = Date.now() + 10_000;
  while (lookups < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(lookups, 2, 'the restart is waiting for its monitor lookup');
  assert.equal(supervisor.snapshot().state, 'backoff');
  assert.equal(supervisor.isLoopHealthy(), true, 'a restart in progress is healthy');

  clock += (10 + 30) * 1000 + 1000; // restart_delay + the margin, and a second
  await new Promise((r) => setTimeout(r, 600)); // one watch tick at the new time
  assert.equal(supervisor.snapshot().state, 'backoff');
  assert.equal(supervisor.isLoopHealthy(), false);
});
