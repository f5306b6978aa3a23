import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setCounter, setCounters } from '../../src/metrics/scrape.ts';
import { recordingLogger } from './fakes.ts';
import { registryWith, registryWithOptions, sampleValue, scrapeSamples } from './samples.ts';

/** Lets pending promise chains and I/O callbacks run (setImmediate is not mocked). */
async function turns(count = 5): Promise<void> {
  for (let i = 0; i < count; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

test('every metric of a collector joins one run per scrape', async () => {
  const { logger } = recordingLogger();
  let runs = 0;
  let clockMs = 1000;
  const registry = registryWithOptions(
    logger,
    { now: () => clockMs },
    {
      name: 'counting',
      setup(metrics) {
        const a = metrics.gauge('test_a', 'a');
        const b = metrics.gauge('test_b', 'b');
        return async () => {
          runs += 1;
          await Promise.resolve(); // a real await: both metrics must still join this one run
          clockMs += 5;
          a.set(runs);
          b.set(runs * 10);
        };
      },
    },
  );
  const first = await scrapeSamples(registry);
  assert.equal(runs, 1);
  assert.equal(sampleValue(first, 'test_a'), 1);
  assert.equal(sampleValue(first, 'test_b'), 10);
  const second = await scrapeSamples(registry);
  assert.equal(runs, 2, 'a later scrape runs the collector again');
  assert.equal(sampleValue(second, 'test_b'), 20);
  assert.equal(
    sampleValue(second, 'desktop_streamer_scrape_collector_success', { collector: 'counting' }),
    1,
  );
  const duration = sampleValue(second, 'desktop_streamer_scrape_collector_duration_seconds', {
    collector: 'counting',
  });
  assert.equal(duration, 0.005);
});

test('a throwing collector never breaks the scrape, keeps its last values and is logged once per streak', async () => {
  const { logger, records } = recordingLogger();
  let fail = false;
  const registry = registryWith(
    logger,
    {
      name: 'flaky',
      setup(metrics) {
        const gauge = metrics.gauge('test_flaky', 'flaky');
        let n = 0;
        return () => {
          if (fail) throw new Error('sysfs went away');
          gauge.set(++n);
        };
      },
    },
    {
      name: 'steady',
      setup(metrics) {
        const gauge = metrics.gauge('test_steady', 'steady');
        return () => gauge.set(42);
      },
    },
  );
  assert.equal(sampleValue(await scrapeSamples(registry), 'test_flaky'), 1);
  fail = true;
  for (let i = 0; i < 3; i++) {
    const samples = await scrapeSamples(registry);
    assert.equal(sampleValue(samples, 'test_flaky'), 1, 'last good value kept');
    assert.equal(sampleValue(samples, 'test_steady'), 42);
    assert.equal(
      sampleValue(samples, 'desktop_streamer_scrape_collector_success', { collector: 'flaky' }),
      0,
    );
    assert.equal(
      sampleValue(samples, 'desktop_streamer_scrape_collector_success', { collector: 'steady' }),
      1,
    );
  }
  const failures = records.filter((r) => r.msg === 'metrics collector failed; keeping its last values');
  assert.equal(failures.length, 1, 'one log line for the whole failure streak');
  assert.equal(failures[0]?.collector, 'flaky');
  assert.match(String((failures[0]?.err as { message?: string } | undefined)?.message), /sysfs went away/);

  fail = false;
  const recovered = await scrapeSamples(registry);
  assert.equal(
    sampleValue(recovered, 'desktop_streamer_scrape_collector_success', { collector: 'flaky' }),
    1,
  );
  assert.equal(sampleValue(recovered, 'test_flaky'), 2);
  assert.equal(records.filter((r) => r.msg === 'metrics collector recovered').length, 1);
  fail = true;
  await scrapeSamples(registry);
  assert.equal(
    records.filter((r) => r.msg === 'metrics collector failed; keeping its last values').length,
    2,
    'a new streak is logged again',
  );
});

test('a registry text scrape also survives a rejecting async collector', async () => {
  const { logger } = recordingLogger();
  const registry = registryWith(logger, {
    name: 'rejects',
    setup(metrics) {
      metrics.gauge('test_rejects', 'r');
      return async () => {
        throw new Error('EIO');
      };
    },
  });
  const text = await registry.metrics();
  assert.match(text, /desktop_streamer_scrape_collector_success\{collector="rejects"\} 0/);
});

test('two collectors with the same name are refused', () => {
  const { logger } = recordingLogger();
  const definition = { name: 'twice', setup: () => () => undefined };
  assert.throws(
    () => registryWith(logger, definition, definition),
    /collector "twice" is already registered/,
  );
});

test('setCounter/setCounters mirror totals kept elsewhere, clamping bad values to 0', async () => {
  const { logger } = recordingLogger();
  let total = 5;
  const registry = registryWith(logger, {
    name: 'mirror',
    setup(metrics) {
      const plain = metrics.counter('test_plain_total', 'p');
      const labelled = metrics.counter('test_labelled_total', 'l', ['kind']);
      return () => {
        setCounter(plain, total);
        setCounters(labelled, [
          [{ kind: 'a' }, total],
          [{ kind: 'b' }, Number.NaN],
        ]);
      };
    },
  });
  let samples = await scrapeSamples(registry);
  assert.equal(sampleValue(samples, 'test_plain_total'), 5);
  assert.equal(sampleValue(samples, 'test_labelled_total', { kind: 'a' }), 5);
  assert.equal(sampleValue(samples, 'test_labelled_total', { kind: 'b' }), 0);
  total = 2;
  samples = await scrapeSamples(registry);
  assert.equal(sampleValue(samples, 'test_plain_total'), 2, 'mirrors, does not accumulate');
  total = -3;
  samples = await scrapeSamples(registry);
  assert.equal(sampleValue(samples, 'test_plain_total'), 0);
});

test('a hung collector fails the scrape after the timeout, is not started again until it settles', async (t) => {
  const { logger, records } = recordingLogger();
  let release: () => void = () => {};
  let starts = 0;
  const registry = registryWithOptions(
    logger,
    { collectorTimeoutMs: 50 },
    {
      name: 'hung',
      setup(metrics) {
        const gauge = metrics.gauge('test_hung', 'h');
        return async () => {
          starts += 1;
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          gauge.set(starts);
        };
      },
    },
    {
      name: 'fine',
      setup(metrics) {
        const gauge = metrics.gauge('test_fine', 'f');
        return () => gauge.set(1);
      },
    },
  );
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let settled = false;
  const scrape = scrapeSamples(registry).finally(() => {
    settled = true;
  });
  await turns();
  t.mock.timers.tick(49);
  await turns();
  assert.equal(settled, false, 'still waiting for the hung collector before 50 ms');
  t.mock.timers.tick(1);
  let samples = await scrape;
  assert.equal(sampleValue(samples, 'desktop_streamer_scrape_collector_success', { collector: 'hung' }), 0);
  assert.equal(sampleValue(samples, 'desktop_streamer_scrape_collector_success', { collector: 'fine' }), 1);
  assert.equal(sampleValue(samples, 'test_fine'), 1);

  samples = await scrapeSamples(registry);
  assert.equal(starts, 1, 'not started again while the first run hangs');
  assert.equal(sampleValue(samples, 'desktop_streamer_scrape_collector_success', { collector: 'hung' }), 0);
  assert.equal(
    records.filter((r) => r.msg === 'metrics collector failed; keeping its last values').length,
    1,
    'one log line for the streak',
  );
  assert.match(String(JSON.stringify(records.at(-1))), /took longer than 50 ms/);

  release();
  await new Promise((resolve) => setImmediate(resolve));
  const next = scrapeSamples(registry);
  await new Promise((resolve) => setImmediate(resolve));
  release();
  samples = await next;
  assert.equal(starts, 2);
  assert.equal(sampleValue(samples, 'desktop_streamer_scrape_collector_success', { collector: 'hung' }), 1);
  assert.equal(sampleValue(samples, 'test_hung'), 2);
});
