import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import {
  diskUsagePercent,
  filesystemOf,
  mountpointOf,
  statfsUsage,
  usageFromStatfs,
} from '../../src/system/disk-usage.ts';

const MOUNTS = [
  '/dev/vda1 / ext4 rw,relatime 0 0',
  'tmpfs /tmp tmpfs rw,nosuid,nodev 0 0',
  '/dev/vdb1 /var/lib/kiosk\\040data ext4 rw 0 0',
  '/dev/vdc1 /tmpfoo ext4 rw 0 0',
].join('\n');

test('mountpointOf: longest prefix on path boundaries, octal escapes decoded', () => {
  assert.equal(mountpointOf(MOUNTS, '/tmp/hls'), '/tmp');
  assert.equal(mountpointOf(MOUNTS, '/tmp'), '/tmp');
  assert.equal(mountpointOf(MOUNTS, '/tmpx/hls'), '/');
  assert.equal(mountpointOf(MOUNTS, '/var/lib/kiosk data/hls'), '/var/lib/kiosk data');
  assert.equal(mountpointOf('', '/anything'), '/');
});

test('usageFromStatfs: df arithmetic, reserved blocks count as used', () => {
  // 1000 blocks of 4 KiB, 300 free of which 250 available to users: used 700 / (700 + 250).
  const usage = usageFromStatfs({ blocks: 1000, bfree: 300, bavail: 250, bsize: 4096 });
  assert.equal(usage.sizeBytes, 1000 * 4096);
  assert.equal(usage.availBytes, 250 * 4096);
  assert.equal(usage.usedPercent, (700 / 950) * 100);
  assert.equal(usageFromStatfs({ blocks: 0, bfree: 0, bavail: 0, bsize: 4096 }).usedPercent, 0);
});

test('the real filesystem: a directory that does not exist yet counts as its nearest existing parent', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'disk-usage-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const missing = join(dir, 'does', 'not', 'exist');
  const percent = await diskUsagePercent(missing);
  assert.ok(percent !== null && percent >= 0 && percent <= 100, String(percent));
  const reading = await filesystemOf(missing);
  const direct = await statfsUsage(dir);
  assert.equal(reading.sizeBytes, direct.sizeBytes);
  assert.equal(reading.mountpoint, (await filesystemOf(dir)).mountpoint);
  await assert.rejects(statfsUsage(missing), { code: 'ENOENT' });
});

test('statfsUsage agrees with df', async () => {
  const ours = await statfsUsage(tmpdir());
  const { stdout } = await promisify(execFile)('df', ['--output=pcent', tmpdir()]);
  const dfPercent = Number(stdout.split('\n')[1]?.trim().replace('%', ''));
  // df rounds up to the next integer; usage may move a little between the two calls.
  assert.ok(
    Math.abs(Math.ceil(ours.usedPercent) - dfPercent) <= 1,
    `statfs ${ours.usedPercent}%, df ${dfPercent}%`,
  );
});
