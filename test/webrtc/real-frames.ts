/**
 * Frames of a REAL encode for the WebRTC tests: the fixture's x264 → mpegtsmux stream, recorded
 * once per test file and cut into frames by the TsFrameSplitter the supervisor uses.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type TsFrame, TsFrameSplitter } from '../../src/media/ts-frame-splitter.ts';
import { type EncodedStreamOptions, recordEncodedStream } from '../fixtures/encoded-stream.ts';

/**
 * 3 s of 320x180 at 15 fps with a keyframe every 15 frames (as the splitter's own tests use): PES
 * that span many TS packets at keyframes, and quick to record on a busy machine.
 */
export const REAL_STREAM: EncodedStreamOptions & { frames: number } = {
  fps: 15,
  width: 320,
  height: 180,
  gop: 15,
  frames: 45,
};

export interface RecordedFrames {
  /** The whole MPEG-TS file as mpegtsmux wrote it. */
  stream: Buffer;
  /** The complete frames (the last, still open one is held back by the splitter). */
  frames: TsFrame[];
  file: string;
  dir: string;
}

/** Records the stream into a new temporary directory; `cleanup` removes it. */
export async function recordFrames(
  options: EncodedStreamOptions & { frames: number } = REAL_STREAM,
): Promise<RecordedFrames & { cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'webrtc-frames-'));
  const file = path.join(dir, 'stream.ts');
  await recordEncodedStream(file, options);
  const stream = await readFile(file);
  const splitter = new TsFrameSplitter();
  const frames = splitter.push(stream);
  if (splitter.skippedBytes !== 0)
    throw new Error(`the recorded stream has ${splitter.skippedBytes} stray bytes`);
  return { stream, frames, file, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
