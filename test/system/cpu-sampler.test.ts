import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CpuSampler } from '../../src/system/cpu-sampler.ts';
import type { CpuTimes } from '../../src/system/proc-host.ts';

/** A CPU whose counters and clock move only when the test says so. */
function fakeHost(readings: CpuTimes[]) {
  const state = { now: 1_000_000, reads: 0, sleeps: [] as number[] };
  const sampler = (options: ConstructorParameters<typeof CpuSampler>[0] = {}) =>
    new CpuSampler({
      readTimes: async () => {
        const reading = readings[state.reads];
        assert.ok(reading, `reading ${state.reads} was not expected`);
        state.reads += 1;
        return reading;
      },
      now: () => state.now,
      sleep: async (ms) => {
        state.sleeps.push(ms);
        state.now += ms;
      },
      ...options,
    });
  return { state, sampler };
}

test('first call measures over the interval; a result younger than reuseMs is returned again', async () => {
  const { state, sampler } = fakeHost([
    { idle: 0, total: 0 },
    { idle: 50, total: 200 }, // 150 of 200 busy
    { idle: 100, total: 300 }, // then 50 of 100 busy
  ]);
  const cpu = sampler({ intervalMs: 200 });
  assert.equal(await cpu.percent(), 75);
  assert.deepEqual(state.sleeps, [200]);
  state.now += 999;
  assert.equal(await cpu.percent(), 75, 'reused');
  assert.equal(state.reads, 2, 'no new reading');
  state.now += 1;
  assert.equal(await cpu.busyRatio(), 0.5, 'since the previous reading, without waiting');
  assert.deepEqual(state.sleeps, [200]);
});

test('a previous reading older than maxAgeMs is not used: a fresh interval is measured', async () => {
  const { state, sampler } = fakeHost([
    { idle: 0, total: 0 },
    { idle: 0, total: 100 },
    { idle: 1000, total: 10_100 }, // stale: would give 90 % over the long gap
    { idle: 1050, total: 10_200 },
  ]);
  const cpu = sampler({ maxAgeMs: 60_000 });
  assert.equal(await cpu.busyRatio(), 1);
  state.now += 60_001;
  assert.equal(await cpu.busyRatio(), 0.5);
  assert.deepEqual(state.sleeps, [200, 200]);
});

test('primed, with no reuse and no age limit: busy since the previous call (the metrics scrape)', async () => {
  const { state, sampler } = fakeHost([
    { idle: 0, total: 0 },
    { idle: 25, total: 100 },
    { idle: 25, total: 100 },
  ]);
  const cpu = sampler({ reuseMs: 0, maxAgeMs: Infinity }).prime();
  state.now += 3_600_000;
  assert.equal(await cpu.busyRatio(), 0.75);
  assert.equal(await cpu.busyRatio(), 0, 'no time passed');
  assert.deepEqual(state.sleeps, []);
});

test('the real /proc/stat: a percent in 0..100', async () => {
  const cpu = new CpuSampler({ intervalMs: 50 });
  const percent = await cpu.percent();
  assert.ok(percent >= 0 && percent <= 100, String(percent));
});
