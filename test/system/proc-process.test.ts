import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ProcParseError,
  parseStatCpuTicks,
  parseStatus,
  parseVmRssBytes,
  processRssBytes,
} from '../../src/system/proc-process.ts';

test('stat: utime+stime even when comm holds spaces and parentheses', () => {
  assert.equal(parseStatCpuTicks('1 (a) b) S 0 1 1 0 -1 0 0 0 0 0 150 50 0 0 20 0 3 0 1 1 1'), 200);
  assert.throws(() => parseStatCpuTicks('garbage'), ProcParseError);
  assert.throws(() => parseStatCpuTicks('1 (x) S 0'), /utime\/stime are not numbers/);
});

test('status: VmRSS in bytes and Threads; a zombie without VmRSS has 0 bytes', () => {
  assert.deepEqual(parseStatus('Name:\tx\nVmRSS:\t    2048 kB\nThreads:\t3\n'), {
    residentBytes: 2048 * 1024,
    threads: 3,
  });
  assert.deepEqual(parseStatus('Name:\tx\nThreads:\t1\n'), { residentBytes: 0, threads: 1 });
  assert.throws(() => parseStatus('Name:\tx\n'), /no "Threads:" line/);
});

test('parseVmRssBytes: kB to bytes; null without the line', () => {
  assert.equal(parseVmRssBytes('Name:\tgst-launch-1.0\nVmRSS:\t   51200 kB\nThreads:\t9\n'), 51200 * 1024);
  assert.equal(parseVmRssBytes('Name:\tx\nThreads:\t1\n'), null);
});

test('processRssBytes: a fixture /proc, a pid that is not there, and this process in the real /proc', async (t) => {
  const proc = await mkdtemp(join(tmpdir(), 'proc-process-'));
  t.after(() => rm(proc, { recursive: true, force: true }));
  await mkdir(join(proc, '4242'));
  await writeFile(join(proc, '4242', 'status'), 'Name:\tgst-launch-1.0\nVmRSS:\t   51200 kB\nThreads:\t9\n');
  assert.equal(await processRssBytes(4242, proc), 51200 * 1024);
  assert.equal(await processRssBytes(99999, proc), null);
  const real = await processRssBytes(process.pid);
  assert.ok(real !== null && Math.abs(real - process.memoryUsage().rss) < 64 * 2 ** 20, String(real));
});
