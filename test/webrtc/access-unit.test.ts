/**
 * access-unit: TS frame → PES payload → NAL units, against REAL x264 → mpegtsmux output (checked
 * against GStreamer's own tsdemux) and against crafted packets for the cases a real stream does
 * not reach on demand (stuffing, interleaved PIDs, odd start codes, garbage).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { TsFrame } from '../../src/media/ts-frame-splitter.ts';
import { PACKET_SIZE, packetsOf } from '../../src/media/ts-packets.ts';
import { accessUnitOf, nalTypeOf, nalUnitsOf, pesPayloadOf } from '../../src/webrtc/access-unit.ts';
import { recordFrames } from './real-frames.ts';

const NAL = { slice: 1, idr: 5, sei: 6, sps: 7, pps: 8, aud: 9 } as const;

const hex = (units: Uint8Array[]): string[] => units.map((unit) => Buffer.from(unit).toString('hex'));
const bytes = (hexString: string): Buffer => Buffer.from(hexString.replace(/\s+/g, ''), 'hex');

/** One TS packet; a payload shorter than 184 bytes is padded with adaptation-field stuffing (as muxers do). */
function tsPacket(options: {
  pid: number;
  payloadUnitStart?: boolean;
  payload?: Uint8Array;
  continuity?: number;
}): Buffer {
  const payload = options.payload ?? new Uint8Array(0);
  assert.ok(payload.length <= 184, 'payload fits one packet');
  const packet = Buffer.alloc(PACKET_SIZE, 0xff);
  packet[0] = 0x47;
  packet[1] = (options.payloadUnitStart ? 0x40 : 0) | ((options.pid >> 8) & 0x1f);
  packet[2] = options.pid & 0xff;
  const stuffing = 184 - payload.length;
  const control = payload.length === 0 ? 0x20 : stuffing > 0 ? 0x30 : 0x10;
  packet[3] = control | ((options.continuity ?? 0) & 0x0f);
  if (stuffing > 0) {
    // adaptation_field_length counts the bytes after itself: flags + stuffing (0xff).
    const length = payload.length === 0 ? 183 : stuffing - 1;
    packet[4] = length;
    if (length > 0) packet[5] = 0x00; // no flags
  }
  packet.set(payload, PACKET_SIZE - payload.length);
  return packet;
}

/** A PES header with a PTS (stream_id 0xE0 unless told). */
function pesHeader(streamId = 0xe0): Buffer {
  return Buffer.from([0, 0, 1, streamId, 0, 0, 0x80, 0x80, 5, 0x21, 0x00, 0x01, 0x00, 0x01]);
}

/** A whole PES (header + elementary stream) on one PID, cut into packets; the last one is stuffed. */
function pesPackets(pid: number, es: Uint8Array, streamId = 0xe0): Buffer[] {
  const pes = Buffer.concat([pesHeader(streamId), es]);
  const packets: Buffer[] = [];
  for (let offset = 0, cc = 0; offset < pes.length; offset += 184, cc++) {
    packets.push(
      tsPacket({
        pid,
        payloadUnitStart: offset === 0,
        payload: pes.subarray(offset, offset + 184),
        continuity: cc,
      }),
    );
  }
  return packets;
}

/** Deterministic bytes without any 00 00 0x (no start code or emulation prevention needed). */
function body(length: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => 0x10 + ((i * 31 + seed * 7) % 0xe0)));
}

