import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const unitFile = fileURLToPath(new URL('../../../systemd/desktop-streamer.service', import.meta.url));
const seccompRun = fileURLToPath(new URL('./fixtures/seccomp-run.py', import.meta.url));
const probe = fileURLToPath(new URL('./fixtures/hardened-probe.mjs', import.meta.url));
// Debian's python3-seccomp installs for the system python.
const PYTHON = '/usr/bin/python3';

async function hasPythonSeccomp(): Promise<boolean> {
  try {
    await run(PYTHON, ['-c', 'import seccomp']);
    return true;
  } catch {
    return false;
  }
}

describe('desktop-streamer.service hardening', () => {
  it('its SystemCallFilter= still lets node, gst-launch x264enc/mpegtsmux to a pipe, segment writes and HTTP work', async (t) => {
    if (!(await hasPythonSeccomp())) {
      t.skip('needs the Debian package python3-seccomp');
      return;
    }
    const unit = await readFile(unitFile, 'utf8');
    const filters = [...unit.matchAll(/^SystemCallFilter=(.+)$/gm)].map((m) => m[1]!.trim());
    assert.ok(filters.length >= 1 && !filters[0]!.startsWith('~'), `filters: ${filters.join(' | ')}`);
    assert.match(unit, /^SystemCallErrorNumber=EPERM$/m, 'the probe models EPERM, as the unit sets');

    const dir = await mkdtemp(path.join(tmpdir(), 'hardening-test-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const { stdout } = await run(
      PYTHON,
      [seccompRun, ...filters.flatMap((f) => ['--filter', f]), '--', process.execPath, probe, dir],
      { timeout: 60_000 },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    assert.ok(result.segments >= 2, `complete segments: ${result.segments}; gst-launch: ${result.stderr}`);
    assert.ok(
      [0, 'SIGKILL'].includes(result.gstExit),
      `gst-launch ended with ${result.gstExit}: ${result.stderr}`,
    );
    assert.equal(result.http, 'ok');
    assert.ok(result.interfaces >= 1);
    assert.equal(result.statfs, true);
    // Control: the filter really was in force (setpriority is in the denied @resources).
    assert.equal(result.setPriority, 'EPERM');
  });
});
