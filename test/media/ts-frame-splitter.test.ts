/**
 * TsFrameSplitter against REAL mpegtsmux output (generated once with gst-launch-1.0) and against
 * crafted packets where real output cannot reach a case (33-bit PTS wrap).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type TsFrame, TsFrameSplitter } from '../../src/media/ts-frame-splitter.ts';
import {
  h264PidOf,
  PACKET_SIZE,
  PAT_PID,
  PTS_WRAP,
  packetsOf,
  parsePacket,
  pesPtsOf,
  pmtPidsOf,
  startsWithKeyframe,
} from '../../src/media/ts-packets.ts';
import { recordEncodedStream } from '../fixtures/encoded-stream.ts';

const run = promisify(execFile);

const FPS = 15;
const GOP = 15;
const BUFFERS = 45;
const TICKS_PER_FRAME = 90_000 / FPS;

/** 3 s of 320x180 at 15 fps, a keyframe every 15 frames, as the pipeline muxes it. */
const STREAM = { fps: FPS, width: 320, height: 180, gop: GOP, frames: BUFFERS };

/** Deterministic PRNG (mulberry32): the random chunkings are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function splitAll(
  stream: Buffer,
  chunkSize: (offset: number) => number,
): { frames: TsFrame[]; skipped: number } {
  const splitter = new TsFrameSplitter();
  const frames: TsFrame[] = [];
  for (let offset = 0; offset < stream.length; ) {
    const size = Math.max(1, chunkSize(offset));
    frames.push(...splitter.push(stream.subarray(offset, offset + size)));
    offset += size;
  }
  return { frames, skipped: splitter.skippedBytes };
}

function pidsOf(data: Buffer): number[] {
  return [...packetsOf(data)].map((packet) => packet.pid);
}

/** Garbage that holds no sync byte (0x47), so it cannot be taken for a packet start. */
function garbage(length: number, random: () => number): Buffer {
  return Buffer.from(
    Array.from({ length }, () => {
      const byte = Math.floor(random() * 256);
      return byte === 0x47 ? 0x48 : byte;
    }),
  );
}

async function ffprobeFrames(file: string): Promise<{ frames: number; stderr: string }> {
  const { stdout, stderr } = await run('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=nb_read_frames',
    '-of',
    'json',
    file,
  ]);
  const parsed = JSON.parse(stdout) as { streams: Array<{ nb_read_frames: string }> };
  return { frames: Number(parsed.streams[0]?.nb_read_frames), stderr };
}