describe('access-unit on real x264 → mpegtsmux output', () => {
  let frames: TsFrame[];
  let stream: Buffer;
  let demuxed: Buffer;
  let cleanup: () => Promise<void>;

  before(async () => {
    const recorded = await recordFrames();
    ({ frames, stream, cleanup } = recorded);
    // GStreamer's own demuxer: the elementary stream it finds in the same file.
    const es = path.join(recorded.dir, 'stream.h264');
    await promisify(execFile)('gst-launch-1.0', [
      '-q',
      'filesrc',
      `location=${recorded.file}`,
      '!',
      'tsdemux',
      '!',
      'video/x-h264',
      '!',
      'filesink',
      `location=${es}`,
    ]);
    demuxed = await readFile(es);
  });

  after(async () => {
    await cleanup();
  });

  test('the recording has keyframes and PES packets that span many TS packets', () => {
    assert.ok(frames.length >= 40, `${frames.length} frames`);
    assert.ok(frames[0]!.keyframe);
    assert.ok(frames.filter((frame) => frame.keyframe).length >= 2);
    const packets = [...packetsOf(frames[0]!.data)];
    const videoPid = packets.at(-1)!.pid;
    const videoPacketsOfFirstKeyframe = packets.filter((packet) => packet.pid === videoPid).length;
    assert.ok(videoPacketsOfFirstKeyframe >= 5, `${videoPacketsOfFirstKeyframe} packets`);
    assert.ok(stream.length > 0);
  });

  test('pesPayloadOf of every frame, in order, is exactly the elementary stream tsdemux finds', () => {
    const payloads = frames.map((frame, index) => {
      const payload = pesPayloadOf(frame.data);
      assert.ok(payload, `frame ${index} has a video PES`);
      return payload;
    });
    const joined = Buffer.concat(payloads);
    assert.ok(joined.length > 0);
    // The splitter holds the last (open) frame back, so ours is a prefix of tsdemux's.
    assert.ok(demuxed.length > joined.length);
    assert.ok(demuxed.subarray(0, joined.length).equals(joined), 'same bytes as tsdemux');
  });

  test('keyframes are SPS (7), PPS (8), then IDR slices (5): no non-IDR slice, no AUD', () => {
    for (const [index, frame] of frames.entries()) {
      if (!frame.keyframe) continue;
      const types = accessUnitOf(frame.data).map(nalTypeOf);
      const withoutSei = types.filter((type) => type !== NAL.sei);
      assert.deepEqual(withoutSei.slice(0, 2), [NAL.sps, NAL.pps], `frame ${index}: ${types}`);
      assert.ok(withoutSei.length > 2, `frame ${index} has a slice`);
      assert.ok(
        withoutSei.slice(2).every((type) => type === NAL.idr),
        `frame ${index}: ${types}`,
      );
    }
  });

  test('other frames are non-IDR slices (1) only', () => {
    for (const [index, frame] of frames.entries()) {
      if (frame.keyframe) continue;
      const types = accessUnitOf(frame.data).map(nalTypeOf);
      assert.ok(types.length > 0, `frame ${index} has NAL units`);
      assert.ok(
        types.every((type) => type === NAL.slice),
        `frame ${index}: ${types}`,
      );
    }
  });

  test('the stream has access unit delimiters, and accessUnitOf drops exactly them', () => {
    for (const [index, frame] of frames.entries()) {
      const all = nalUnitsOf(pesPayloadOf(frame.data)!);
      assert.equal(nalTypeOf(all[0]!), NAL.aud, `frame ${index} starts with an AUD (h264parse writes one)`);
      const sent = accessUnitOf(frame.data);
      assert.deepEqual(hex(sent), hex(all.filter((unit) => nalTypeOf(unit) !== NAL.aud)), `frame ${index}`);
      assert.ok(sent.every((unit) => nalTypeOf(unit) !== NAL.aud));
    }
  });

  test('NAL units are the payload between start codes (3 or 4 bytes): none starts or ends with a zero byte', () => {
    let fourByte = 0;
    for (const [index, frame] of frames.entries()) {
      const payload = Buffer.from(pesPayloadOf(frame.data)!);
      const units = nalUnitsOf(payload);
      let cursor = 0;
      for (const unit of units) {
        assert.equal(unit[0]! & 0x80, 0, `frame ${index}: forbidden_zero_bit`);
        assert.notEqual(unit.at(-1), 0, `frame ${index}: a NAL unit never ends with 0x00`);
        const at = payload.indexOf(Buffer.from(unit), cursor);
        const gap = payload.subarray(cursor, at).toString('hex');
        assert.ok(gap === '000001' || gap === '00000001', `frame ${index}: ${gap} before a NAL unit`);
        if (gap === '00000001') fourByte++;
        cursor = at + unit.length;
      }
      assert.equal(cursor, payload.length, `frame ${index}: nothing left over after the last NAL unit`);
    }
    assert.ok(fourByte > 0, 'the real stream has 4-byte start codes');
  });
});

