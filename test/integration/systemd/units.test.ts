import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const unitsDir = fileURLToPath(new URL('../../../systemd/', import.meta.url));
const UNITS = [
  'desktop-streamer.service',
  'desktop-streamer-prometheus.service',
  'desktop-streamer-alertmanager.service',
];
const MAX_EXPOSURE = 2.5;

/** Parses "key=value" lines of a unit file into a multimap (continuations joined). */
async function readUnit(name: string): Promise<Map<string, string[]>> {
  const text = (await readFile(`${unitsDir}${name}`, 'utf8')).replace(/\\\n\s*/g, ' ');
  const settings = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, key, value] = match as unknown as [string, string, string];
    settings.set(key, [...(settings.get(key) ?? []), value]);
  }
  return settings;
}

describe('systemd units', () => {
  for (const unit of UNITS) {
    it(`${unit} passes systemd-analyze verify`, async (t) => {
      // verify also checks that ExecStart's binary exists. install.sh points the unit at
      // the node it finds on PATH; do the same here, so the check holds wherever node is.
      const dir = await mkdtemp(path.join(tmpdir(), 'units-test-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const text = (await readFile(`${unitsDir}${unit}`, 'utf8')).replace(
        '/usr/bin/node ',
        `${process.execPath} `,
      );
      await writeFile(path.join(dir, unit), text);
      const { stdout, stderr } = await run('systemd-analyze', ['verify', path.join(dir, unit)], { cwd: '/' });
      assert.equal(`${stdout}${stderr}`.trim(), '', 'no warnings');
    });

    it(`${unit} has an exposure level of at most ${MAX_EXPOSURE}`, async () => {
      const { stdout, stderr } = await run(
        'systemd-analyze',
        ['security', '--offline=true', '--no-pager', `${unitsDir}${unit}`],
        { cwd: '/' },
      );
      assert.doesNotMatch(stderr, /Invalid syntax|ignoring|Unknown/i, stderr);
      const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(stdout);
      assert.ok(match, `exposure line in:\n${stdout.slice(-500)}`);
      const exposure = Number(match[1]);
      assert.ok(exposure <= MAX_EXPOSURE, `exposure ${exposure} > ${MAX_EXPOSURE}`);
    });
  }

  it('the supervisor unit keeps the settings the kiosk depends on', async () => {
    const unit = await readUnit('desktop-streamer.service');
    const one = (key: string) => unit.get(key)?.at(-1);
    assert.equal(one('Type'), 'notify');
    assert.equal(one('NotifyAccess'), 'all');
    assert.equal(one('WatchdogSec'), '30');
    assert.equal(one('Restart'), 'on-failure');
    assert.equal(one('RestartPreventExitStatus'), '78');
    assert.equal(one('User'), 'desktop-streamer');
    assert.equal(one('SupplementaryGroups'), 'video render');
    assert.equal(one('CPUQuota'), '30%');
    assert.equal(one('MemoryMax'), '800M');
    assert.equal(one('PrivateTmp'), 'yes');
    assert.equal(one('BindReadOnlyPaths'), '/tmp/.X11-unix');
    // output_dir /tmp/hls survives restarts, so the playlist's media sequence never goes back.
    assert.equal(one('BindPaths'), '/run/desktop-streamer/hls:/tmp/hls');
    assert.equal(one('RuntimeDirectoryPreserve'), 'restart');
    assert.equal(one('DeviceAllow'), 'char-drm rw');
    assert.equal(one('CapabilityBoundingSet'), '');
    assert.match(
      one('ExecStart') ?? '',
      /^\/usr\/bin\/node \/opt\/desktop-streamer\/dist\/cli\/index\.js run --config /,
    );
    // V8's JIT needs W+X memory: this must never be switched on for node.
    assert.equal(unit.has('MemoryDenyWriteExecute'), false);
  });

  it('Prometheus and Alertmanager listen on loopback only by default', async () => {
    const prometheus = await readUnit('desktop-streamer-prometheus.service');
    const alertmanager = await readUnit('desktop-streamer-alertmanager.service');
    assert.ok(prometheus.get('Environment')?.includes('PROMETHEUS_LISTEN_ADDRESS=127.0.0.1:9090'));
    assert.ok(alertmanager.get('Environment')?.includes('ALERTMANAGER_LISTEN_ADDRESS=127.0.0.1:9093'));
    assert.match(
      prometheus.get('ExecStart')?.[0] ?? '',
      /--web\.listen-address=\$\{PROMETHEUS_LISTEN_ADDRESS\}/,
    );
    assert.match(alertmanager.get('ExecStart')?.[0] ?? '', /--cluster\.listen-address= /);
  });
});