describe('TsFrameSplitter on real mpegtsmux output', () => {
  let dir: string;
  let stream: Buffer;
  let reference: TsFrame[];
  let pmtPid: number;
  let videoPid: number;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ts-frame-splitter-'));
    const file = path.join(dir, 'stream.ts');
    await recordEncodedStream(file, STREAM);
    stream = await readFile(file);
    const splitter = new TsFrameSplitter();
    reference = splitter.push(stream);
    assert.equal(splitter.skippedBytes, 0);
    const packets = [...packetsOf(stream)];
    pmtPid = pmtPidsOf(packets.find((packet) => packet.pid === PAT_PID)!)[0]!;
    videoPid = h264PidOf(packets.find((packet) => packet.pid === pmtPid)!)!;
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the generated stream is whole packets with one PMT and one H.264 PID', () => {
    assert.equal(stream.length % PACKET_SIZE, 0);
    assert.ok(pmtPid > 0);
    assert.ok(videoPid > 0 && videoPid !== pmtPid);
  });

  test('44 complete frames: the 45th (open) frame is held back until the next one starts', () => {
    assert.equal(reference.length, BUFFERS - 1);
  });

  test('keyframes exactly every 15 frames, the first frame is one', () => {
    const keyframes = reference.flatMap((frame, index) => (frame.keyframe ? [index] : []));
    assert.deepEqual(keyframes, [0, 15, 30]);
  });

  test('PTS grows by one frame (6000 ticks of 90 kHz at 15 fps, ±1 of rounding), keyframes 1 s apart', () => {
    for (let i = 1; i < reference.length; i++) {
      const step = reference[i]!.pts - reference[i - 1]!.pts;
      assert.ok(Math.abs(step - TICKS_PER_FRAME) <= 1, `frame ${i}: PTS step ${step}`);
    }
    const first = reference[0]!.pts;
    assert.equal(reference[15]!.pts - first, 90_000);
    assert.equal(reference[30]!.pts - first, 180_000);
    assert.ok(Math.abs(reference[43]!.pts - first - 43 * TICKS_PER_FRAME) <= 1);
  });

  test('every frame is whole 188-byte packets, each starting with the sync byte', () => {
    for (const [index, frame] of reference.entries()) {
      assert.equal(frame.data.length % PACKET_SIZE, 0, `frame ${index}`);
      for (let offset = 0; offset < frame.data.length; offset += PACKET_SIZE) {
        assert.equal(frame.data[offset], 0x47, `frame ${index} offset ${offset}`);
      }
    }
  });

  test('every keyframe frame begins with a PAT and a PMT packet', () => {
    for (const [index, frame] of reference.entries()) {
      if (!frame.keyframe) continue;
      const pids = pidsOf(frame.data);
      assert.deepEqual(pids.slice(0, 2), [PAT_PID, pmtPid], `frame ${index}: ${pids.slice(0, 4).join(',')}`);
    }
  });

  test('each frame holds exactly one PES start on the video PID, with its PTS and keyframe flag', () => {
    for (const [index, frame] of reference.entries()) {
      const starts = [...packetsOf(frame.data)].filter(
        (packet) => packet.pid === videoPid && packet.payloadUnitStart,
      );
      assert.equal(starts.length, 1, `frame ${index}`);
      assert.equal(pesPtsOf(starts[0]!.payload), frame.pts);
      assert.equal(startsWithKeyframe(starts[0]!.payload) || starts[0]!.randomAccess, frame.keyframe);
    }
  });

  test('the frames are the stream: in order, nothing dropped, only PAT/PMT copies added at keyframes', () => {
    let offset = 0;
    let copies = 0;
    for (const [index, frame] of reference.entries()) {
      let data = frame.data;
      if (!stream.subarray(offset, offset + data.length).equals(data)) {
        // The only change allowed: a copy of the PAT and PMT in front of a keyframe.
        assert.ok(frame.keyframe, `frame ${index} differs from the stream and is no keyframe`);
        assert.deepEqual(pidsOf(data.subarray(0, 2 * PACKET_SIZE)), [PAT_PID, pmtPid]);
        data = data.subarray(2 * PACKET_SIZE);
        copies++;
      }
      assert.ok(stream.subarray(offset, offset + data.length).equals(data), `frame ${index} is the stream`);
      offset += data.length;
    }
    assert.ok(copies > 0, 'this stream has keyframes without tables right before them');
    assert.ok(offset < stream.length, 'the open frame is held back');
  });

  test('fed in one chunk, in 1-byte chunks and in seeded random chunks: identical frames', () => {
    const oneByte = splitAll(stream, () => 1);
    assert.deepEqual(oneByte.frames, reference);
    assert.equal(oneByte.skipped, 0);
    for (const seed of [1, 2, 3, 42, 1234]) {
      const random = seeded(seed);
      const chunked = splitAll(stream, () => 1 + Math.floor(random() * 2000));
      assert.deepEqual(chunked.frames, reference, `seed ${seed}`);
      assert.equal(chunked.skipped, 0, `seed ${seed}`);
    }
    const packetSized = splitAll(stream, () => PACKET_SIZE);
    assert.deepEqual(packetSized.frames, reference);
    const offByOne = splitAll(stream, () => PACKET_SIZE + 1);
    assert.deepEqual(offByOne.frames, reference);
  });

  test('frames come out as soon as the next frame starts (never more than one frame held back)', () => {
    const splitter = new TsFrameSplitter();
    let out = 0;
    let videoStarts = 0;
    for (let offset = 0; offset < stream.length; offset += PACKET_SIZE) {
      const packet = parsePacket(stream.subarray(offset, offset + PACKET_SIZE))!;
      if (packet.pid === videoPid && packet.payloadUnitStart) videoStarts++;
      out += splitter.push(stream.subarray(offset, offset + PACKET_SIZE)).length;
      assert.equal(out, Math.max(0, videoStarts - 1), `after packet ${offset / PACKET_SIZE}`);
    }
  });

  test('the frames decode: ffprobe -count_frames reads 44 frames without an error', async () => {
    const file = path.join(dir, 'frames.ts');
    await writeFile(file, Buffer.concat(reference.map((frame) => frame.data)));
    const { frames, stderr } = await ffprobeFrames(file);
    assert.equal(frames, BUFFERS - 1);
    assert.equal(stderr, '');
  });

  test('a keyframe gets the PAT and PMT prefixed when the muxer sent them long before; a cut there decodes alone', async () => {
    // Keep only the first PAT and PMT: the later keyframes must carry copies of them.
    const packets: Buffer[] = [];
    const seen = new Set<number>();
    for (let offset = 0; offset < stream.length; offset += PACKET_SIZE) {
      const raw = stream.subarray(offset, offset + PACKET_SIZE);
      const pid = parsePacket(raw)!.pid;
      if (pid === PAT_PID || pid === pmtPid) {
        if (seen.has(pid)) continue;
        seen.add(pid);
      }
      packets.push(raw);
    }
    const stripped = Buffer.concat(packets);
    const splitter = new TsFrameSplitter();
    const frames = splitter.push(stripped);
    assert.equal(frames.length, BUFFERS - 1);
    assert.deepEqual(
      frames.map((frame) => frame.pts),
      reference.map((frame) => frame.pts),
    );
    const firstPat = packets.find((raw) => parsePacket(raw)!.pid === PAT_PID)!;
    const firstPmt = packets.find((raw) => parsePacket(raw)!.pid === pmtPid)!;
    for (const [index, frame] of frames.entries()) {
      const pids = pidsOf(frame.data);
      if (frame.keyframe) {
        assert.deepEqual(pids.slice(0, 2), [PAT_PID, pmtPid], `keyframe ${index}`);
        assert.ok(frame.data.subarray(0, PACKET_SIZE).equals(firstPat), 'byte-identical PAT copy');
        assert.ok(
          frame.data.subarray(PACKET_SIZE, 2 * PACKET_SIZE).equals(firstPmt),
          'byte-identical PMT copy',
        );
      } else {
        assert.ok(!pids.includes(PAT_PID) && !pids.includes(pmtPid), `frame ${index} got tables it had not`);
      }
    }
    // A segment that starts at the second keyframe is decodable on its own.
    const file = path.join(dir, 'from-keyframe-15.ts');
    await writeFile(file, Buffer.concat(frames.slice(15).map((frame) => frame.data)));
    const { frames: decoded, stderr } = await ffprobeFrames(file);
    assert.equal(decoded, BUFFERS - 1 - 15);
    assert.equal(stderr, '');
  });

  test('garbage before the stream and between packets is skipped and counted; the frames are unchanged', () => {
    const random = seeded(7);
    const lead = garbage(1000, random);
    const inside1 = garbage(37, random);
    const inside2 = garbage(500, random);
    // Between packets in the middle of frame 10 and between frames 20 and 21.
    const frame10Start =
      reference.slice(0, 10).reduce((sum, frame) => sum + frame.data.length, 0) + PACKET_SIZE;
    const frame21Start = reference.slice(0, 21).reduce((sum, frame) => sum + frame.data.length, 0);
    const dirty = Buffer.concat([
      lead,
      stream.subarray(0, frame10Start),
      inside1,
      stream.subarray(frame10Start, frame21Start),
      inside2,
      stream.subarray(frame21Start),
    ]);
    for (const chunk of [dirty.length, 1, 100]) {
      const { frames, skipped } = splitAll(dirty, () => chunk);
      assert.equal(skipped, lead.length + inside1.length + inside2.length, `chunk ${chunk}`);
      assert.deepEqual(frames, reference, `chunk ${chunk}`);
    }
  });

  test('a torn packet (half of it lost) costs at most the frames up to the next keyframe: splitting resynchronises', () => {
    // Lose the second half of a video packet inside frame 5.
    const frame5Start = reference.slice(0, 5).reduce((sum, frame) => sum + frame.data.length, 0);
    const tornAt = frame5Start + 2 * PACKET_SIZE + PACKET_SIZE / 2;
    const torn = Buffer.concat([stream.subarray(0, tornAt), stream.subarray(tornAt + PACKET_SIZE / 2)]);
    const { frames, skipped } = splitAll(torn, () => 333);
    assert.ok(skipped > 0, 'bytes out of step are counted');
    for (const frame of frames) assert.equal(frame.data.length % PACKET_SIZE, 0);
    const byPts = new Map(frames.map((frame) => [frame.pts, frame]));
    for (const expected of reference.slice(15)) {
      const got = byPts.get(expected.pts);
      assert.ok(got, `frame at PTS ${expected.pts} is back`);
      assert.ok(got.data.equals(expected.data), `frame at PTS ${expected.pts} is intact`);
      assert.equal(got.keyframe, expected.keyframe);
    }
    for (const expected of reference.slice(0, 5)) assert.deepEqual(byPts.get(expected.pts), expected);
  });

  test('reset() forgets the stream: a partial packet, the tables and the open frame', () => {
    const splitter = new TsFrameSplitter();
    // Half a stream plus half a packet, then reset: nothing of it may leak into the next stream.
    const cut = Math.floor(stream.length / 2 / PACKET_SIZE) * PACKET_SIZE + 100;
    const firstHalf = splitter.push(stream.subarray(0, cut));
    assert.ok(firstHalf.length > 0);
    splitter.reset();
    assert.deepEqual(splitter.push(stream), reference);
    // After a reset, video packets before the next PAT/PMT cannot be recognised: a stream that
    // starts without tables yields nothing until they come.
    splitter.reset();
    const videoOnly = Buffer.concat(
      [...Array(stream.length / PACKET_SIZE).keys()]
        .map((i) => stream.subarray(i * PACKET_SIZE, (i + 1) * PACKET_SIZE))
        .filter((raw) => parsePacket(raw)!.pid === videoPid),
    );
    assert.deepEqual(splitter.push(videoOnly), []);
  });

  test('reset() drops the PTS unwrap state: a new stream starts from its own raw PTS', () => {
    const splitter = new TsFrameSplitter();
    splitter.push(crafted([PTS_WRAP - 6000, 0, 6000]));
    splitter.reset();
    const frames = splitter.push(crafted([100, 6100, 12100]));
    assert.deepEqual(
      frames.map((frame) => frame.pts),
      [100, 6100],
    );
  });
});

