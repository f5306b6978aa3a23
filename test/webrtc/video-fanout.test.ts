/**
 * VideoFanout with fake viewers (they collect what they are sent) and a hand-driven wall clock,
 * fed the frames of a REAL x264 → mpegtsmux encode (keyframes at frames 0, 15 and 30), with
 * synthetic frames only where a real one cannot make the case.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TsFrame } from '../../src/media/ts-frame-splitter.ts';
import { accessUnitOf } from '../../src/webrtc/access-unit.ts';
import { H264RtpPacketizer, isMarked, rtpSequenceOf, rtpTimestampOf } from '../../src/webrtc/h264-rtp.ts';
import { FANOUT_PAYLOAD_TYPE, type RtpViewer, VideoFanout } from '../../src/webrtc/video-fanout.ts';
import { recordFrames } from './real-frames.ts';

const U32 = 2 ** 32;
const RTP_PAYLOAD_START = 12;
const NAL_SPS = 7;
const SSRC = 0xcafe_babe;
const INITIAL_SEQUENCE = 65_500; // wraps within the test stream
const INITIAL_TIMESTAMP = 3_000_000_000;

interface FakeViewer extends RtpViewer {
  packets: Buffer[];
}

function viewer(payloadType = FANOUT_PAYLOAD_TYPE): FakeViewer {
  const packets: Buffer[] = [];
  return { payloadType, packets, send: (packet) => packets.push(packet) };
}

function wallClock(): { now: () => number; advance: (ms: number) => void } {
  let ms = 1_700_000_000_000;
  return {
    now: () => ms,
    advance: (by) => {
      ms += by;
    },
  };
}

function fanout(options: { initialTimestamp?: number; maxGopBytes?: number; now?: () => number } = {}) {
  return new VideoFanout({
    ssrc: SSRC,
    initialSequence: INITIAL_SEQUENCE,
    initialTimestamp: options.initialTimestamp ?? INITIAL_TIMESTAMP,
    now: options.now ?? wallClock().now,
    ...(options.maxGopBytes === undefined ? {} : { maxGopBytes: options.maxGopBytes }),
  });
}

const payloadTypeOf = (packet: Buffer): number => packet[1]! & 0x7f;
/** NAL unit type of a single-NAL packet (28 for FU-A). */
const nalTypeOfPacket = (packet: Buffer): number => packet[RTP_PAYLOAD_START]! & 0x1f;
/** The first packet of a keyframe as the fan-out sends it: a single-NAL SPS. */
const isKeyframeStart = (packet: Buffer): boolean => nalTypeOfPacket(packet) === NAL_SPS;
const ssrcOf = (packet: Buffer): number => packet.readUInt32BE(8);
/** Everything but the timestamp (and the payload type): what must survive a retimed/retyped copy. */
const withoutTimestamp = (packet: Buffer): string =>
  Buffer.concat([
    packet.subarray(0, 1),
    Buffer.from([packet[1]! & 0x80]),
    packet.subarray(2, 4),
    packet.subarray(8),
  ]).toString('hex');

/** Packets cut into frames at the marker bit. */
function framesOf(packets: Buffer[]): Buffer[][] {
  const frames: Buffer[][] = [];
  let current: Buffer[] = [];
  for (const packet of packets) {
    current.push(packet);
    if (isMarked(packet)) {
      frames.push(current);
      current = [];
    }
  }
  assert.deepEqual(current, [], 'the last frame ended with a marker');
  return frames;
}

function assertConsecutive(packets: Buffer[], first: number, message: string): void {
  packets.forEach((packet, i) => {
    assert.equal(rtpSequenceOf(packet), (first + i) & 0xffff, `${message}: packet ${i}`);
  });
}

/** In RTP (modulo 2^32) arithmetic: b is after a, by less than half the range. */
const isAfter = (a: number, b: number): boolean => {
  const forward = (b - a + U32) % U32;
  return forward > 0 && forward < U32 / 2;
};

