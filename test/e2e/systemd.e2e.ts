/**
 * The shipped units under a REAL systemd: a Debian 12 box (test/helpers/systemd-box.sh: systemd
 * as PID 1 in systemd-nspawn, its own network namespace, the host's X socket directory bound in),
 * install.sh run inside it from the checkout, and the host's two-monitor rig started as a display
 * manager starts X (`-auth` cookie file). Checks what an operator of a kiosk relies on:
 *   - install.sh → desktop-streamer.service active (running) through READY=1; /api/health from the host
 *   - X access: refused (a named state in /api/health/detailed and a metric) until the kiosk
 *     session's autostart entry (installed by install.sh) grants it; then monitor 2 is streamed
 *   - the api-token credential, CPUQuota=/MemoryMax= from config.json in the unit's cgroup
 *   - Prometheus and Alertmanager units run, the alert rules load
 *   - SIGSTOPped supervisor → systemd's watchdog restarts it, the playlist continues
 *   - invalid config → exit 78, no restart loop
 * Skipped, with the reason, only where the box cannot be built (not root, no systemd-nspawn, no
 * cgroups, the rootfs cannot be downloaded).
 *
 * Run alone (2 shared cores): node --import tsx --test test/e2e/systemd.e2e.ts
 * The base rootfs is cached under /var/cache/desktop-streamer-test/systemd-box (first build: minutes).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { DetailedJson } from '../../src/api/health-model.ts';
import { type AuthRig, startAuthRig } from '../helpers/auth-rig.ts';
import { dominant, meanColour } from '../helpers/frames.ts';
import {
  type Box,
  bootBox,
  boxUnavailableReason,
  createRootfs,
  desktopExecArgv,
  type HttpResult,
  waitFor,
} from '../helpers/systemd-box.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const UNIT = 'desktop-streamer.service';
const PORT = 8888;
const PROMETHEUS_PORT = 9090;
const ALERTMANAGER_PORT = 9093;
/** What the test's config.json asks for, so the cgroup shows the config's values, not the unit's defaults. */
const CPU_QUOTA_PERCENT = 40;
const MEMORY_LIMIT_MB = 600;
const AUTOSTART = '/etc/xdg/autostart/desktop-streamer-xhost.desktop';

let skipReason = boxUnavailableReason();
const rootfsStarted = Date.now();
if (skipReason === null) {
  try {
    await createRootfs();
  } catch (error) {
    skipReason = `the box's rootfs cannot be built here: ${(error as Error).message}`;
  }
}
const rootfsSeconds = (Date.now() - rootfsStarted) / 1000;

function unitSetting(name: string): number {
  const unit = readFileSync(path.join(REPO, 'systemd', UNIT), 'utf8');
  const value = new RegExp(`^${name}=(\\d+)$`, 'm').exec(unit)?.[1];
  assert.ok(value, `${name}= in systemd/${UNIT}`);
  return Number(value);
}

function json<T>(result: HttpResult): T {
  assert.equal(result.status, 200, `HTTP ${result.status}: ${result.text().slice(0, 300)}`);
  return JSON.parse(result.text()) as T;
}

interface PrometheusRules {
  data: { groups: { rules: { name: string }[] }[] };
}

function mediaSequence(playlist: string): number {
  const value = /^#EXT-X-MEDIA-SEQUENCE:(\d+)$/m.exec(playlist)?.[1];
  assert.ok(value !== undefined, `no media sequence in:\n${playlist}`);
  return Number(value);
}

