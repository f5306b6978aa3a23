import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import {
  createNotifier,
  type Notifier,
  oneLineStatus,
  startWatchdogPings,
  watchdogIntervalFromEnv,
} from '../../src/systemd/notify.ts';

const silent = pino({ level: 'silent' });
const receiverScript = fileURLToPath(new URL('./fixtures/notify-receiver.py', import.meta.url));

interface Datagram {
  pid: number | null;
  message: string;
}

/** A real NOTIFY_SOCKET (unix datagram socket) served by python3, as Node cannot bind one. */
async function startReceiver(t: TestContext): Promise<{ socketPath: string; datagrams: Datagram[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'notify-test-'));
  const socketPath = path.join(dir, 'notify.sock');
  const child: ChildProcess = spawn('python3', [receiverScript, socketPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(async () => {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  const datagrams: Datagram[] = [];
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
    lines.on('line', (line) => {
      if (line === 'bound') resolve();
      else datagrams.push(JSON.parse(line) as Datagram);
    });
  });
  return { socketPath, datagrams };
}

function messages(datagrams: Datagram[]): string[] {
  return datagrams.map((d) => d.message).filter((m) => m !== 'BARRIER=1');
}

describe('watchdogIntervalFromEnv', () => {
  it('is half of WATCHDOG_USEC in milliseconds', () => {
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '30000000' }, 42), 15_000);
  });
  it('honours WATCHDOG_PID', () => {
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42), 15_000);
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 42), null);
  });
  it('is null without a valid WATCHDOG_USEC', () => {
    assert.equal(watchdogIntervalFromEnv({}, 42), null);
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '0' }, 42), null);
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: 'soon' }, 42), null);
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '-5' }, 42), null);
  });
});

describe('oneLineStatus', () => {
  it('flattens newlines and bounds the length', () => {
    assert.equal(oneLineStatus('streaming\n720p\t15 fps '), 'streaming 720p 15 fps');
    assert.equal(oneLineStatus('x'.repeat(500)).length, 200);
  });
});

describe('createNotifier', () => {
  it('does nothing when NOTIFY_SOCKET is unset', async () => {
    const calls: string[][] = [];
    const notifier = createNotifier({
      logger: silent,
      env: { WATCHDOG_USEC: '30000000' },
      run: async (args) => {
        calls.push(args);
      },
    });
    assert.equal(notifier.enabled, false);
    assert.equal(notifier.watchdogIntervalMs, null);
    await notifier.ready('streaming');
    await notifier.watchdog();
    await notifier.status('x');
    await notifier.stopping();
    startWatchdogPings(notifier, () => true).stop();
    assert.deepEqual(calls, []);
  });

  it('does not throw when sending fails', async () => {
    const notifier = createNotifier({
      logger: silent,
      env: { NOTIFY_SOCKET: '/nonexistent/notify.sock' },
    });
    await notifier.ready('streaming');
    await notifier.watchdog();
  });

  it('delivers READY=1 with MAINPID, STATUS=, WATCHDOG=1 and STOPPING=1 to a real notify socket', async (t) => {
    const { socketPath, datagrams } = await startReceiver(t);
    const notifier = createNotifier({
      logger: silent,
      env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid) },
    });
    assert.equal(notifier.enabled, true);
    assert.equal(notifier.watchdogIntervalMs, 15_000);

    await notifier.ready('streaming 1280x720@15 via x264enc\nsecond line');
    await notifier.status('backoff 4s');
    await notifier.watchdog();
    await notifier.stopping();

    // systemd-notify waits for the BARRIER=1 to be processed, so all have arrived.
    const received = messages(datagrams);
    assert.equal(received.length, 4, JSON.stringify(datagrams));
    const readyFields = received[0]!.split('\n').sort();
    assert.deepEqual(readyFields, [
      `MAINPID=${process.pid}`,
      'READY=1',
      'STATUS=streaming 1280x720@15 via x264enc second line',
    ]);
    assert.equal(received[1], 'STATUS=backoff 4s');
    assert.equal(received[2], 'WATCHDOG=1');
    assert.equal(received[3], 'STOPPING=1');
  });
});

/** Polls until `condition()` holds, failing after `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('startWatchdogPings', () => {
  it('pings a real notify socket only while healthy, and stops on stop()', async (t) => {
    const { socketPath, datagrams } = await startReceiver(t);
    const real = createNotifier({
      logger: silent,
      env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '200000' },
    });
    assert.equal(real.watchdogIntervalMs, 100);
    // Same notifier, but the test knows when a systemd-notify run is still in flight.
    let pending = 0;
    const notifier: Notifier = {
      ...real,
      watchdog: async () => {
        pending += 1;
        try {
          await real.watchdog();
        } finally {
          pending -= 1;
        }
      },
    };
    const count = () => messages(datagrams).filter((m) => m === 'WATCHDOG=1').length;

    let healthy = true;
    const pings = startWatchdogPings(notifier, () => healthy);
    t.after(() => pings.stop());
    await waitFor(() => count() >= 3, 10_000, 'three WATCHDOG=1 while healthy');

    healthy = false;
    await waitFor(() => pending === 0, 10_000, 'the ping in flight');
    const atUnhealthy = count();
    await sleep(600);
    assert.equal(count(), atUnhealthy, 'no WATCHDOG=1 while unhealthy');

    healthy = true;
    await waitFor(() => count() > atUnhealthy, 10_000, 'pings to resume when healthy again');

    pings.stop();
    await waitFor(() => pending === 0, 10_000, 'the ping in flight');
    const atStop = count();
    await sleep(400);
    assert.equal(count(), atStop, 'no WATCHDOG=1 after stop()');
  });
});