// --- crafted packets -------------------------------------------------------------------------

const CRAFT_PMT_PID = 0x1000;
const CRAFT_VIDEO_PID = 0x0100;

function packet(pid: number, payloadUnitStart: boolean, payload: number[], randomAccess = false): Buffer {
  const out = Buffer.alloc(PACKET_SIZE, 0xff);
  out[0] = 0x47;
  out[1] = (payloadUnitStart ? 0x40 : 0) | ((pid >> 8) & 0x1f);
  out[2] = pid & 0xff;
  // Adaptation field (stuffing, random_access_indicator) + payload.
  const stuffing = PACKET_SIZE - 4 - payload.length;
  assert.ok(stuffing >= 2, 'payload too long for one packet');
  out[3] = 0x30;
  out[4] = stuffing - 1;
  out[5] = randomAccess ? 0x40 : 0x00;
  Buffer.from(payload).copy(out, 4 + stuffing);
  return out;
}

function patPacket(): Buffer {
  // pointer, table_id 0, section_length 13, ts_id 1, version/current, section 0/0, program 1 → PMT, CRC.
  return packet(PAT_PID, true, [
    0x00,
    0x00,
    0xb0,
    0x0d,
    0x00,
    0x01,
    0xc1,
    0x00,
    0x00,
    0x00,
    0x01,
    0xe0 | (CRAFT_PMT_PID >> 8),
    CRAFT_PMT_PID & 0xff,
    0,
    0,
    0,
    0,
  ]);
}

