import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import {
  meanBrightness,
  PictureTap,
  pictureChanged,
  TAP_GRAY_HEIGHT,
  TAP_GRAY_WIDTH,
} from '../../src/picture/tap.ts';

const FRAME = TAP_GRAY_WIDTH * TAP_GRAY_HEIGHT;
const frame = (value: number) => Buffer.alloc(FRAME, value);

describe('PictureTap', () => {
  it('measures brightness and how long the picture has not changed, across chunk boundaries', () => {
    let now = 0;
    const tap = new PictureTap(() => now);
    assert.equal(tap.snapshot(), null);
    const first = frame(255);
    tap.feedGray(first.subarray(0, 100));
    tap.feedGray(first.subarray(100));
    assert.deepEqual(tap.snapshot(), { unchangedSeconds: 0, brightness: 1 });
    now = 5000;
    tap.feedGray(frame(255));
    assert.equal(tap.snapshot()?.unchangedSeconds, 5);
    const moved = frame(255);
    moved[42] = 0;
    now = 6000;
    tap.feedGray(moved);
    assert.equal(tap.snapshot()?.unchangedSeconds, 0);
    now = 9000;
    assert.equal(tap.snapshot()?.unchangedSeconds, 3);
  });

  it('ignores tiny differences, sees a black screen as dark', () => {
    assert.equal(pictureChanged(frame(100), frame(104)), false);
    assert.equal(pictureChanged(frame(100), frame(120)), true);
    assert.equal(meanBrightness(frame(0)), 0);
  });

  it('keeps the newest complete JPEG and drops partial ones of a stopped run', () => {
    const tap = new PictureTap();
    const jpeg = (n: number) => Buffer.from([0xff, 0xd8, n, n, 0xff, 0xd9]);
    tap.feedJpeg(Buffer.concat([jpeg(1), jpeg(2).subarray(0, 3)]));
    assert.deepEqual(tap.jpeg(), jpeg(1));
    tap.feedJpeg(jpeg(2).subarray(3));
    assert.deepEqual(tap.jpeg(), jpeg(2));
    tap.feedJpeg(jpeg(3).subarray(0, 4));
    tap.resetStreams();
    tap.feedJpeg(jpeg(4));
    assert.deepEqual(tap.jpeg(), jpeg(4));
  });

  it('reads the real pipeline branch: gst-launch-1.0 writing GRAY8 frames and JPEGs to fds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-tap-'));
    const tap = new PictureTap();
    const gst = execa(
      'gst-launch-1.0',
      [
        'videotestsrc',
        'num-buffers=3',
        'pattern=white',
        '!',
        'video/x-raw,width=320,height=180,framerate=1/1',
        '!',
        'tee',
        'name=t',
        '!',
        'queue',
        '!',
        'jpegenc',
        '!',
        'fdsink',
        'fd=4',
        't.',
        '!',
        'queue',
        '!',
        'videoconvertscale',
        '!',
        `video/x-raw,format=GRAY8,width=${TAP_GRAY_WIDTH},height=${TAP_GRAY_HEIGHT}`,
        '!',
        'fdsink',
        'fd=3',
      ],
      { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'], buffer: false, cwd: dir },
    );
    const fds = gst.stdio as unknown as NodeJS.ReadableStream[];
    fds[3]!.on('data', (c: Buffer) => tap.feedGray(c));
    fds[4]!.on('data', (c: Buffer) => tap.feedJpeg(c));
    await gst;
    assert.ok((tap.snapshot()?.brightness ?? 0) > 0.95, 'white picture is bright');
    const jpeg = tap.jpeg();
    assert.ok(jpeg && jpeg.length > 100);
    await execa('sh', ['-c', `cat > ${dir}/s.jpg`], { input: jpeg });
    const probe = await execa('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=width,height',
      '-of',
      'csv=p=0',
      `${dir}/s.jpg`,
    ]);
    assert.equal(probe.stdout.trim(), '320,180');
    assert.ok((await readFile(`${dir}/s.jpg`)).length > 0);
  });
});