describe('VideoFanout with real encoded frames', () => {
  let frames: TsFrame[];
  let cleanup: () => Promise<void>;

  before(async () => {
    const recorded = await recordFrames();
    ({ frames, cleanup } = recorded);
    const keyframes = frames.flatMap((frame, index) => (frame.keyframe ? [index] : []));
    assert.deepEqual(
      keyframes,
      [0, 15, 30],
      'the fixture stream has its keyframes where the tests expect them',
    );
  });

  after(async () => {
    await cleanup();
  });

  /** What one packetizer makes of these frames, timestamps from the PTS of the first. */
  function expectedPackets(indices: number[], initialTimestamp = INITIAL_TIMESTAMP): Buffer[] {
    const packetizer = new H264RtpPacketizer({
      ssrc: SSRC,
      payloadType: FANOUT_PAYLOAD_TYPE,
      initialSequence: INITIAL_SEQUENCE,
    });
    const firstPts = frames[indices[0]!]!.pts;
    return indices.flatMap((index) =>
      packetizer.packetize(
        accessUnitOf(frames[index]!.data),
        initialTimestamp + frames[index]!.pts - firstPts,
      ),
    );
  }

  const range = (from: number, to: number): number[] =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const bytesOf = (packets: Buffer[]): number => packets.reduce((sum, packet) => sum + packet.length, 0);

  test('frames before the first keyframe are not sent; from it on every frame is packetized once, in order', () => {
    const fan = fanout();
    const watcher = viewer();
    fan.add(watcher);
    for (const index of range(5, 29)) fan.pushFrame(frames[index]!);
    const expected = expectedPackets(range(15, 29));
    assert.deepEqual(
      watcher.packets.map((packet) => packet.toString('hex')),
      expected.map((packet) => packet.toString('hex')),
    );
    assert.equal(fan.frames, 15);
    assert.equal(fan.packets, expected.length);
    assert.equal(rtpTimestampOf(watcher.packets[0]!), INITIAL_TIMESTAMP);
    assert.ok(isKeyframeStart(watcher.packets[0]!), 'the first packet sent is the SPS');
  });

  test("one marker per frame; a frame's packets share its timestamp, which follows its PTS; SSRC constant", () => {
    const fan = fanout();
    const watcher = viewer();
    fan.add(watcher);
    for (const index of range(0, 43)) fan.pushFrame(frames[index]!);
    const sent = framesOf(watcher.packets);
    assert.equal(sent.length, 44);
    sent.forEach((packets, i) => {
      const expected = (INITIAL_TIMESTAMP + frames[i]!.pts - frames[0]!.pts) % U32;
      assert.ok(
        packets.every((packet) => rtpTimestampOf(packet) === expected),
        `frame ${i}`,
      );
    });
    assert.ok(watcher.packets.every((packet) => ssrcOf(packet) === SSRC));
    assertConsecutive(watcher.packets, INITIAL_SEQUENCE, 'whole stream');
    assert.ok(
      watcher.packets.some((packet) => rtpSequenceOf(packet) === 0),
      'the sequence numbers wrapped in this stream',
    );
  });

  test("after newRun() frames wait for the run's keyframe; timestamps continue after the pause, sequence numbers without a gap", () => {
    const wall = wallClock();
    const fan = fanout({ now: wall.now });
    const watcher = viewer();
    fan.add(watcher);
    for (const index of range(0, 20)) {
      fan.pushFrame(frames[index]!);
      wall.advance(66);
    }
    const firstRun = watcher.packets.length;
    const lastOfFirstRun = rtpTimestampOf(watcher.packets.at(-1)!);
    wall.advance(3_000 - 66);
    fan.newRun();
    // The new run's PTS start over, below the first run's.
    for (const index of range(5, 14)) fan.pushFrame(frames[index]!);
    assert.equal(watcher.packets.length, firstRun, "nothing until the new run's keyframe");
    for (const index of range(15, 25)) fan.pushFrame(frames[index]!);
    const secondRun = watcher.packets.slice(firstRun);
    assert.ok(isKeyframeStart(secondRun[0]!), 'the run starts with its keyframe');
    assert.equal(rtpTimestampOf(secondRun[0]!), (lastOfFirstRun + 3_000 * 90) % U32, 'last + 3 s at 90 kHz');
    const secondFrames = framesOf(secondRun);
    secondFrames.forEach((packets, i) => {
      const expected = (rtpTimestampOf(secondRun[0]!) + frames[15 + i]!.pts - frames[15]!.pts) % U32;
      assert.equal(rtpTimestampOf(packets[0]!), expected, `frame ${15 + i} of the new run`);
    });
    const timestamps = framesOf(watcher.packets).map((packets) => rtpTimestampOf(packets[0]!));
    for (let i = 1; i < timestamps.length; i++) {
      assert.ok(
        isAfter(timestamps[i - 1]!, timestamps[i]!),
        `frame ${i}: ${timestamps[i]} after ${timestamps[i - 1]}`,
      );
    }
    assertConsecutive(watcher.packets, INITIAL_SEQUENCE, 'across the runs');
  });

  test('one packetization for all: same Buffer objects for FANOUT_PAYLOAD_TYPE viewers, one copy per other payload type', () => {
    const fan = fanout();
    const a = viewer();
    const b = viewer();
    const c = viewer(102);
    const d = viewer(102);
    const e = viewer(97);
    for (const v of [a, c, b, e, d]) fan.add(v);
    for (const index of range(0, 20)) fan.pushFrame(frames[index]!);
    assert.equal(a.packets.length, fan.packets);
    for (const v of [b, c, d, e]) assert.equal(v.packets.length, a.packets.length);
    a.packets.forEach((packet, i) => {
      assert.equal(b.packets[i], packet, `packet ${i}: the same object`);
      assert.equal(c.packets[i], d.packets[i], `packet ${i}: one copy for payload type 102`);
      assert.notEqual(c.packets[i], packet);
      assert.notEqual(e.packets[i], packet);
      assert.equal(payloadTypeOf(packet), FANOUT_PAYLOAD_TYPE);
      assert.equal(payloadTypeOf(c.packets[i]!), 102);
      assert.equal(payloadTypeOf(e.packets[i]!), 97);
      for (const copy of [c.packets[i]!, e.packets[i]!]) {
        assert.equal(isMarked(copy), isMarked(packet), `packet ${i}: marker kept`);
        assert.equal(withoutTimestamp(copy), withoutTimestamp(packet), `packet ${i}`);
        assert.equal(rtpTimestampOf(copy), rtpTimestampOf(packet), `packet ${i}`);
      }
    });
  });

  test('a viewer added mid-GOP gets the GOP from its keyframe at once, pressed up to the live timestamp, then live', () => {
    const fan = fanout();
    const early = viewer();
    fan.add(early);
    for (const index of range(0, 21)) fan.pushFrame(frames[index]!); // keyframe 15 + 6 frames
    const gopStart = early.packets.findLastIndex(isKeyframeStart);
    const gop = early.packets.slice(gopStart);
    const snapshot = gop.map((packet) => packet.toString('hex'));
    const late = viewer();
    fan.add(late);
    assert.equal(late.packets.length, gop.length, 'the whole GOP, nothing before its keyframe');
    assert.ok(isKeyframeStart(late.packets[0]!), 'starting with the SPS');
    assertConsecutive(late.packets, rtpSequenceOf(gop[0]!), 'the cached GOP');
    late.packets.forEach((packet, i) => {
      assert.equal(withoutTimestamp(packet), withoutTimestamp(gop[i]!), `packet ${i}: same packet, retimed`);
    });
    const replayed = framesOf(late.packets);
    assert.equal(replayed.length, 7);
    const stamps = replayed.map((packets) => {
      assert.ok(packets.every((packet) => rtpTimestampOf(packet) === rtpTimestampOf(packets[0]!)));
      return rtpTimestampOf(packets[0]!);
    });
    for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i]! > stamps[i - 1]!, `GOP frame ${i}`);
    assert.equal(stamps.at(-1), rtpTimestampOf(early.packets.at(-1)!), 'the last one is the live timestamp');
    assert.deepEqual(
      gop.map((packet) => packet.toString('hex')),
      snapshot,
      'retiming copied: the packets the early viewer got are unchanged',
    );
    const replayedCount = late.packets.length;
    for (const index of range(22, 25)) fan.pushFrame(frames[index]!);
    const live = late.packets.slice(replayedCount);
    assert.deepEqual(live, early.packets.slice(-live.length));
    for (const [i, packet] of live.entries()) {
      assert.equal(packet, early.packets.at(i - live.length), 'live: the shared packet');
    }
    assertConsecutive(late.packets, rtpSequenceOf(gop[0]!), 'GOP then live');
    assert.ok(isAfter(stamps.at(-1)!, rtpTimestampOf(live[0]!)));
  });

  test('a viewer with another payload type joining mid-GOP gets the GOP with its payload type, then live copies', () => {
    const fan = fanout();
    const early = viewer(102);
    fan.add(early);
    for (const index of range(0, 4)) fan.pushFrame(frames[index]!);
    const late = viewer(102);
    fan.add(late);
    assert.equal(late.packets.length, early.packets.length);
    assert.ok(late.packets.every((packet) => payloadTypeOf(packet) === 102));
    assert.equal(rtpTimestampOf(late.packets.at(-1)!), rtpTimestampOf(early.packets.at(-1)!));
    assert.ok(early.packets.every((packet) => payloadTypeOf(packet) === 102));
    fan.pushFrame(frames[5]!);
    assert.equal(late.packets.at(-1), early.packets.at(-1), 'live: one copy per payload type, shared');
  });

  test('a viewer added right after a keyframe gets that frame exactly as sent', () => {
    const fan = fanout();
    const early = viewer();
    fan.add(early);
    for (const index of range(0, 15)) fan.pushFrame(frames[index]!);
    const keyframe = early.packets.slice(early.packets.findLastIndex(isKeyframeStart));
    assert.notEqual(rtpTimestampOf(keyframe[0]!), INITIAL_TIMESTAMP, 'the second keyframe, not the first');
    const late = viewer();
    fan.add(late);
    assert.equal(late.packets.length, keyframe.length);
    for (const [i, packet] of late.packets.entries()) assert.equal(packet, keyframe[i], `packet ${i}`);
  });

  test('the GOP replay stays in order across the uint32 timestamp wrap', () => {
    const liveAtJoin = 2;
    const initialTimestamp = (liveAtJoin - (frames[4]!.pts - frames[0]!.pts) + U32) % U32;
    const fan = fanout({ initialTimestamp });
    for (const index of range(0, 4)) fan.pushFrame(frames[index]!);
    const late = viewer();
    fan.add(late);
    const stamps = framesOf(late.packets).map((packets) => rtpTimestampOf(packets[0]!));
    assert.equal(stamps.length, 5);
    assert.equal(stamps.at(-1), liveAtJoin);
    assert.ok(stamps[0]! > U32 / 2, `the replay starts before the wrap: ${stamps}`);
    for (let i = 1; i < stamps.length; i++) assert.ok(isAfter(stamps[i - 1]!, stamps[i]!), `${stamps}`);
  });

  test('a viewer added before any keyframe gets nothing until the keyframe, then everything from it', () => {
    const fan = fanout();
    for (const index of range(8, 12)) fan.pushFrame(frames[index]!);
    const watcher = viewer();
    fan.add(watcher);
    assert.equal(watcher.packets.length, 0);
    for (const index of range(13, 16)) fan.pushFrame(frames[index]!);
    assert.deepEqual(
      watcher.packets.map((packet) => packet.toString('hex')),
      expectedPackets([15, 16]).map((packet) => packet.toString('hex')),
    );
  });

  test('a GOP up to maxGopBytes is cached; above it, it is dropped until the next keyframe', () => {
    // Counted in the frames' TS bytes.
    const gopBytes = range(0, 3).reduce((sum, index) => sum + frames[index]!.data.length, 0);
    const fan = fanout({ maxGopBytes: gopBytes });
    for (const index of range(0, 3)) fan.pushFrame(frames[index]!);
    const atLimit = viewer();
    fan.add(atLimit);
    assert.equal(
      bytesOf(atLimit.packets),
      bytesOf(expectedPackets(range(0, 3))),
      'exactly maxGopBytes: cached',
    );
    fan.pushFrame(frames[4]!);
    const over = viewer();
    fan.add(over);
    assert.equal(over.packets.length, 0, 'one byte over: nothing cached to give');
    for (const index of range(5, 14)) fan.pushFrame(frames[index]!);
    const stillOver = viewer();
    fan.add(stillOver);
    assert.deepEqual(stillOver.packets, [], 'not cached again before the next keyframe');
    assert.ok(over.packets.length > 0, 'live frames still reach the viewer that joined');
    fan.pushFrame(frames[15]!);
    const afterKeyframe = viewer();
    fan.add(afterKeyframe);
    assert.ok(afterKeyframe.packets.length > 0, 'the next keyframe starts a new cache');
    assert.ok(isKeyframeStart(afterKeyframe.packets[0]!));
  });

  test('a keyframe alone above maxGopBytes is never cached', () => {
    const fan = fanout({ maxGopBytes: 100 });
    const early = viewer();
    fan.add(early);
    for (const index of range(0, 2)) fan.pushFrame(frames[index]!);
    assert.ok(early.packets.length > 0, 'still sent live');
    const late = viewer();
    fan.add(late);
    assert.deepEqual(late.packets, []);
  });

  test('remove() stops delivery to that viewer only; viewerCount follows', () => {
    const fan = fanout();
    const stays = viewer();
    const leaves = viewer(102);
    fan.add(stays);
    fan.add(leaves);
    assert.equal(fan.viewerCount, 2);
    for (const index of range(0, 3)) fan.pushFrame(frames[index]!);
    const before = leaves.packets.length;
    fan.remove(leaves);
    assert.equal(fan.viewerCount, 1);
    for (const index of range(4, 8)) fan.pushFrame(frames[index]!);
    assert.equal(leaves.packets.length, before);
    assert.equal(stays.packets.length, fan.packets);
    fan.remove(leaves); // twice: no effect
    assert.equal(fan.viewerCount, 1);
    fan.remove(stays);
    assert.equal(fan.viewerCount, 0);
    const sentBefore = fan.packets;
    fan.pushFrame(frames[9]!);
    assert.equal(fan.packets, sentBefore, 'nobody watches: not packetized');
    assert.equal(stays.packets.length, sentBefore);
  });

  test('with no viewer nothing is packetized; the first viewer gets the GOP packetized then, and the sequence from the start', () => {
    const fan = fanout();
    for (const index of range(0, 5)) fan.pushFrame(frames[index]!);
    assert.equal(fan.frames, 0);
    assert.equal(fan.packets, 0);
    const watcher = viewer();
    fan.add(watcher);
    assert.equal(fan.frames, 6);
    assert.equal(watcher.packets.length, fan.packets);
    fan.pushFrame(frames[6]!);
    assertConsecutive(watcher.packets, INITIAL_SEQUENCE, 'cached GOP then live');
    // The same packets as one packetizer makes of frames 0–6 (the GOP's earlier frames retimed).
    const expected = expectedPackets(range(0, 6));
    assert.deepEqual(watcher.packets.map(withoutTimestamp), expected.map(withoutTimestamp));
  });

  test('frames nobody watched between two viewers are packetized when the next one joins, after those already sent', () => {
    const fan = fanout();
    const first = viewer();
    fan.add(first);
    for (const index of range(0, 3)) fan.pushFrame(frames[index]!);
    fan.remove(first);
    const sentToFirst = first.packets.length;
    for (const index of range(4, 7)) fan.pushFrame(frames[index]!);
    assert.equal(fan.packets, sentToFirst, 'unwatched frames wait');
    const second = viewer();
    fan.add(second);
    // The whole GOP, frames 0–7, numbered without a gap: 0–3 as first sent, 4–7 made now.
    assertConsecutive(second.packets, INITIAL_SEQUENCE, 'GOP replay');
    assert.deepEqual(
      second.packets.map(withoutTimestamp),
      expectedPackets(range(0, 7)).map(withoutTimestamp),
    );
    const third = viewer();
    fan.add(third);
    fan.pushFrame(frames[8]!);
    assertConsecutive(
      second.packets,
      INITIAL_SEQUENCE,
      'replay then live: no gap for a viewer already watching',
    );
    assert.deepEqual(third.packets.map(withoutTimestamp), second.packets.map(withoutTimestamp));
  });
});

