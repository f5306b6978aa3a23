import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CpuSampler,
  diskUsagePercent,
  processRssBytes,
  systemMemoryPercent,
} from '../../src/api/host-sample.ts';

describe('host readings', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'host-sample-'));
    await mkdir(path.join(dir, 'proc', '4242'), { recursive: true });
    await writeFile(
      path.join(dir, 'proc', '4242', 'status'),
      'Name:\tgst-launch-1.0\nVmRSS:\t   51200 kB\nThreads:\t9\n',
    );
    await writeFile(
      path.join(dir, 'proc', 'meminfo'),
      'MemTotal:       8000000 kB\nMemFree:  100 kB\nMemAvailable:   6000000 kB\n',
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads VmRSS of a process (fixture and the real /proc)', async () => {
    assert.equal(await processRssBytes(4242, path.join(dir, 'proc')), 51200 * 1024);
    assert.equal(await processRssBytes(99999, path.join(dir, 'proc')), null);
    const real = await processRssBytes(process.pid);
    if (real !== null) assert.ok(Math.abs(real - process.memoryUsage().rss) < 64 * 1024 * 1024);
  });

  it('computes used memory from MemTotal − MemAvailable', async () => {
    assert.equal(await systemMemoryPercent(path.join(dir, 'proc')), 25);
    const real = await systemMemoryPercent();
    assert.ok(real > 0 && real < 100);
  });

  it('reads disk usage of the nearest existing directory', async () => {
    const usage = await diskUsagePercent(path.join(dir, 'does', 'not', 'exist'));
    assert.equal(typeof usage, 'number');
    assert.ok((usage as number) >= 0 && (usage as number) <= 100);
  });

  it('samples CPU busy percent in 0..100, reusing a reading younger than a second', async () => {
    const sampler = new CpuSampler(50);
    const first = await sampler.percent();
    assert.ok(first >= 0 && first <= 100, String(first));
    const started = Date.now();
    assert.equal(await sampler.percent(), first, 'reused');
    assert.ok(Date.now() - started < 40, 'no new measuring interval');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const later = await sampler.percent();
    assert.ok(later >= 0 && later <= 100, String(later));
  });
});
