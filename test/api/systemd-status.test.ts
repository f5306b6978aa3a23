import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  parseSystemctlShow,
  runningUnderSystemd,
  SystemdStatusReader,
  unitFromCgroup,
} from '../../src/api/systemd-status.ts';

describe('systemd status helpers', () => {
  it('detects systemd by INVOCATION_ID', () => {
    assert.equal(runningUnderSystemd({ INVOCATION_ID: '6a1c1f2e' }), true);
    assert.equal(runningUnderSystemd({}), false);
    assert.equal(runningUnderSystemd({ INVOCATION_ID: '' }), false);
  });
  it('finds the unit in /proc/self/cgroup (v2 and v1 layouts)', () => {
    assert.equal(unitFromCgroup('0::/system.slice/desktop-streamer.service\n'), 'desktop-streamer.service');
    assert.equal(
      unitFromCgroup('12:pids:/system.slice/kiosk@1.service\n1:name=systemd:/system.slice/kiosk@1.service\n'),
      'kiosk@1.service',
    );
    assert.equal(unitFromCgroup('0::/user.slice/user-1000.slice/session-2.scope\n'), 'session-2.scope');
    assert.equal(unitFromCgroup('0::/\n'), null);
  });
  it('parses systemctl show output', () => {
    assert.deepEqual(parseSystemctlShow('ActiveState=active\nSubState=running\n'), {
      ActiveState: 'active',
      SubState: 'running',
    });
    assert.equal(parseSystemctlShow('ActiveState=active\n'), null);
    assert.equal(parseSystemctlShow(''), null);
  });
});

describe('SystemdStatusReader (with a fake systemctl on PATH)', () => {
  it('asks systemctl about this unit only under systemd, and caches the answer', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fake-systemctl-'));
    const argsFile = path.join(dir, 'args');
    await writeFile(
      path.join(dir, 'systemctl'),
      `#!/bin/sh\necho "$@" >> '${argsFile}'\nprintf 'ActiveState=active\\nSubState=running\\n'\n`,
      { mode: 0o755 },
    );
    const saved = { PATH: process.env.PATH, INVOCATION_ID: process.env.INVOCATION_ID };
    t.after(async () => {
      process.env.PATH = saved.PATH;
      if (saved.INVOCATION_ID === undefined) delete process.env.INVOCATION_ID;
      else process.env.INVOCATION_ID = saved.INVOCATION_ID;
      await rm(dir, { recursive: true, force: true });
    });
    process.env.PATH = `${dir}:${saved.PATH}`;

    delete process.env.INVOCATION_ID;
    assert.equal(await new SystemdStatusReader().read(), null, 'not under systemd: no systemctl call');

    process.env.INVOCATION_ID = 'fake-invocation';
    const reader = new SystemdStatusReader({ cacheMs: 60_000 });
    const state = await reader.read();
    assert.equal(state?.ActiveState, 'active');
    assert.equal(state?.SubState, 'running');
    await reader.read();
    const calls = (await readFile(argsFile, 'utf8')).trim().split('\n');
    assert.equal(calls.length, 1, 'second read came from the cache');
    assert.match(calls[0]!, /^show --property=ActiveState,SubState -- \S+\.(service|scope)$/);
  });
});
