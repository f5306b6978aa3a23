/**
 * The monitor watcher on the real X server of the rig: RandR events (xev) make it read the
 * layout again at once, so an unplug or a replug is seen long before its next poll.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { MonitorWatcher, type TimedMonitorReading } from '../../src/capture/monitor-watch.ts';
import { type Rig, startRig } from '../helpers/rig.ts';

/** Longer than the whole test: a reading within it can only have come from an event. */
const POLL_SECONDS = 600;

async function monitorCount(
  watcher: MonitorWatcher,
  count: number,
  timeoutMs = 5000,
): Promise<TimedMonitorReading> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reading = watcher.current();
    if (reading && 'monitors' in reading && reading.monitors.length === count) return reading;
    if (Date.now() > deadline) throw new Error(`no reading with ${count} monitors within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('monitor watcher on the rig', () => {
  let rig: Rig;
  let watcher: MonitorWatcher;

  before(async () => {
    rig = await startRig();
    watcher = new MonitorWatcher({
      display: rig.display,
      intervalSeconds: POLL_SECONDS,
      logger: pino({ level: 'silent' }),
    });
    watcher.start();
    await monitorCount(watcher, 2);
  });

  after(async () => {
    watcher?.stop();
    await rig?.stop();
  });

  it('sees an unplug and a replug of monitor 2 within a second, with the poll 10 minutes away', async (t) => {
    for (const [change, count] of [
      [() => rig.unplugSecond(), 1],
      [() => rig.replugSecond(), 2],
    ] as const) {
      const started = Date.now();
      await change();
      const reading = await monitorCount(watcher, count);
      assert.ok(reading.at >= started, 'a reading taken after the change');
      t.diagnostic(
        `${count === 1 ? 'unplug' : 'replug'} seen ${reading.at - started} ms after the change began`,
      );
    }
  });
});