function pmtPacket(): Buffer {
  // pointer, table_id 2, section_length 18, program 1, version, sections, PCR PID, program_info 0,
  // stream_type 0x1b on the video PID, ES info 0, CRC.
  return packet(CRAFT_PMT_PID, true, [
    0x00,
    0x02,
    0xb0,
    0x12,
    0x00,
    0x01,
    0xc1,
    0x00,
    0x00,
    0xe0 | (CRAFT_VIDEO_PID >> 8),
    CRAFT_VIDEO_PID & 0xff,
    0xf0,
    0x00,
    0x1b,
    0xe0 | (CRAFT_VIDEO_PID >> 8),
    CRAFT_VIDEO_PID & 0xff,
    0xf0,
    0x00,
    0,
    0,
    0,
    0,
  ]);
}

function ptsBytes(pts: number): number[] {
  const high = Math.floor(pts / 2 ** 30) & 0x07;
  const mid = Math.floor(pts / 2 ** 15) & 0x7fff;
  const low = pts & 0x7fff;
  return [0x21 | (high << 1), mid >> 7, ((mid & 0x7f) << 1) | 1, low >> 7, ((low & 0x7f) << 1) | 1];
}

function videoPacket(pts: number, keyframe: boolean): Buffer {
  const nal = keyframe ? 0x65 : 0x41;
  return packet(
    CRAFT_VIDEO_PID,
    true,
    [0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 0x05, ...ptsBytes(pts), 0, 0, 0, 1, nal, 0x88, 0x84],
    keyframe,
  );
}

