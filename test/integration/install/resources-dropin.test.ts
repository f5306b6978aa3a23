/**
 * install.sh mirrors config.json's unity_optimization.cpu_quota_percent / memory_limit_mb into a
 * drop-in of desktop-streamer.service, and installs the XDG autostart entry that grants the
 * service's user access to the kiosk's X display at every login. (Under a real systemd:
 * test/e2e/systemd.e2e.ts.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const DROPIN = 'etc/systemd/system/desktop-streamer.service.d/50-resources.conf';
const AUTOSTART = 'etc/xdg/autostart/desktop-streamer-xhost.desktop';

async function setup(t: TestContext): Promise<{ source: string; root: string }> {
  const base = await mkdtemp(path.join(tmpdir(), 'install-dropin-test-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const source = path.join(base, 'src');
  await mkdir(path.join(source, 'dist', 'cli'), { recursive: true });
  for (const item of ['package.json', 'package-lock.json', 'systemd', 'alerting', 'prometheus']) {
    await cp(path.join(repo, item), path.join(source, item), { recursive: true });
  }
  await writeFile(path.join(source, 'dist', 'cli', 'index.js'), 'console.log("desktop-streamer");\n');
  const root = path.join(base, 'root');
  await mkdir(root);
  return { source, root };
}

async function install(source: string, root: string, ...extra: string[]) {
  return execFileAsync(
    'bash',
    [
      path.join(repo, 'install.sh'),
      '--root',
      root,
      '--source',
      source,
      '--no-packages',
      '--no-build',
      '--no-npm',
      ...extra,
    ],
    { maxBuffer: 10 * 1024 * 1024 },
  );
}

async function writeConfig(root: string, unity: Record<string, unknown>): Promise<void> {
  const etc = path.join(root, 'etc', 'desktop-streamer');
  await mkdir(etc, { recursive: true });
  await writeFile(path.join(etc, 'config.json'), JSON.stringify({ fps: 15, unity_optimization: unity }));
}

function setting(text: string, key: string): string | undefined {
  return new RegExp(`^${key}=(.*)$`, 'm').exec(text)?.[1];
}

describe('install.sh: resource limits from config.json', () => {
  it('the default config gives the documented 30 % and 800 MB', async (t) => {
    const { source, root } = await setup(t);
    await install(source, root);
    const dropin = await readFile(path.join(root, DROPIN), 'utf8');
    assert.match(dropin, /^\[Service\]$/m);
    assert.equal(setting(dropin, 'CPUQuota'), '30%');
    assert.equal(setting(dropin, 'MemoryMax'), '800M');
    assert.equal(setting(dropin, 'MemoryHigh'), '700M');
  });

  it("an operator's values are mirrored, and a change shows up on the next run", async (t) => {
    const { source, root } = await setup(t);
    await writeConfig(root, { cpu_quota_percent: 45.5, memory_limit_mb: 1200 });
    await install(source, root);
    let dropin = await readFile(path.join(root, DROPIN), 'utf8');
    assert.equal(setting(dropin, 'CPUQuota'), '45.5%');
    assert.equal(setting(dropin, 'MemoryMax'), '1200M');
    assert.equal(setting(dropin, 'MemoryHigh'), '1050M');

    await writeConfig(root, { cpu_quota_percent: 150, memory_limit_mb: 512 });
    const { stdout } = await install(source, root);
    assert.match(stdout, /^1 change\(s\)$/m, 'only the drop-in changed');
    dropin = await readFile(path.join(root, DROPIN), 'utf8');
    assert.equal(setting(dropin, 'CPUQuota'), '150%');
    assert.equal(setting(dropin, 'MemoryMax'), '512M');
  });

  it('a config without unity_optimization gets the supervisor defaults', async (t) => {
    const { source, root } = await setup(t);
    const etc = path.join(root, 'etc', 'desktop-streamer');
    await mkdir(etc, { recursive: true });
    await writeFile(path.join(etc, 'config.json'), '{"fps": 10}');
    await install(source, root);
    const dropin = await readFile(path.join(root, DROPIN), 'utf8');
    assert.equal(setting(dropin, 'CPUQuota'), '30%');
    assert.equal(setting(dropin, 'MemoryMax'), '800M');
  });

  it('a value the supervisor would refuse is named, and no drop-in is written', async (t) => {
    const { source, root } = await setup(t);
    await writeConfig(root, { cpu_quota_percent: 'lots', memory_limit_mb: 800 });
    const { stderr } = await install(source, root);
    assert.match(
      stderr,
      /unity_optimization\.cpu_quota_percent is "lots": allowed is a number from 1 to 6400/,
    );
    await assert.rejects(stat(path.join(root, DROPIN)), { code: 'ENOENT' });

    await writeConfig(root, { cpu_quota_percent: 30, memory_limit_mb: 4 });
    const second = await install(source, root);
    assert.match(
      second.stderr,
      /unity_optimization\.memory_limit_mb is 4: allowed is a number from 16 to 1048576/,
    );
  });

  it('--uninstall removes the drop-in and the autostart entry', async (t) => {
    const { source, root } = await setup(t);
    await install(source, root);
    await stat(path.join(root, DROPIN));
    await install(source, root, '--uninstall');
    await assert.rejects(stat(path.join(root, DROPIN)), { code: 'ENOENT' });
    await assert.rejects(stat(path.dirname(path.join(root, DROPIN))), { code: 'ENOENT' });
    await assert.rejects(stat(path.join(root, AUTOSTART)), { code: 'ENOENT' });
  });
});

describe('install.sh: X access at every login', () => {
  it('installs an XDG autostart entry granting the unit’s user, by name under --root', async (t) => {
    const { source, root } = await setup(t);
    await install(source, root);
    const entry = await readFile(path.join(root, AUTOSTART), 'utf8');
    const unit = await readFile(path.join(repo, 'systemd', 'desktop-streamer.service'), 'utf8');
    const user = /^User=(.+)$/m.exec(unit)?.[1];
    assert.equal(user, 'desktop-streamer');
    assert.match(entry, /^\[Desktop Entry\]$/m);
    assert.equal(setting(entry, 'Type'), 'Application');
    assert.equal(setting(entry, 'Exec'), `xhost "+SI:localuser:${user}"`);
    assert.equal((await stat(path.join(root, AUTOSTART))).mode & 0o777, 0o644);
  });
});
