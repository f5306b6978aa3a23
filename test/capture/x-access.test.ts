/**
 * The fixtures are the real output of xrandr 1.5.2 / gst-launch-1.0 1.22 (Debian 12) against the
 * rig's Xorg started with -auth (scripts/virtual-desktop.sh start --auth): the xrandr ones through
 * the monitor watcher's own loop body, so they are exactly what the supervisor reads.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readingFrom } from '../../src/capture/monitor-watch.ts';
import { classifyDisplayError, displayAccessOf } from '../../src/capture/x-access.ts';

function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/x-access/${name}`, import.meta.url), 'utf8');
}

/** The error text the supervisor keeps from one watcher answer. */
function watcherError(name: string): string {
  const reading = readingFrom(fixture(name).trimEnd().split('\n'));
  assert.ok('error' in reading, `${name} is a failed reading`);
  return reading.error;
}

test('xrandr without a cookie or grant is a refusal, not a missing display', () => {
  assert.equal(classifyDisplayError(watcherError('xrandr-no-cookie.txt')), 'refused');
});

test('xrandr with a cookie the server does not know is a refusal', () => {
  assert.equal(classifyDisplayError(watcherError('xrandr-wrong-cookie.txt')), 'refused');
});

test('xrandr with no server on the display is unreachable', () => {
  assert.equal(classifyDisplayError(watcherError('xrandr-no-server.txt')), 'unreachable');
});

test("gst-launch's output: refused with Xlib's wording, unreachable with ximagesrc's alone", () => {
  assert.equal(classifyDisplayError(fixture('gst-no-cookie.txt')), 'refused');
  assert.equal(classifyDisplayError(fixture('gst-no-server.txt')), 'unreachable');
});

test("ximagesrc's bus error alone (what the supervisor records as a display error) is unreachable", () => {
  const busLine = fixture('gst-no-server.txt')
    .split('\n')
    .find((line) => line.startsWith('ERROR: from element'));
  assert.ok(busLine);
  assert.equal(classifyDisplayError(busLine), 'unreachable');
});

test("older Xlib's and XCB's refusal wordings", () => {
  assert.equal(classifyDisplayError('No protocol specified\ncannot open display: :0'), 'refused');
  assert.equal(classifyDisplayError('Client is not authorized to connect to Server'), 'refused');
  assert.equal(classifyDisplayError('Error: cannot open display: :0'), 'unreachable');
});

test('text about other failures says nothing about access', () => {
  assert.equal(classifyDisplayError('xrandr: timed out'), null);
  assert.equal(classifyDisplayError('xrandr is not installed (Debian package x11-xserver-utils)'), null);
  assert.equal(classifyDisplayError(''), null);
  // "No protocol specified" only counts as a whole line, not inside another sentence.
  assert.equal(classifyDisplayError('the relay said: no protocol specified in URL'), null);
});

test('a successful xrandr answer is not an error reading', () => {
  assert.ok('monitors' in readingFrom(fixture('xrandr-granted.txt').trimEnd().split('\n')));
});

test('displayAccessOf: from the last xrandr failure, else granted once a plan exists', () => {
  assert.equal(displayAccessOf(false, null), 'unknown');
  assert.equal(displayAccessOf(false, undefined), 'unknown');
  assert.equal(displayAccessOf(true, null), 'granted');
  assert.equal(displayAccessOf(true, watcherError('xrandr-no-cookie.txt')), 'refused');
  assert.equal(displayAccessOf(true, watcherError('xrandr-no-server.txt')), 'unreachable');
  assert.equal(displayAccessOf(true, 'xrandr printed nothing'), 'unknown');
  assert.equal(
    displayAccessOf(
      true,
      "cannot list monitors on X display :5: Invalid MIT-MAGIC-COOKIE-1 key\nCan't open display :5",
    ),
    'refused',
  );
});
