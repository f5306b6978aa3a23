import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  busyRatio,
  parseMeminfo,
  parseNetDev,
  parseProcStat,
  readCpuTimes,
  readMemory,
  readNetDev,
  systemMemoryPercent,
} from '../../src/system/proc-host.ts';

const PROC_STAT = [
  'cpu  4705 356 584 3699 23 23 0 0 7 1',
  'cpu0 1393280 32966 572056 13343292 6130 0 17875 0 0 0',
  'intr 1462898',
].join('\n');

const NET_DEV = [
  'Inter-|   Receive                                                |  Transmit',
  ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
  '    lo: 6224817601  791685    0    0    0     0          0         0 6224817601  791685    0    0    0     0       0          0',
  '  eth0:1234 10 0 0 0 0 0 0 5678 20 0 0 0 0 0 0',
  '  bad0: x y',
].join('\n');

test('parseProcStat: idle counts iowait, total leaves out guest time (already inside user)', () => {
  assert.deepEqual(parseProcStat(PROC_STAT), {
    idle: 3699 + 23,
    total: 4705 + 356 + 584 + 3699 + 23 + 23 + 0 + 0,
  });
  assert.equal(parseProcStat('intr 1\n'), null);
  assert.equal(parseProcStat('cpu  1 2 x 4\n'), null);
  assert.equal(parseProcStat(''), null);
});

test('busyRatio: share of busy time between two readings, clamped, 0 when no time passed', () => {
  assert.equal(busyRatio({ idle: 100, total: 200 }, { idle: 150, total: 300 }), 0.5);
  assert.equal(busyRatio({ idle: 100, total: 200 }, { idle: 100, total: 200 }), 0);
  assert.equal(busyRatio({ idle: 100, total: 200 }, { idle: 100, total: 300 }), 1);
  // counters reset (e.g. a fixture swapped): never outside 0–1
  assert.equal(busyRatio({ idle: 500, total: 900 }, { idle: 10, total: 20 }), 0);
});

test('parseNetDev: rx and tx bytes per interface, header and malformed lines skipped', () => {
  assert.deepEqual(parseNetDev(NET_DEV), [
    { device: 'lo', receiveBytes: 6224817601, transmitBytes: 6224817601 },
    { device: 'eth0', receiveBytes: 1234, transmitBytes: 5678 },
  ]);
  assert.deepEqual(parseNetDev(''), []);
});

test('parseMeminfo: MemTotal and MemAvailable in bytes; null when either is missing', () => {
  const meminfo = 'MemTotal:       24684632 kB\nMemFree:         1000000 kB\nMemAvailable:   20000000 kB\n';
  assert.deepEqual(parseMeminfo(meminfo), { totalBytes: 24684632 * 1024, availableBytes: 20000000 * 1024 });
  assert.equal(parseMeminfo('MemTotal:       24684632 kB\n'), null);
  assert.equal(parseMeminfo('MemAvailable:   1 kB\n'), null);
});

test('the real /proc: CPU totals grow, memory is sane, loopback is listed', async () => {
  const first = await readCpuTimes();
  const second = await readCpuTimes();
  assert.ok(first.total > 0 && second.total >= first.total, `${first.total} → ${second.total}`);
  assert.ok(first.idle <= first.total);
  const ratio = busyRatio(first, second);
  assert.ok(ratio >= 0 && ratio <= 1);
  const memory = await readMemory();
  assert.ok(memory.totalBytes > 256 * 2 ** 20 && memory.availableBytes <= memory.totalBytes);
  assert.ok((await readNetDev()).some((nic) => nic.device === 'lo'));
});

test('an unreadable /proc: CPU and memory fall back to node:os, network reports the error', async (t) => {
  const empty = await mkdtemp(join(tmpdir(), 'proc-host-'));
  t.after(() => rm(empty, { recursive: true, force: true }));
  const times = await readCpuTimes(empty);
  assert.ok(times.total > 0 && times.idle <= times.total);
  const memory = await readMemory(empty);
  assert.ok(memory.totalBytes > 0 && memory.availableBytes <= memory.totalBytes);
  await assert.rejects(readNetDev(empty), { code: 'ENOENT' });
});

test('systemMemoryPercent: MemTotal − MemAvailable, one decimal (fixture and the real /proc)', async (t) => {
  const proc = await mkdtemp(join(tmpdir(), 'proc-host-'));
  t.after(() => rm(proc, { recursive: true, force: true }));
  await writeFile(
    join(proc, 'meminfo'),
    'MemTotal:       8000000 kB\nMemFree:  100 kB\nMemAvailable:   6000000 kB\n',
  );
  assert.equal(await systemMemoryPercent(proc), 25);
  await writeFile(join(proc, 'meminfo'), 'MemTotal:       3000000 kB\nMemAvailable:   2000000 kB\n');
  assert.equal(await systemMemoryPercent(proc), 33.3);
  const real = await systemMemoryPercent();
  assert.ok(real > 0 && real < 100, String(real));
});
