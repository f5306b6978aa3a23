import assert from 'node:assert/strict';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { MonitorWatcher, readingFrom } from '../../src/capture/monitor-watch.ts';
import { createLogger } from '../../src/logger.ts';

const TWO = [
  'Monitors: 2',
  ' 0: +*DUMMY0 1920/508x1080/286+0+0  DUMMY0',
  ' 1: +DUMMY1 1280/338x720/190+1920+0  DUMMY1',
];

async function until<T>(what: string, get: () => T | null | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('readingFrom', () => {
  it('a listing becomes monitors, anything else an error', () => {
    const reading = readingFrom(TWO);
    assert.ok('monitors' in reading && reading.monitors.length === 2);
    assert.deepEqual(readingFrom(["Can't open display :9", 'xrandr failed (status 1)']), {
      error: "Can't open display :9\nxrandr failed (status 1)",
    });
  });
});

describe('MonitorWatcher', () => {
  it('polls xrandr from one long-lived shell and follows changes and failures', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-watch-'));
    const listing = join(dir, 'listing.txt');
    await writeFile(listing, `${TWO.join('\n')}\n`);
    // A fake xrandr that prints the listing file, or fails when it is empty.
    await writeFile(
      join(dir, 'xrandr'),
      `#!/bin/sh\n[ "$1 $2 $3" = "--display :5 --listmonitors" ] || exit 9\n[ -s ${listing} ] || { echo "Can't open display :5" >&2; exit 1; }\ncat ${listing}\n`,
    );
    await chmod(join(dir, 'xrandr'), 0o755);
    const watcher = new MonitorWatcher({
      display: ':5',
      intervalSeconds: 0.2,
      logger: pino({ level: 'silent' }),
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    const heard: Array<ReturnType<MonitorWatcher['current']>> = [];
    watcher.onReading(() => heard.push(watcher.current()));
    watcher.start();
    t.after(() => watcher.stop());
    const first = await until('two monitors', () => watcher.current());
    assert.ok('monitors' in first && first.monitors[1]?.name === 'DUMMY1');
    assert.ok(heard.includes(first), 'told of the reading once current() has it');
    await writeFile(listing, `${TWO.slice(0, 2).join('\n').replace('Monitors: 2', 'Monitors: 1')}\n`);
    await until('one monitor', () => {
      const r = watcher.current();
      return r && 'monitors' in r && r.monitors.length === 1;
    });
    await writeFile(listing, '');
    const failed = await until('an error', () => {
      const r = watcher.current();
      return r && 'error' in r ? r : null;
    });
    assert.match('error' in failed ? failed.error : '', /Can't open display :5\nxrandr failed \(status 1\)/);
    assert.ok(failed.at <= Date.now());
  });
});

describe('MonitorWatcher when its loop cannot be spawned', () => {
  it('logs a warning and keeps the process alive (a failed spawn is an error event)', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'warn',
      destination: { write: (chunk: string) => void lines.push(chunk) },
    });
    // No `sh` on this PATH: spawn fails with ENOENT, as it fails with EAGAIN under TasksMax.
    const watcher = new MonitorWatcher({
      display: ':0',
      intervalSeconds: 1,
      logger,
      env: { PATH: '/nonexistent' },
    });
    watcher.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    watcher.stop();
    assert.ok(
      lines.some((line) => line.includes('could not start')),
      lines.join(''),
    );
    assert.equal(watcher.current(), null);
  });
});
