import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CaptureConfig,
  describeCaptureChange,
  planCapture,
  sameCapture,
} from '../../src/capture/plan.ts';
import type { EncoderChoiceResult, Monitor } from '../../src/capture/types.ts';
import { capturePlan } from '../fixtures/capture-plan.ts';

const CONFIG: CaptureConfig = {
  width: 1280,
  height: 720,
  fps: 15,
  bitrate: 2000,
  keyframe_interval: 2,
  segment_duration: 2,
  monitor: 'auto',
  single_monitor_fallback: true,
};
const X264: EncoderChoiceResult = { element: 'x264enc', reason: 'no VA-API device' };

function monitor(index: number, name: string, x: number, primary = false): Monitor {
  return { index, name, outputs: [name], primary, x, y: 0, width: 1920, height: 1080 };
}
const PRIMARY = monitor(0, 'DUMMY0', 0, true);
const SECOND = monitor(1, 'DUMMY1', 1920);

describe('planCapture', () => {
  test('two monitors, monitor auto: the second is captured with the configured size, rate and encoder', () => {
    const mode = planCapture({ monitors: [PRIMARY, SECOND] }, CONFIG, ':0', X264);
    assert.equal(mode.kind, 'capture');
    assert.deepEqual(mode.plan, capturePlan({ monitor: SECOND, encoder: X264 }));
  });

  test('one monitor left: the primary, marked as a fallback; with the fallback off, the slate naming the monitors', () => {
    const fallback = planCapture({ monitors: [PRIMARY] }, CONFIG, ':0', X264);
    assert.equal(fallback.kind, 'capture');
    assert.equal(fallback.plan.monitor, PRIMARY);
    assert.equal(fallback.plan.fallbackToPrimary, true);

    const slate = planCapture(
      { monitors: [PRIMARY] },
      { ...CONFIG, single_monitor_fallback: false },
      ':0',
      X264,
    );
    assert.equal(slate.kind, 'slate');
    assert.match(slate.kind === 'slate' ? slate.why : '', /^monitor "auto" not found \(.*DUMMY0.*\)$/);
    assert.equal(slate.plan.monitor.name, 'none');
    assert.equal(slate.plan.monitor.width, 1280, 'the slate is drawn at the configured size');
  });

  test('a failed reading: the slate with the reading error as the reason', () => {
    const mode = planCapture({ error: "Can't open display :0" }, CONFIG, ':0', X264);
    assert.deepEqual(mode.kind === 'slate' ? [mode.why, mode.plan.fallbackToPrimary] : null, [
      "Can't open display :0",
      false,
    ]);
  });

  test('a monitor asked for by name that is not there (no fallback): the slate says which', () => {
    const mode = planCapture(
      { monitors: [PRIMARY, SECOND] },
      { ...CONFIG, monitor: 'HDMI-A-1', single_monitor_fallback: false },
      ':0',
      X264,
    );
    assert.equal(mode.kind, 'slate');
    assert.match(describeCaptureChange(mode), /^capture lost: monitor "HDMI-A-1" not found/);
  });
});

describe('sameCapture', () => {
  const capture = (m: Monitor) => planCapture({ monitors: [PRIMARY, m] }, CONFIG, ':0', X264);
  const slate = (why: string) => planCapture({ error: why }, CONFIG, ':0', X264);

  test('same monitor at the same place and size: same; moved, resized or renamed: a change', () => {
    assert.equal(sameCapture(capture(SECOND), capture({ ...SECOND })), true);
    assert.equal(sameCapture(capture({ ...SECOND, x: 2560 }), capture(SECOND)), false);
    assert.equal(sameCapture(capture({ ...SECOND, width: 1280 }), capture(SECOND)), false);
    assert.equal(sameCapture(capture({ ...SECOND, name: 'DUMMY2' }), capture(SECOND)), false);
  });

  test('slate to slate is the same whatever the reason; slate and capture differ', () => {
    assert.equal(sameCapture(slate('a'), slate('b')), true);
    assert.equal(sameCapture(slate('a'), capture(SECOND)), false);
    assert.equal(sameCapture(capture(SECOND), slate('a')), false);
    assert.equal(describeCaptureChange(capture(SECOND)), 'capture available: DUMMY1 1920x1080+1920+0');
  });
});