describe('systemd units in a real systemd', { skip: skipReason ?? false, timeout: 20 * 60_000 }, () => {
  let rig: AuthRig;
  let box: Box;
  let stage: string;
  const timings: Record<string, number> = { rootfs_seconds: rootfsSeconds };

  const detailed = async () => json<DetailedJson>(await box.http(PORT, '/api/health/detailed'));
  const journal = async () =>
    (await box.exec(['journalctl', '-u', UNIT, '--no-pager', '-o', 'cat', '-n', '60'])).stdout;

  before(async () => {
    const started = Date.now();
    rig = await startAuthRig();
    // The checkout as CI has it (tracked files), with dist/ compiled from it: install.sh --no-build
    // installs that, as it would a release tarball.
    stage = await mkdtemp(path.join(tmpdir(), 'ds-systemd-e2e-'));
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: REPO, encoding: 'utf8' })
      .split('\0')
      .filter(Boolean);
    await execa('cp', ['--parents', '-t', stage, ...files], { cwd: REPO });
    await execa(
      path.join(REPO, 'node_modules/.bin/tsc'),
      ['-p', 'tsconfig.build.json', '--outDir', path.join(stage, 'dist')],
      {
        cwd: REPO,
      },
    );
    const npmCache = (await execa('npm', ['config', 'get', 'cache'])).stdout.trim();
    box = await bootBox(`ds-e2e-${process.pid}`, {
      project: stage,
      // npm ci in the box installs from the host's npm cache (the box has no network).
      nspawnArgs: [`--bind=${npmCache}:/root/.npm`],
      ports: [PORT, PROMETHEUS_PORT, ALERTMANAGER_PORT],
    });
    timings.setup_seconds = (Date.now() - started) / 1000; // rig, staged checkout + tsc, box boot

    // What an operator prepares before installing: the display to capture and the limits.
    const etc = path.join(box.root, 'etc/desktop-streamer');
    await mkdir(etc, { recursive: true });
    await writeFile(path.join(etc, 'environment'), `DISPLAY=${rig.display}\n`);
    const config = {
      monitor: 'auto',
      unity_optimization: { cpu_quota_percent: CPU_QUOTA_PERCENT, memory_limit_mb: MEMORY_LIMIT_MB },
    };
    await writeFile(path.join(etc, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  });

  after(async () => {
    if (box) {
      if (process.env.DS_E2E_KEEP_BOX !== '1') await box.stop();
    }
    await rig?.stop();
    if (stage) await rm(stage, { recursive: true, force: true });
    console.log(`systemd e2e timings: ${JSON.stringify(timings)}`);
  });

  it('install.sh from the checkout installs, enables and starts the units; READY=1 makes it active (running)', async () => {
    const started = Date.now();
    const install = await box.exec(['/opt/project/install.sh', '--no-build'], {
      env: { npm_config_offline: 'true' },
      timeoutMs: 5 * 60_000,
    });
    timings.install_seconds = (Date.now() - started) / 1000;
    assert.equal(install.exitCode, 0, `install.sh failed:\n${install.stdout}\n${install.stderr}`);
    assert.match(install.stdout, /= Debian packages already installed/);
    assert.match(install.stdout, /= \/etc\/desktop-streamer\/config\.json \(kept as it is\)/);
    assert.match(install.stdout, /= \/etc\/desktop-streamer\/config\.json is valid/);

    const state = await box.show(UNIT, [
      'Type',
      'NotifyAccess',
      'ActiveState',
      'SubState',
      'StatusText',
      'User',
    ]);
    // Type=notify: systemd calls it active only after READY=1.
    assert.deepEqual(
      { Type: state.Type, ActiveState: state.ActiveState, SubState: state.SubState, User: state.User },
      { Type: 'notify', ActiveState: 'active', SubState: 'running', User: 'desktop-streamer' },
    );
    assert.notEqual(state.StatusText, '', 'the supervisor reports a status line through sd_notify');
    for (const unit of ['desktop-streamer-prometheus.service', 'desktop-streamer-alertmanager.service']) {
      const s = await box.show(unit, ['ActiveState', 'SubState']);
      assert.deepEqual(s, { ActiveState: 'active', SubState: 'running' }, unit);
    }
  });

  it('a refused X connection is a named state: /api/health/detailed and desktop_streamer_display_access', async () => {
    const seen = await waitFor(
      'display.access = refused',
      async () => {
        const d = await detailed();
        return d.display.access === 'refused' ? d : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(seen.supervisor.state, 'no_signal');
    assert.match(seen.display.error ?? '', /Authorization required, but no authorization protocol specified/);
    const metrics = (await box.http(PORT, '/metrics')).text();
    assert.match(metrics, /^desktop_streamer_display_access\{state="refused"\} 1$/m);
    assert.match(metrics, /^desktop_streamer_display_access\{state="granted"\} 0$/m);
  });

  it("the session's autostart entry (from install.sh) grants access; monitor 2 is streamed; /api/health 200 from the host", async () => {
    const entry = await readFile(path.join(box.root, AUTOSTART), 'utf8');
    const exec = /^Exec=(.+)$/m.exec(entry)?.[1];
    assert.ok(exec, `Exec= in ${AUTOSTART}:\n${entry}`);
    const [command, ...args] = desktopExecArgv(exec);
    assert.equal(command, 'xhost');
    const uid = (await box.exec(['id', '-u', 'desktop-streamer'])).stdout.trim();
    assert.deepEqual(args, [`+SI:localuser:#${uid}`], "the grant names the unit's user");
    // What the kiosk's session does at login: its own DISPLAY and cookie.
    await execa(command!, args, {
      env: { DISPLAY: rig.display, XAUTHORITY: rig.xauthority },
      timeout: 10_000,
    });

    const streaming = await waitFor(
      'streaming the second monitor',
      async () => {
        const d = await detailed();
        return d.supervisor.state === 'streaming' && d.display.access === 'granted' ? d : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const monitor = streaming.capture?.monitor as { name: string; geometry: string } | undefined;
    assert.deepEqual(
      { name: monitor?.name, geometry: monitor?.geometry },
      { name: 'DUMMY1', geometry: '1280x720+1920+0' },
    );
    assert.equal(streaming.display.error, null);

    const health = await waitFor(
      '/api/health 200',
      async () => {
        const r = await box.http(PORT, '/api/health');
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal((JSON.parse(health.text()) as { stream_active: boolean }).stream_active, true);

    // A segment of the capture (not the slate) shows monitor 2's blue.
    const segmentFile = path.join(stage, 'segment.ts');
    let lastSeen = 'none fetched';
    await waitFor(
      'a blue segment',
      async () => {
        const playlist = (await box.http(PORT, '/hls/desktop/playlist.m3u8')).text();
        const last = playlist
          .split('\n')
          .filter((l) => l && !l.startsWith('#'))
          .at(-1);
        if (!last) return undefined;
        const segment = await box.http(PORT, new URL(last, 'http://box/hls/desktop/').pathname);
        if (segment.status !== 200) return undefined;
        await writeFile(segmentFile, segment.body);
        const colour = dominant(await meanColour(segmentFile));
        lastSeen = `${last}: ${colour}`;
        return colour === 'blue' ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 2000 },
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}; last segment ${lastSeen}; the unit's journal:\n${await journal()}`);
    });
    // The unit's sandbox (ProtectSystem=strict, SystemCallFilter) lets it make the media FIFO in
    // its RuntimeDirectory: no fall back to the costlier stdio pipe.
    const fallback = await box.exec([
      'journalctl',
      '-u',
      UNIT,
      '--no-pager',
      '-o',
      'cat',
      '--grep',
      'plain pipe',
    ]);
    assert.doesNotMatch(fallback.stdout, /plain pipe instead/);
  });

  it('the api-token credential guards the control endpoints', async () => {
    const token = (await readFile(path.join(box.root, 'etc/desktop-streamer/api-token'), 'utf8')).trim();
    assert.match(token, /^[0-9a-f]{64}$/);
    const post = (headers: Record<string, string> = {}) =>
      box.http(PORT, '/api/stream/cleanup', { method: 'POST', headers });
    // 401 (not 403 "no token configured"): the service got a token, through LoadCredential=.
    assert.equal((await post()).status, 401);
    assert.equal((await post({ authorization: `Bearer ${'0'.repeat(64)}` })).status, 401);
    assert.equal((await post({ authorization: `Bearer ${token}` })).status, 200);
  });

  it("CPUQuota=/MemoryMax= come from config.json (install.sh's drop-in) and are in the unit's cgroup", async () => {
    const shown = await box.show(UNIT, ['CPUQuotaPerSecUSec', 'MemoryMax', 'DropInPaths']);
    assert.equal(shown.CPUQuotaPerSecUSec, `${CPU_QUOTA_PERCENT * 10}ms`);
    assert.equal(Number(shown.MemoryMax), MEMORY_LIMIT_MB * 1024 * 1024);
    assert.match(shown.DropInPaths ?? '', /desktop-streamer\.service\.d\/50-resources\.conf/);
    // What the kernel enforces, read on the host (cgroup v1 here: cpu and memory controllers).
    const cpu = box.cgroupDir('cpu', UNIT);
    const quota = Number(readFileSync(path.join(cpu, 'cpu.cfs_quota_us'), 'utf8'));
    const period = Number(readFileSync(path.join(cpu, 'cpu.cfs_period_us'), 'utf8'));
    assert.equal(quota / period, CPU_QUOTA_PERCENT / 100);
    const memory = Number(
      readFileSync(path.join(box.cgroupDir('memory', UNIT), 'memory.limit_in_bytes'), 'utf8'),
    );
    assert.equal(memory, MEMORY_LIMIT_MB * 1024 * 1024);
    const mainPid = (await box.show(UNIT, ['MainPID'])).MainPID;
    const procs = readFileSync(path.join(cpu, 'cgroup.procs'), 'utf8').trim().split('\n');
    assert.ok(
      procs.length >= 2,
      `the supervisor and its children are in the cgroup: ${procs.join(' ')} (box pid ${mainPid})`,
    );
  });

  it('Prometheus loads the alert rules and scrapes the supervisor; Alertmanager is ready', async () => {
    const rules = json<PrometheusRules>(await box.http(PROMETHEUS_PORT, '/api/v1/rules?type=alert'));
    const alerts = rules.data.groups.flatMap((g) => g.rules.map((r) => r.name));
    for (const name of [
      'DesktopStreamerDown',
      'DesktopStreamerNoSignal',
      'DesktopStreamerDisplayAccessRefused',
    ]) {
      assert.ok(alerts.includes(name), `${name} loaded (got ${alerts.length} alerts)`);
    }
    const recording = json<PrometheusRules>(await box.http(PROMETHEUS_PORT, '/api/v1/rules?type=record'));
    assert.ok(recording.data.groups.length > 0, 'recording rules loaded');
    await waitFor(
      'the supervisor scraped (up == 1)',
      async () => {
        const q = json<{ data: { result: { value: [number, string] }[] } }>(
          await box.http(PROMETHEUS_PORT, '/api/v1/query?query=up%7Bjob%3D%22desktop-streamer%22%7D'),
        );
        return q.data.result[0]?.value[1] === '1' ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 2000 },
    );
    const am = await box.http(ALERTMANAGER_PORT, '/-/ready');
    assert.equal(am.status, 200);
    const amStatus = json<{ config: { original: string } }>(
      await box.http(ALERTMANAGER_PORT, '/api/v2/status'),
    );
    assert.ok(amStatus.config.original.includes('route:'), 'Alertmanager runs with its config');
  });

  it("SIGSTOP of the supervisor: systemd's watchdog restarts it within WatchdogSec + 10 s; the playlist continues", async () => {
    const watchdogSec = unitSetting('WatchdogSec');
    const before = await box.show(UNIT, ['MainPID', 'NRestarts']);
    const sequenceBefore = mediaSequence((await box.http(PORT, '/hls/desktop/playlist.m3u8')).text());
    const stoppedAt = Date.now();
    const kill = await box.exec(['kill', '-STOP', before.MainPID!]);
    assert.equal(kill.exitCode, 0, kill.stderr);

    const restartedAt = await waitFor(
      'a new main process',
      async () => {
        const s = await box.show(UNIT, ['MainPID', 'NRestarts']);
        return s.MainPID !== before.MainPID && s.MainPID !== '0' ? Date.now() : undefined;
      },
      { timeoutMs: (watchdogSec + 30) * 1000, intervalMs: 250 },
    );
    const seconds = (restartedAt - stoppedAt) / 1000;
    timings.watchdog_restart_seconds = seconds;
    assert.ok(
      seconds <= watchdogSec + 10,
      `restarted ${seconds.toFixed(1)} s after SIGSTOP (limit ${watchdogSec + 10} s)`,
    );
    const log = await journal();
    assert.match(log, /Watchdog timeout/);
    assert.match(log, /Failed with result 'watchdog'/);
    const after = await box.show(UNIT, ['NRestarts']);
    assert.equal(Number(after.NRestarts), Number(before.NRestarts) + 1);

    await waitFor(
      'active (running) again, streaming',
      async () => {
        const s = await box.show(UNIT, ['ActiveState', 'SubState']);
        if (s.ActiveState !== 'active' || s.SubState !== 'running') return undefined;
        return (await detailed()).supervisor.state === 'streaming' ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const sequenceAfter = await waitFor(
      'a higher media sequence',
      async () => {
        const n = mediaSequence((await box.http(PORT, '/hls/desktop/playlist.m3u8')).text());
        return n > sequenceBefore ? n : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.ok(sequenceAfter > sequenceBefore);
  });

  it('an invalid config.json: exit 78 (EX_CONFIG) and no restart loop', async () => {
    const restartSec = unitSetting('RestartSec');
    await writeFile(path.join(box.root, 'etc/desktop-streamer/config.json'), '{"fps": "fast"}\n');
    await box.exec(['systemctl', 'restart', '--no-block', UNIT]);
    const failed = await waitFor(
      'the unit failed',
      async () => {
        const s = await box.show(UNIT, ['ActiveState', 'NRestarts']);
        return s.ActiveState === 'failed' ? s : undefined;
      },
      { timeoutMs: 60_000 },
    );
    // Longer than RestartSec: a restart would have happened by now.
    await sleep((restartSec + 3) * 1000);
    const s = await box.show(UNIT, ['ActiveState', 'Result', 'ExecMainStatus', 'NRestarts']);
    assert.deepEqual(
      { ActiveState: s.ActiveState, Result: s.Result, ExecMainStatus: s.ExecMainStatus },
      { ActiveState: 'failed', Result: 'exit-code', ExecMainStatus: '78' },
    );
    assert.equal(s.NRestarts, failed.NRestarts, 'RestartPreventExitStatus=78: not restarted');
    assert.match(
      await journal(),
      /"issues":\[\{"key":"fps","value":"fast","allowed":"an integer from 1 to 60"\}\]/,
    );
  });
});
