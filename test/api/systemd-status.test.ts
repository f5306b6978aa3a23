import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSystemctlShow, runningUnderSystemd, unitFromCgroup } from '../../src/api/systemd-status.ts';

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
