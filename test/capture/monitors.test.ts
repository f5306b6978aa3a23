import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { geometryOf, parseListMonitors, selectMonitor } from '../../src/capture/monitors.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/xrandr/${name}`, import.meta.url), 'utf8');

describe('parseListMonitors', () => {
  it('reads the two-monitor dummy rig', () => {
    const monitors = parseListMonitors(fixture('two-dummy.txt'));
    assert.deepEqual(monitors, [
      { index: 0, name: 'DUMMY0', outputs: ['DUMMY0'], primary: true, x: 0, y: 0, width: 1920, height: 1080 },
      {
        index: 1,
        name: 'DUMMY1',
        outputs: ['DUMMY1'],
        primary: false,
        x: 1920,
        y: 0,
        width: 1280,
        height: 720,
      },
    ]);
  });

  it('reads odd listings: zero physical size, negative offsets, several outputs, no outputs, no "+" flag', () => {
    const monitors = parseListMonitors(fixture('odd.txt'));
    assert.equal(monitors.length, 4);
    assert.deepEqual(monitors[1], {
      index: 1,
      name: 'eDP-1',
      outputs: ['eDP-1'],
      primary: true,
      x: 2560,
      y: 360,
      width: 1920,
      height: 1080,
    });
    assert.deepEqual(monitors[2]?.outputs, ['DP-2', 'DP-3']);
    assert.equal(monitors[2]?.x, -960);
    assert.deepEqual(monitors[3]?.outputs, []);
    assert.equal(monitors[3]?.y, 1440);
  });

  it('ignores garbage', () => {
    assert.deepEqual(parseListMonitors("Can't open display :9\n\n"), []);
  });
});

describe('selectMonitor', () => {
  const two = parseListMonitors(fixture('two-dummy.txt'));
  const odd = parseListMonitors(fixture('odd.txt'));
  const single = parseListMonitors(fixture('single.txt'));

  it('auto picks the first non-primary monitor', () => {
    assert.equal(selectMonitor(two, 'auto', true)?.monitor.name, 'DUMMY1');
    const noPrimary = two.map((m) => ({ ...m, primary: false }));
    assert.equal(
      selectMonitor(noPrimary, 'auto', false)?.monitor.name,
      'DUMMY1',
      'no primary flagged: the second listed',
    );
    assert.equal(selectMonitor(odd, 'auto', true)?.monitor.name, 'HDMI-A-1');
  });

  it('honours an index or an output name', () => {
    assert.equal(selectMonitor(odd, 2, false)?.monitor.name, 'SplitLeft');
    assert.equal(selectMonitor(odd, 'DP-3', false)?.monitor.name, 'SplitLeft');
    assert.equal(selectMonitor(odd, 'eDP-1', false)?.monitor.name, 'eDP-1');
  });

  it('falls back to the primary monitor only when allowed', () => {
    assert.deepEqual(selectMonitor(single, 'auto', true), { monitor: single[0], fallbackToPrimary: true });
    assert.equal(selectMonitor(single, 'auto', false), null);
    assert.equal(selectMonitor(two, 'HDMI-9', false), null);
    assert.equal(selectMonitor([], 'auto', true), null);
  });

  it('formats geometry as X11 does', () => {
    assert.equal(geometryOf(two[1]!), '1280x720+1920+0');
    assert.equal(geometryOf(odd[2]!), '960x1080-960+0');
  });
});
