/**
 * The whole /metrics text on fixtures, compared with test/fixtures/golden/metrics.txt (like
 * node_exporter's end-to-end output test). Regenerate with UPDATE_GOLDEN=1 after an intended change
 * and review the diff: every added, renamed or removed series shows up there.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { fakeHostSource, NOW, segment } from './fakes.ts';
import { startMetricsServer } from './server.ts';

const GOLDEN = fileURLToPath(new URL('../fixtures/golden/metrics.txt', import.meta.url));
const FIXTURE_SYSFS = fileURLToPath(new URL('../fixtures/sysfs', import.meta.url));
const FIXTURE_PROC = fileURLToPath(new URL('./fixtures/proc', import.meta.url));

/** Families whose values depend on timing; their sample values become <volatile> (`_count` stays). */
const VOLATILE_FAMILIES = new Set([
  'desktop_streamer_scrape_collector_duration_seconds',
  'desktop_streamer_http_request_duration_seconds',
]);

/** Drops prom-client's default process_/nodejs_ families (they vary by Node version) and masks timing values. */
export function normaliseExposition(text: string): string {
  const lines: string[] = [];
  let family = '';
  for (const line of text.split('\n')) {
    const meta = /^# (?:HELP|TYPE) (\S+)/.exec(line);
    if (meta) family = meta[1]!;
    if (/^(process_|nodejs_)/.test(family)) continue;
    let normalised = line.replace(/node_version="[^"]*"/, 'node_version="<node>"');
    if (!meta && line !== '' && VOLATILE_FAMILIES.has(family) && !line.startsWith(`${family}_count`)) {
      normalised = normalised.replace(/ \S+$/, ' <volatile>');
    }
    lines.push(normalised);
  }
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

test('GET /metrics on fixtures matches the golden file', async (t) => {
  const server = await startMetricsServer({
    config: { ...DEFAULT_CONFIG, sysfs_root: FIXTURE_SYSFS, output_dir: '/var/lib/desktop-streamer/hls' },
    now: () => NOW,
    procRoot: FIXTURE_PROC,
    hostSource: fakeHostSource(),
    picture: { snapshot: () => ({ unchangedSeconds: 4.5, brightness: 0.61 }) },
  });
  t.after(() => server.close());
  server.hls.emit(segment(8, { durationSeconds: 2, bytes: 480_000 }));
  server.hls.emit(segment(9, { durationSeconds: 2.1, bytes: 530_000 }));
  await (await fetch(`${server.url}/api/items/7`)).text();
  await (await fetch(`${server.url}/nowhere`)).text();

  const text = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m, 'default process_* metrics are there');
  assert.match(text, /^# TYPE nodejs_heap_size_used_bytes gauge$/m, 'default nodejs_* metrics are there');
  assert.doesNotMatch(text, /^# TYPE nodejs_active_\w+_total /m, 'lint-failing default gauges dropped');
  const actual = normaliseExposition(text);
  if (process.env.UPDATE_GOLDEN === '1') {
    await writeFile(GOLDEN, actual);
    t.diagnostic(`wrote ${GOLDEN}`);
    return;
  }
  const expected = await readFile(GOLDEN, 'utf8').catch(() => '');
  assert.equal(actual, expected, 'the /metrics output changed: review, then regenerate with UPDATE_GOLDEN=1');
});
