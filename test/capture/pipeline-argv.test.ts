import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildCaptureArgs,
  buildSlateArgs,
  keyframeIntervalFrames,
  MEDIA_FD,
  watchdogTimeoutMs,
} from '../../src/capture/pipeline-argv.ts';
import type { EncoderElement } from '../../src/capture/types.ts';
import { capturePlan } from '../fixtures/capture-plan.ts';

const plan = (element: EncoderElement) =>
  capturePlan({ display: ':99', encoder: { element, reason: 'test' } });

/** The argv entries between "name" and the next "!" (the element's properties). */
function element(argv: string[], name: string): string[] {
  const start = argv.indexOf(name);
  assert.notEqual(start, -1, `${name} in ${argv.join(' ')}`);
  const end = argv.indexOf('!', start);
  return argv.slice(start, end === -1 ? undefined : end);
}

describe('buildCaptureArgs', () => {
  it('captures exactly the monitor rectangle (inclusive end coordinates) without damage tracking', () => {
    const argv = buildCaptureArgs(plan('x264enc'));
    assert.deepEqual(argv.slice(0, 2), ['-e', '-m']);
    assert.deepEqual(element(argv, 'ximagesrc'), [
      'ximagesrc',
      'display-name=:99',
      'startx=1920',
      'starty=0',
      'endx=3199',
      'endy=719',
      'use-damage=false',
      'show-pointer=false',
    ]);
    assert.ok(argv.includes('video/x-raw,framerate=15/1'));
  });

  it('x264: kiosk-friendly settings, I420 (never 4:4:4), keyframes every fps × keyframe_interval frames', () => {
    const argv = buildCaptureArgs(plan('x264enc'));
    assert.ok(argv.includes('video/x-raw,format=I420,width=1280,height=720,pixel-aspect-ratio=1/1'));
    const x264 = element(argv, 'x264enc');
    for (const prop of [
      'tune=zerolatency',
      'speed-preset=ultrafast',
      'threads=2',
      'bitrate=2000',
      'key-int-max=30',
    ]) {
      assert.ok(x264.includes(prop), prop);
    }
  });

  it('VAAPI (va plugin): GPU scaling to NV12 VAMemory, CBR, no B-frames', () => {
    const argv = buildCaptureArgs(plan('vah264enc'));
    assert.ok(argv.includes('vapostproc'));
    assert.ok(
      argv.includes('video/x-raw(memory:VAMemory),format=NV12,width=1280,height=720,pixel-aspect-ratio=1/1'),
    );
    assert.deepEqual(element(argv, 'vah264enc'), [
      'vah264enc',
      'bitrate=2000',
      'key-int-max=30',
      'rate-control=cbr',
      'b-frames=0',
    ]);
    assert.ok(!argv.includes('videoconvertscale'));
  });

  it('VAAPI (gstreamer-vaapi) and openh264 use their own property names and units', () => {
    assert.deepEqual(element(buildCaptureArgs(plan('vaapih264enc')), 'vaapih264enc'), [
      'vaapih264enc',
      'bitrate=2000',
      'keyframe-period=30',
      'rate-control=cbr',
    ]);
    assert.ok(element(buildCaptureArgs(plan('openh264enc')), 'openh264enc').includes('bitrate=2000000'));
  });

  it('ends in h264parse → mpegtsmux → a queue that never drops → fdsink on the media fd, with a watchdog before the encoder', () => {
    const argv = buildCaptureArgs(plan('x264enc'));
    const tail = argv.slice(argv.indexOf('h264parse'));
    assert.deepEqual(tail, [
      'h264parse',
      'config-interval=-1',
      '!',
      'video/x-h264,stream-format=byte-stream,alignment=au',
      '!',
      'mpegtsmux',
      '!',
      'queue',
      'max-size-buffers=0',
      'max-size-time=0',
      'max-size-bytes=8388608',
      '!',
      'fdsink',
      `fd=${MEDIA_FD}`,
      'sync=false',
    ]);
    assert.ok(!argv.includes('hlssink2'));
    assert.ok(argv.indexOf('watchdog') < argv.indexOf('x264enc'));
    assert.deepEqual(element(argv, 'watchdog'), ['watchdog', 'timeout=4000']);
  });
});

describe('buildSlateArgs', () => {
  it('streams a test pattern with the message at the same output format', () => {
    const argv = buildSlateArgs(plan('x264enc'), 'No signal');
    assert.ok(!argv.includes('ximagesrc'));
    assert.ok(argv.includes('text=No signal'));
    assert.ok(argv.includes('video/x-raw,framerate=15/1,width=1280,height=720'));
    assert.ok(argv.includes(`fd=${MEDIA_FD}`));
  });
});

describe('helpers', () => {
  it('derives keyframe distance and watchdog timeout', () => {
    assert.equal(keyframeIntervalFrames({ fps: 30, keyframeIntervalSeconds: 1 }), 30);
    assert.equal(keyframeIntervalFrames({ fps: 15, keyframeIntervalSeconds: 0.01 }), 1);
    assert.equal(watchdogTimeoutMs(1), 4000);
    assert.equal(watchdogTimeoutMs(6), 12000);
  });
});