/** PAT, PMT, then one single-packet frame per PTS (the first a keyframe). */
function crafted(ptsList: number[]): Buffer {
  return Buffer.concat([
    patPacket(),
    pmtPacket(),
    ...ptsList.map((pts, index) => videoPacket(pts, index === 0)),
  ]);
}

describe('TsFrameSplitter on crafted packets', () => {
  test('the crafted packets parse as intended', () => {
    assert.deepEqual(pmtPidsOf(parsePacket(patPacket())!), [CRAFT_PMT_PID]);
    assert.equal(h264PidOf(parsePacket(pmtPacket())!), CRAFT_VIDEO_PID);
    for (const pts of [0, 1, 6000, 2 ** 32 + 12345, PTS_WRAP - 1]) {
      assert.equal(pesPtsOf(parsePacket(videoPacket(pts, false))!.payload), pts);
    }
    assert.equal(startsWithKeyframe(parsePacket(videoPacket(0, true))!.payload), true);
    assert.equal(startsWithKeyframe(parsePacket(videoPacket(0, false))!.payload), false);
  });

  test('PTS is unwrapped across the 33-bit wrap and keeps growing', () => {
    const raw = [PTS_WRAP - 12_000, PTS_WRAP - 6000, 0, 6000, 12_000];
    const frames = new TsFrameSplitter().push(crafted(raw));
    assert.deepEqual(
      frames.map((frame) => frame.pts),
      [PTS_WRAP - 12_000, PTS_WRAP - 6000, PTS_WRAP, PTS_WRAP + 6000],
    );
  });

  test('PTS unwraps again at the second wrap, also when fed packet by packet', () => {
    const raw = [PTS_WRAP - 3000, 3000, PTS_WRAP / 2, PTS_WRAP - 3000, 3000, 9000];
    const stream = crafted(raw);
    const splitter = new TsFrameSplitter();
    const frames: TsFrame[] = [];
    for (let offset = 0; offset < stream.length; offset += PACKET_SIZE) {
      frames.push(...splitter.push(stream.subarray(offset, offset + PACKET_SIZE)));
    }
    assert.deepEqual(
      frames.map((frame) => frame.pts),
      [PTS_WRAP - 3000, PTS_WRAP + 3000, PTS_WRAP + PTS_WRAP / 2, 2 * PTS_WRAP - 3000, 2 * PTS_WRAP + 3000],
    );
  });

  test('a PTS a little backwards (reordered frames) is not a wrap', () => {
    const frames = new TsFrameSplitter().push(crafted([90_000, 102_000, 96_000, 108_000, 114_000]));
    assert.deepEqual(
      frames.map((frame) => frame.pts),
      [90_000, 102_000, 96_000, 108_000],
    );
  });

  test('video packets before the first PAT/PMT are not frames; the tables precede the first keyframe', () => {
    const splitter = new TsFrameSplitter();
    const early = videoPacket(1000, true);
    const frames = splitter.push(Buffer.concat([early, crafted([6000, 12_000, 18_000])]));
    assert.deepEqual(
      frames.map((frame) => frame.pts),
      [6000, 12_000],
    );
    // The unrecognised early packet stays in front (a demuxer ignores a PID no PMT announced).
    assert.deepEqual(pidsOf(frames[0]!.data).slice(-3), [PAT_PID, CRAFT_PMT_PID, CRAFT_VIDEO_PID]);
    assert.deepEqual(pidsOf(frames[1]!.data), [CRAFT_VIDEO_PID]);
  });

  test('a later keyframe without tables in front of it gets copies of the last PAT and PMT', () => {
    const stream = Buffer.concat([
      patPacket(),
      pmtPacket(),
      videoPacket(0, true),
      videoPacket(6000, false),
      videoPacket(12_000, true),
      videoPacket(18_000, false),
    ]);
    const frames = new TsFrameSplitter().push(stream);
    assert.equal(frames.length, 3);
    assert.deepEqual(pidsOf(frames[2]!.data), [PAT_PID, CRAFT_PMT_PID, CRAFT_VIDEO_PID]);
    assert.ok(frames[2]!.data.subarray(0, PACKET_SIZE).equals(patPacket()));
    assert.equal(frames[2]!.keyframe, true);
    assert.equal(frames[1]!.keyframe, false);
  });
});
