import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const installScript = path.join(repo, 'install.sh');

/** Every file, directory and symlink under `dir`: relative path -> mode + sha256 of the content (or link target). */
async function manifest(dir: string): Promise<Record<string, string>> {
  const entries: Record<string, string> = {};
  for (const name of await readdir(dir, { recursive: true })) {
    const full = path.join(dir, name);
    const info = await lstat(full);
    const mode = (info.mode & 0o7777).toString(8);
    if (info.isSymbolicLink()) {
      entries[name] = `link ${await readlink(full)}`;
      continue;
    }
    entries[name] = info.isDirectory()
      ? `dir ${mode}`
      : `${mode} ${createHash('sha256')
          .update(await readFile(full))
          .digest('hex')}`;
  }
  return entries;
}

/**
 * A source tree as install.sh sees it: the repository's own deployable files, plus a
 * small dist/ standing in for the compiled app (the build itself is not under test here).
 */
async function makeSource(base: string): Promise<string> {
  const source = path.join(base, 'src');
  await mkdir(path.join(source, 'dist', 'cli'), { recursive: true });
  for (const item of ['package.json', 'package-lock.json', 'systemd', 'docs', 'alerting', 'prometheus']) {
    await cp(path.join(repo, item), path.join(source, item), { recursive: true }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    });
  }
  await writeFile(path.join(source, 'dist', 'cli', 'index.js'), 'console.log("desktop-streamer");\n');
  await writeFile(path.join(source, 'dist', 'main.js'), 'export const main = 1;\n');
  return source;
}

