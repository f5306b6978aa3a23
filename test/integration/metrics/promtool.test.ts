/** `promtool check metrics` (the real one) on the real /metrics output: it must print nothing. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { DEFAULT_CONFIG } from '../../../src/config/schema.ts';
import { segment } from '../../metrics/fakes.ts';
import { startMetricsServer } from '../../metrics/server.ts';

const FIXTURE_SYSFS = fileURLToPath(new URL('../../fixtures/sysfs', import.meta.url));

test('promtool check metrics is clean on a real scrape (real host, real /proc child, fixture GPU, no picture tap)', async (t) => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  await once(child, 'spawn');
  const server = await startMetricsServer({ config: { ...DEFAULT_CONFIG, sysfs_root: FIXTURE_SYSFS } });
  t.after(() => server.close());
  server.supervisor.current = {
    ...server.supervisor.current,
    pipeline: { ...server.supervisor.current.pipeline, pid: child.pid! },
  };
  server.hls.emit(segment(1));
  await (await fetch(`${server.url}/api/items/1`)).text();
  const text = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(text, /^desktop_streamer_drm_card_info\{card="card10",driver="amdgpu"\} 1$/m);
  assert.match(text, /^desktop_streamer_pipeline_process_threads 1$/m, 'sleep has one thread');
  assert.match(text, /^desktop_streamer_picture_brightness_ratio Nan$/m, 'NaN without a picture tap');
  assert.match(text, /^process_resident_memory_bytes \d+/m);

  const result = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
  assert.equal(result.stdout, '', 'promtool stdout');
  assert.equal(result.stderr, '', 'promtool stderr');
  assert.equal(result.exitCode, 0);
});

test('promtool does complain about a broken exposition (the check can fail)', async () => {
  const result = await execa('promtool', ['check', 'metrics'], {
    input:
      '# HELP desktop_streamer_bad_count a counter without _total\n# TYPE desktop_streamer_bad_count counter\ndesktop_streamer_bad_count 1\n',
    reject: false,
  });
  assert.notEqual(`${result.stdout}${result.stderr}`, '');
});