describe('pesPayloadOf on crafted packets', () => {
  const VIDEO = 0x100;

  test('a PES across several packets, the last one filled with adaptation-field stuffing', () => {
    const es = Buffer.concat([bytes('00000001 09f0'), bytes('00000001 6588'), body(500, 1)]);
    const packets = pesPackets(VIDEO, es);
    assert.equal(packets.length, 3);
    assert.ok(packets.at(-1)![4]! > 0, 'the last packet carries stuffing');
    assert.deepEqual(Buffer.from(pesPayloadOf(Buffer.concat(packets))!), es);
  });

  test('a PES that fills its packets exactly (no stuffing) and one that fits one packet', () => {
    const exact = body(184 * 3 - 14, 2);
    assert.deepEqual(Buffer.from(pesPayloadOf(Buffer.concat(pesPackets(VIDEO, exact)))!), exact);
    const small = Buffer.concat([bytes('000001 41'), body(20, 3)]);
    assert.deepEqual(Buffer.from(pesPayloadOf(Buffer.concat(pesPackets(VIDEO, small)))!), small);
  });

  test('packets of other PIDs between the PES packets (PAT, PMT, PCR, audio PES) are left out', () => {
    const es = Buffer.concat([bytes('00000001 6788'), body(400, 4)]);
    const [first, second, third] = pesPackets(VIDEO, es);
    const audio = pesPackets(0x101, body(50, 5), 0xc0);
    const ts = Buffer.concat([
      tsPacket({ pid: 0, payloadUnitStart: true, payload: body(20, 6) }),
      ...audio,
      first!,
      tsPacket({ pid: 0x1000, payloadUnitStart: true, payload: body(30, 7) }),
      second!,
      tsPacket({ pid: 0x101, payload: body(184, 8) }),
      third!,
    ]);
    assert.deepEqual(Buffer.from(pesPayloadOf(ts)!), es);
  });

  test('an adaptation-only packet (no payload) on the video PID adds nothing', () => {
    const es = body(300, 9);
    const [first, second] = pesPackets(VIDEO, es);
    const ts = Buffer.concat([first!, tsPacket({ pid: VIDEO, continuity: 1 }), second!]);
    assert.deepEqual(Buffer.from(pesPayloadOf(ts)!), es);
  });

  test('only the first video PES: the next PES start on that PID ends it', () => {
    const one = body(250, 10);
    const two = body(250, 11);
    const ts = Buffer.concat([...pesPackets(VIDEO, one), ...pesPackets(VIDEO, two)]);
    assert.deepEqual(Buffer.from(pesPayloadOf(ts)!), one);
  });

  test('the tail of a previous PES before the start is skipped', () => {
    const es = body(100, 12);
    const ts = Buffer.concat([tsPacket({ pid: VIDEO, payload: body(184, 13) }), ...pesPackets(VIDEO, es)]);
    assert.deepEqual(Buffer.from(pesPayloadOf(ts)!), es);
  });

  test('non-video PES (audio 0xC0, private 0xBD) is not taken for the video', () => {
    assert.equal(pesPayloadOf(Buffer.concat(pesPackets(VIDEO, body(100, 14), 0xc0))), null);
    assert.equal(pesPayloadOf(Buffer.concat(pesPackets(VIDEO, body(100, 15), 0xbd))), null);
    const es = body(80, 16);
    const ts = Buffer.concat([...pesPackets(0x101, body(100, 17), 0xc0), ...pesPackets(VIDEO, es, 0xef)]);
    assert.deepEqual(Buffer.from(pesPayloadOf(ts)!), es, 'any of 0xE0–0xEF is video');
  });

  test('garbage, empty input, PSI only and cut-short packets: null and no NAL units', () => {
    const random = Buffer.from(Array.from({ length: 188 * 6 }, (_, i) => (i * 97 + 13) % 256));
    const inputs: Record<string, Buffer> = {
      empty: Buffer.alloc(0),
      random,
      zeros: Buffer.alloc(188 * 3),
      'PSI only': Buffer.concat([tsPacket({ pid: 0, payloadUnitStart: true, payload: body(20, 18) })]),
      'less than a packet': Buffer.concat(pesPackets(VIDEO, body(50, 19))).subarray(0, 187),
      'annex B without TS': Buffer.concat([bytes('00000001 6588'), body(400, 20)]),
    };
    for (const [name, ts] of Object.entries(inputs)) {
      assert.equal(pesPayloadOf(ts), null, name);
      assert.deepEqual(accessUnitOf(ts), [], name);
    }
  });
});

