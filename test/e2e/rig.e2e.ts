/**
 * Proves the test rig every other e2e test stands on: a real two-monitor Xorg
 * whose monitors are really captured (gst-launch-1.0 ximagesrc) as red and blue.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { dominant, FrameDecodeError, meanColour } from '../helpers/frames.ts';
import { type Rig, RigToolMissingError, requireRigTools, startRig } from '../helpers/rig.ts';

interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

const FIRST_MONITOR: Region = { x: 0, y: 0, width: 1920, height: 1080 };
const SECOND_MONITOR: Region = { x: 1920, y: 0, width: 1280, height: 720 };

let workDir: string;
let captureCount = 0;

async function capturePng(display: string, region: Region): Promise<string> {
  const file = path.join(workDir, `capture-${++captureCount}.png`);
  await execa(
    'gst-launch-1.0',
    [
      '-q',
      'ximagesrc',
      `display-name=${display}`,
      `startx=${region.x}`,
      `starty=${region.y}`,
      `endx=${region.x + region.width - 1}`,
      `endy=${region.y + region.height - 1}`,
      'use-damage=false',
      'num-buffers=1',
      '!',
      'videoconvert',
      '!',
      'pngenc',
      '!',
      'filesink',
      `location=${file}`,
    ],
    { timeout: 20_000, stdin: 'ignore' },
  );
  return file;
}

async function colourOf(display: string, region: Region): Promise<string> {
  const colour = await meanColour(await capturePng(display, region));
  return `${dominant(colour)} ${JSON.stringify(colour)}`;
}

/** Monitor lines of `xrandr --listmonitors`, e.g. " 1: +DUMMY1 1280/339x720/190+1920+0  DUMMY1". */
function geometries(listing: string): string[] {
  return listing
    .split('\n')
    .slice(1)
    .map((line) =>
      line.trim().replace(/^(\d+): \+(\*?)(\S+) (\d+)\/\d+x(\d+)\/\d+(\+\d+\+\d+).*$/, '$3$2 $4x$5$6'),
    );
}

async function assertTwoMonitorsRedBlue(rig: Rig): Promise<void> {
  assert.deepEqual(geometries(await rig.listMonitors()), ['DUMMY0* 1920x1080+0+0', 'DUMMY1 1280x720+1920+0']);
  assert.match(await colourOf(rig.display, FIRST_MONITOR), /^red /);
  assert.match(await colourOf(rig.display, SECOND_MONITOR), /^blue /);
}

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'rig-e2e-'));
});
after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('virtual two-monitor rig', () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig();
  });
  after(async () => {
    await rig?.stop();
  });

  it('lists two monitors: DUMMY0 1920x1080+0+0 primary, DUMMY1 1280x720+1920+0', async () => {
    assert.match(rig.display, /^:\d+$/);
    assert.deepEqual(geometries(await rig.listMonitors()), [
      'DUMMY0* 1920x1080+0+0',
      'DUMMY1 1280x720+1920+0',
    ]);
  });

  it('captures the first monitor as red and the second as blue with ximagesrc', async () => {
    assert.match(await colourOf(rig.display, FIRST_MONITOR), /^red /);
    assert.match(await colourOf(rig.display, SECOND_MONITOR), /^blue /);
  });

  it('shows moving content on the second monitor', async () => {
    const before = await readFile(await capturePng(rig.display, SECOND_MONITOR));
    await sleep(1_200); // the blue xclock ticks every second
    const later = await readFile(await capturePng(rig.display, SECOND_MONITOR));
    assert.notDeepEqual(later, before);
  });

  it('unplugs the second monitor and plugs it back with its blue content', async () => {
    await rig.unplugSecond();
    assert.deepEqual(geometries(await rig.listMonitors()), ['DUMMY0* 1920x1080+0+0']);
    await rig.replugSecond();
    await assertTwoMonitorsRedBlue(rig);
  });

  it('comes back with the same layout and content after the X server is killed', async () => {
    await rig.killXServer();
    await assert.rejects(rig.listMonitors());
    await rig.restartXServer();
    await sleep(300); // let the freshly started clocks paint
    await assertTwoMonitorsRedBlue(rig);
  });
});

describe('rig helpers', () => {
  it('requireRigTools names the missing binaries', () => {
    requireRigTools();
    const savedPath = process.env.PATH;
    process.env.PATH = workDir;
    try {
      assert.throws(requireRigTools, (error: unknown) => {
        assert.ok(error instanceof RigToolMissingError);
        assert.match(error.message, /Xorg, xrandr, xsetroot, xclock, gst-launch-1\.0, ffmpeg/);
        return true;
      });
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('meanColour decodes one frame, also after a seek', async () => {
    const video = path.join(workDir, 'red-then-green.mp4');
    await execa(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
        ...['-f', 'lavfi', '-i', 'color=c=red:s=64x64:r=10:d=1'],
        ...['-f', 'lavfi', '-i', 'color=c=lime:s=64x64:r=10:d=1'],
        ...['-filter_complex', '[0:v][1:v]concat=n=2:v=1[v]', '-map', '[v]'],
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', video],
      ],
      { timeout: 20_000 },
    );
    assert.equal(dominant(await meanColour(video)), 'red');
    assert.equal(dominant(await meanColour(video, { seekSeconds: 1.5 })), 'green');
    await assert.rejects(meanColour(path.join(workDir, 'missing.mp4')), FrameDecodeError);
  });

  it('dominant names only clear colours', () => {
    assert.equal(dominant({ r: 250, g: 3, b: 2 }), 'red');
    assert.equal(dominant({ r: 0, g: 200, b: 90 }), 'green');
    assert.equal(dominant({ r: 1, g: 0, b: 248 }), 'blue');
    assert.equal(dominant({ r: 20, g: 30, b: 40 }), 'black');
    assert.equal(dominant({ r: 240, g: 235, b: 250 }), 'white');
    assert.equal(dominant({ r: 200, g: 200, b: 0 }), 'other');
    assert.equal(dominant({ r: 128, g: 128, b: 128 }), 'other');
  });
});
