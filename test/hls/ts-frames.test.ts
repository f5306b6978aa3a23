import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { countVideoFrames, findH264Pid } from '../../src/hls/ts-frames.ts';

const run = promisify(execFile);

async function makeSegment(t: { after(fn: () => Promise<void>): void }, frames: number): Promise<Uint8Array> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ts-frames-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'segment.ts');
  await run(
    'gst-launch-1.0',
    [
      '-q',
      'videotestsrc',
      `num-buffers=${frames}`,
      '!',
      'video/x-raw,width=320,height=240,framerate=15/1',
      '!',
      'videoconvert',
      '!',
      'video/x-raw,format=I420',
      '!',
      'x264enc',
      '!',
      'h264parse',
      '!',
      'mpegtsmux',
      '!',
      'filesink',
      `location=${file}`,
    ],
    { timeout: 30_000 },
  );
  return new Uint8Array(await readFile(file));
}

test('counts the 30 frames of a real mpegtsmux segment made by gst-launch-1.0', async (t) => {
  const ts = await makeSegment(t, 30);
  assert.ok(ts.length > 188 * 10, `segment too small: ${ts.length} bytes`);
  assert.notEqual(findH264Pid(ts), null);
  assert.equal(countVideoFrames(ts), 30);
});

test('a stream without PAT/PMT or with garbage has no frames', () => {
  assert.equal(countVideoFrames(new Uint8Array(0)), 0);
  assert.equal(countVideoFrames(new Uint8Array(188 * 4).fill(0x47)), 0);
  assert.equal(countVideoFrames(new Uint8Array(1000).fill(0xff)), 0);
});

/** One 188-byte packet with the given PID, PUSI flag and payload (padded with 0xff). */
function packet(pid: number, start: boolean, payload: number[]): number[] {
  const bytes = [0x47, (start ? 0x40 : 0) | ((pid >> 8) & 0x1f), pid & 0xff, 0x10, ...payload];
  while (bytes.length < 188) bytes.push(0xff);
  return bytes;
}

test('finds the H.264 PID through PAT and PMT and ignores other streams', () => {
  // PAT: program 1 → PMT PID 0x100. CRC bytes are not checked by the parser.
  const pat = [0x00, 0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xe1, 0x00, 0, 0, 0, 0];
  // PMT: PCR PID 0x41, streams: AAC (0x0f) on 0x42, H.264 (0x1b) on 0x41.
  const pmt = [
    0x00, 0x02, 0xb0, 0x17, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe0, 0x41, 0xf0, 0x00, 0x0f, 0xe0, 0x42, 0xf0,
    0x00, 0x1b, 0xe0, 0x41, 0xf0, 0x00, 0, 0, 0, 0,
  ];
  const ts = new Uint8Array([
    ...packet(0, true, pat),
    ...packet(0x100, true, pmt),
    ...packet(0x41, true, [0, 0, 1, 0xe0]),
    ...packet(0x41, false, [1, 2, 3]),
    ...packet(0x42, true, [0, 0, 1, 0xc0]),
    ...packet(0x41, true, [0, 0, 1, 0xe0]),
  ]);
  assert.equal(findH264Pid(ts), 0x41);
  assert.equal(countVideoFrames(ts), 2);
});