async function setup(t: TestContext): Promise<{ source: string; root: string; base: string }> {
  const base = await mkdtemp(path.join(tmpdir(), 'install-test-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const source = await makeSource(base);
  const root = path.join(base, 'root');
  await mkdir(root);
  return { source, root, base };
}

async function install(source: string, root: string, ...extra: string[]): Promise<string> {
  const { stdout } = await execFileAsync(
    'bash',
    [installScript, '--root', root, '--source', source, '--no-packages', '--no-build', '--no-npm', ...extra],
    { maxBuffer: 10 * 1024 * 1024 },
  );
  return stdout;
}

describe('install.sh', () => {
  it('is shellcheck clean (with the scripts/)', async () => {
    const scripts = (await readdir(path.join(repo, 'scripts')))
      .filter((name) => name.endsWith('.sh'))
      .map((name) => path.join('scripts', name));
    await execFileAsync('shellcheck', ['install.sh', ...scripts], { cwd: repo });
  });

  it('installs into a root, and a second run changes nothing', async (t) => {
    const { source, root } = await setup(t);
    const first = await install(source, root);
    assert.match(first, /\d+ change\(s\)/);
    assert.doesNotMatch(first, /^0 change\(s\)/m);

    const app = path.join(root, 'opt', 'desktop-streamer');
    assert.equal(
      await readFile(path.join(app, 'dist', 'cli', 'index.js'), 'utf8'),
      'console.log("desktop-streamer");\n',
    );
    for (const unit of [
      'desktop-streamer.service',
      'desktop-streamer-prometheus.service',
      'desktop-streamer-alertmanager.service',
    ]) {
      const installed = await readFile(path.join(root, 'etc', 'systemd', 'system', unit), 'utf8');
      assert.match(installed, /^\[Service\]$/m, unit);
      assert.match(installed, /\/opt\/desktop-streamer\//, unit);
    }
    const config = JSON.parse(
      await readFile(path.join(root, 'etc', 'desktop-streamer', 'config.json'), 'utf8'),
    );
    assert.equal(config.output_dir, '/tmp/hls');
    assert.equal(config.unity_optimization.cpu_quota_percent, 30);
    const tokenFile = path.join(root, 'etc', 'desktop-streamer', 'api-token');
    assert.match(await readFile(tokenFile, 'utf8'), /^[0-9a-f]{64}$/);
    assert.equal((await stat(tokenFile)).mode & 0o777, 0o600);
    assert.match(first, /http:\/\/\S+:8888\/hls\/desktop\/playlist\.m3u8/);
    assert.match(first, /systemctl skipped/);
    // The local Prometheus scrapes this kiosk through prometheus.yml's file-based discovery.
    assert.equal(
      await readlink(path.join(app, 'prometheus', 'targets', 'kiosks.yml')),
      '/etc/desktop-streamer/prometheus-targets.yml',
    );
    assert.match(
      await readFile(path.join(root, 'etc', 'desktop-streamer', 'prometheus-targets.yml'), 'utf8'),
      /- targets: \["127\.0\.0\.1:8888"\]/,
    );

    const before = await manifest(root);
    const second = await install(source, root);
    assert.match(second, /^0 change\(s\)$/m);
    assert.deepEqual(await manifest(root), before);
  });

  it('keeps an existing config.json (from the older version) byte for byte', async (t) => {
    const { source, root } = await setup(t);
    const etc = path.join(root, 'etc', 'desktop-streamer');
    await mkdir(etc, { recursive: true });
    const oldConfig = '{\n    "fps": 10,\n    "width": 960, "height": 540,\n    "bitrate": 1000\n}\n';
    await writeFile(path.join(etc, 'config.json'), oldConfig, { mode: 0o640 });
    await writeFile(path.join(etc, 'api-token'), 'operator-chosen-token\n', { mode: 0o600 });

    const output = await install(source, root);
    assert.match(output, /config\.json \(kept as it is\)/);
    assert.equal(await readFile(path.join(etc, 'config.json'), 'utf8'), oldConfig);
    assert.equal((await stat(path.join(etc, 'config.json'))).mode & 0o777, 0o640);
    assert.equal(await readFile(path.join(etc, 'api-token'), 'utf8'), 'operator-chosen-token\n');
  });

  it('updates changed files and removes stale ones from the app directory', async (t) => {
    const { source, root } = await setup(t);
    await install(source, root);
    await writeFile(path.join(source, 'dist', 'cli', 'index.js'), 'console.log("v2");\n');
    await rm(path.join(source, 'dist', 'main.js'));
    const output = await install(source, root);
    assert.match(output, /^2 change\(s\)$/m);
    const app = path.join(root, 'opt', 'desktop-streamer', 'dist');
    assert.equal(await readFile(path.join(app, 'cli', 'index.js'), 'utf8'), 'console.log("v2");\n');
    await assert.rejects(stat(path.join(app, 'main.js')), { code: 'ENOENT' });
  });

  it('--dry-run changes nothing, on a fresh root and on an installed one', async (t) => {
    const { source, root } = await setup(t);
    const fresh = await install(source, root, '--dry-run');
    assert.match(fresh, /would be made/);
    assert.deepEqual(await manifest(root), {});

    await install(source, root);
    const before = await manifest(root);
    await writeFile(path.join(source, 'dist', 'cli', 'index.js'), 'console.log("v3");\n');
    const dry = await install(source, root, '--dry-run');
    assert.match(dry, /^1 change\(s\) would be made$/m);
    assert.deepEqual(await manifest(root), before);

    const dryUninstall = await install(source, root, '--uninstall', '--purge', '--dry-run');
    assert.match(dryUninstall, /would be made/);
    assert.deepEqual(await manifest(root), before);
  });

  it('--uninstall keeps config and token; --purge removes them', async (t) => {
    const { source, root } = await setup(t);
    await install(source, root);
    await install(source, root, '--uninstall');
    const left = Object.keys(await manifest(root));
    assert.ok(left.includes('etc/desktop-streamer/config.json'));
    assert.ok(left.includes('etc/desktop-streamer/api-token'));
    assert.ok(!left.some((p) => p.startsWith('opt/desktop-streamer/')));
    assert.ok(!left.some((p) => p.startsWith('etc/systemd/system/desktop-streamer')));

    await install(source, root, '--uninstall', '--purge');
    assert.ok(!Object.keys(await manifest(root)).some((p) => p.startsWith('etc/desktop-streamer')));
  });

  it('--prefix moves the app, and the installed units still pass systemd-analyze verify', async (t) => {
    const { source, root } = await setup(t);
    await install(source, root, '--prefix', '/srv/desktop-streamer');
    assert.equal(
      await readFile(path.join(root, 'srv', 'desktop-streamer', 'dist', 'cli', 'index.js'), 'utf8'),
      'console.log("desktop-streamer");\n',
    );
    const unitPath = path.join(root, 'etc', 'systemd', 'system', 'desktop-streamer.service');
    const unit = await readFile(unitPath, 'utf8');
    assert.match(unit, /^ExecStart=\S+ \/srv\/desktop-streamer\/dist\/cli\/index\.js run /m);
    assert.doesNotMatch(unit, /\/opt\/desktop-streamer/);
    const { stdout, stderr } = await execFileAsync('systemd-analyze', ['verify', unitPath], { cwd: '/' });
    assert.equal(`${stdout}${stderr}`.trim(), '');
  });

  it('refuses a Node.js older than 20 with a clear message', async (t) => {
    const { source, root, base } = await setup(t);
    // A `node` that reports Debian 12's own version, first on PATH.
    const bin = path.join(base, 'bin');
    await mkdir(bin);
    await writeFile(path.join(bin, 'node'), '#!/bin/sh\necho v18.19.0\n', { mode: 0o755 });
    await assert.rejects(
      execFileAsync(
        'bash',
        [installScript, '--root', root, '--source', source, '--no-packages', '--no-build'],
        {
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        },
      ),
      (error: { code?: number; stderr?: string }) =>
        error.code === 1 && /Node\.js >= 20 is required, found v18\.19\.0/.test(error.stderr ?? ''),
    );
    assert.deepEqual(await manifest(root), {});
  });

  it('rejects an unknown option with its name', async () => {
    await assert.rejects(
      execFileAsync('bash', [installScript, '--frobnicate']),
      (error: { code?: number; stderr?: string }) =>
        error.code === 64 && (error.stderr ?? '').includes("unknown option '--frobnicate'"),
    );
  });
});