describe('nalUnitsOf', () => {
  test('3-byte start codes', () => {
    assert.deepEqual(hex(nalUnitsOf(bytes('000001 6788 000001 68ce 000001 6588aa'))), [
      '6788',
      '68ce',
      '6588aa',
    ]);
  });

  test('4-byte start codes: the zero byte before 00 00 01 is not part of the previous NAL unit', () => {
    assert.deepEqual(hex(nalUnitsOf(bytes('00000001 6788 00000001 68ce 00000001 6588aa'))), [
      '6788',
      '68ce',
      '6588aa',
    ]);
  });

  test('mixed start codes, leading zero bytes and trailing zero bytes between NAL units', () => {
    assert.deepEqual(
      hex(nalUnitsOf(bytes('0000000001 0910 000001 6788 0000000000000001 68ce 000001 41aa'))),
      ['0910', '6788', '68ce', '41aa'],
    );
  });

  test('emulation prevention bytes (00 00 03) stay inside the NAL unit, which may end in 0x03', () => {
    assert.deepEqual(hex(nalUnitsOf(bytes('000001 6500000300000301 000001 41000003'))), [
      '6500000300000301',
      '41000003',
    ]);
  });

  test('no start code, a lone start code, back-to-back start codes: no (empty) NAL units', () => {
    assert.deepEqual(nalUnitsOf(bytes('')), []);
    assert.deepEqual(nalUnitsOf(bytes('6588aabbccdd')), []);
    assert.deepEqual(nalUnitsOf(bytes('000001')), []);
    assert.deepEqual(nalUnitsOf(bytes('00000001')), []);
    assert.deepEqual(hex(nalUnitsOf(bytes('000001 000001 00000001 6588'))), ['6588']);
    assert.deepEqual(hex(nalUnitsOf(bytes('6588 000001 41aa 000001'))), ['41aa']);
  });

  test('trailing zero bytes after the last NAL unit are not part of it', () => {
    // H.264 B.2: trailing_zero_8bits may follow any NAL unit; 7.4.1: a NAL unit never ends in 0x00.
    assert.deepEqual(hex(nalUnitsOf(bytes('000001 6588 0000'))), ['6588']);
  });
});

describe('accessUnitOf on crafted packets', () => {
  test('AUDs dropped wherever they are, every other NAL unit kept in order', () => {
    const es = Buffer.concat([
      bytes('00000001 0910'),
      bytes('00000001 6742c01e'),
      bytes('00000001 68ce3c80'),
      bytes('000001 06050102'),
      Buffer.concat([bytes('000001 6588'), body(700, 21)]),
      bytes('000001 0930'),
    ]);
    const units = accessUnitOf(Buffer.concat(pesPackets(0x100, es)));
    assert.deepEqual(units.map(nalTypeOf), [NAL.sps, NAL.pps, NAL.sei, NAL.idr]);
    assert.deepEqual(Buffer.from(units[3]!), Buffer.concat([bytes('6588'), body(700, 21)]));
  });

  test('a PES with only an AUD gives nothing to send', () => {
    assert.deepEqual(accessUnitOf(Buffer.concat(pesPackets(0x100, bytes('00000001 09f0')))), []);
  });
});
