import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { acquireInstanceLock, InstanceLockedError, LOCK_FILE_NAME } from '../src/instance-lock.ts';

describe('acquireInstanceLock', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ds-lock-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a second instance on the same dir is refused, naming the first one', async () => {
    const sleeper = spawn('sleep', ['30']);
    try {
      const first = await acquireInstanceLock(dir, sleeper.pid!);
      await assert.rejects(acquireInstanceLock(dir), (error: unknown) => {
        assert.ok(error instanceof InstanceLockedError);
        assert.equal(error.pid, sleeper.pid);
        assert.match(error.message, /is in use by another desktop-streamer \(pid \d+\)/);
        return true;
      });
      await first.release();
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('a lock left by a dead supervisor is taken over, and released by its new owner', async () => {
    const dead = spawn('true');
    await new Promise((resolve) => dead.once('exit', resolve));
    await writeFile(path.join(dir, LOCK_FILE_NAME), `${dead.pid}\n`);
    const lock = await acquireInstanceLock(dir);
    assert.equal((await readFile(path.join(dir, LOCK_FILE_NAME), 'utf8')).trim(), String(process.pid));
    await lock.release();
    await assert.rejects(readFile(path.join(dir, LOCK_FILE_NAME)), /ENOENT/);
  });
});
