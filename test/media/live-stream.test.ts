/**
 * LiveStream on a real live pipeline: PROGRAM-DATE-TIME from the PLAYING moment and the running
 * time in the timestamps (mpegtsmux's one-hour offset), or from the first frame's arrival.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import type { NewPart } from '../../src/hls/types.ts';
import { LiveStream } from '../../src/media/live-stream.ts';
import { parseBusLine } from '../../src/pipeline/bus-parser.ts';
import { encodedStreamArgs } from '../fixtures/encoded-stream.ts';

const FPS = 15;

/** 2 s of a live test pattern through the production encode tail, bus messages on stdout, TS on fd 3. */
async function liveRun(
  usePlaying: boolean,
): Promise<{ parts: NewPart[]; playingAt: number | null; firstDataAt: number }> {
  const parts: NewPart[] = [];
  const stream = new LiveStream({
    fps: FPS,
    partSeconds: 0.2,
    segmentSeconds: 1,
    now: Date.now,
    onPart: (p) => parts.push(p),
  });
  const child = spawn(
    'gst-launch-1.0',
    [
      '-e',
      '-m',
      ...encodedStreamArgs({ fps: FPS, width: 160, height: 90, gop: 15, frames: 30, live: true }, [
        'fdsink',
        'fd=3',
        'sync=false',
      ]),
    ],
    { stdio: ['ignore', 'pipe', 'ignore', 'pipe'] },
  );
  let playingAt: number | null = null;
  let firstDataAt = 0;
  for await (const line of createInterface({ input: child.stdout! })) {
    const event = parseBusLine(line);
    if (event?.kind === 'state-changed' && event.isPipeline && event.to === 'PLAYING' && playingAt === null) {
      playingAt = Date.now();
      if (usePlaying) stream.playing(playingAt);
    }
    if (playingAt !== null) break;
  }
  const media = child.stdio[3] as NodeJS.ReadableStream;
  media.on('data', (chunk: Buffer) => {
    firstDataAt ||= Date.now();
    stream.push(chunk);
  });
  child.stdout?.resume();
  await new Promise((resolve) => child.on('close', resolve));
  stream.end();
  return { parts, playingAt, firstDataAt };
}

test('with the PLAYING moment: the first part starts at PLAYING + its running time, before its bytes arrived', async () => {
  const { parts, playingAt, firstDataAt } = await liveRun(true);
  assert.ok(playingAt !== null && parts.length >= 5);
  const first = parts[0]!.programDateTime;
  assert.ok(
    first >= playingAt && first <= playingAt + 300,
    `first PDT ${first - playingAt} ms after PLAYING`,
  );
  // The PLAYING line reaches us through gst-launch's main loop and a pipe, some tens of ms late.
  assert.ok(
    first <= firstDataAt + 100,
    `PDT ${first - playingAt} ms and first data ${firstDataAt - playingAt} ms after PLAYING`,
  );
  for (let i = 1; i < parts.length; i++) {
    const expected = parts[i - 1]!.programDateTime + parts[i - 1]!.durationSeconds * 1000;
    assert.ok(Math.abs(parts[i]!.programDateTime - expected) <= 1, `part ${i} follows the one before`);
  }
});

test('without it: anchored to when the first frame arrived, less one frame', async () => {
  const { parts, firstDataAt } = await liveRun(false);
  const first = parts[0]!.programDateTime;
  // The first frame is complete when the second one arrives, about a frame after the first bytes.
  assert.ok(
    first >= firstDataAt - 1000 / FPS - 5 && first <= firstDataAt + 500,
    `first PDT ${first - firstDataAt} ms from first data`,
  );
});