describe('VideoFanout with synthetic frames', () => {
  /** One TS packet holding a whole video PES with this Annex B access unit. */
  function tsFrame(annexB: Buffer, pts: number, keyframe: boolean): TsFrame {
    const pes = Buffer.concat([Buffer.from([0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1]), annexB]);
    assert.ok(pes.length <= 183);
    const packet = Buffer.alloc(188, 0xff);
    packet.set([0x47, 0x41, 0x00, 0x30, 183 - pes.length]);
    if (183 - pes.length > 0) packet[5] = 0;
    packet.set(pes, 188 - pes.length);
    return { data: packet, pts, keyframe };
  }
  const idr = (): Buffer =>
    Buffer.from('00000001 6742c01e 00000001 68ce3c80 00000001 65888888'.replace(/ /g, ''), 'hex');
  const slice = (): Buffer => Buffer.from('00000001 41999999'.replace(/ /g, ''), 'hex');

  test('a "keyframe" with no video PES in it is skipped: the fan-out keeps waiting for a real keyframe', () => {
    const fan = fanout();
    const watcher = viewer();
    fan.add(watcher);
    fan.pushFrame({ data: Buffer.alloc(188 * 2, 0x55), pts: 0, keyframe: true });
    fan.pushFrame(tsFrame(slice(), 3000, false));
    assert.deepEqual(watcher.packets, []);
    assert.equal(fan.frames, 0);
    fan.pushFrame(tsFrame(idr(), 6000, true));
    fan.pushFrame(tsFrame(slice(), 9000, false));
    assert.equal(fan.frames, 2);
    assert.deepEqual(watcher.packets.map(nalTypeOfPacket), [7, 8, 5, 1]);
    assert.deepEqual(watcher.packets.map(rtpTimestampOf), [
      INITIAL_TIMESTAMP,
      INITIAL_TIMESTAMP,
      INITIAL_TIMESTAMP,
      INITIAL_TIMESTAMP + 3000,
    ]);
  });

  test('a long GOP (100 frames) replays with strictly increasing timestamps ending at the live one', () => {
    const fan = fanout({ initialTimestamp: 1_000 });
    fan.pushFrame(tsFrame(idr(), 0, true));
    for (let i = 1; i < 100; i++) fan.pushFrame(tsFrame(slice(), i * 3000, false));
    const late = viewer();
    fan.add(late);
    const stamps = framesOf(late.packets).map((packets) => rtpTimestampOf(packets[0]!));
    assert.equal(stamps.length, 100);
    assert.equal(stamps.at(-1), 1_000 + 99 * 3000);
    for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i]! > stamps[i - 1]!);
  });
});
