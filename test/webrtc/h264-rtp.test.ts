/**
 * H264RtpPacketizer against RFC 6184 (packetization-mode 1: single NAL unit packets and FU-A) and
 * RFC 3550 (the fixed header), plus the copy helpers the fan-out uses for other payload types.
 * Packets are read back with an independent parser written here, not with the module's helpers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { accessUnitOf } from '../../src/webrtc/access-unit.ts';
import {
  DEFAULT_MAX_PAYLOAD,
  H264RtpPacketizer,
  isMarked,
  RTP_HEADER_SIZE,
  rtpSequenceOf,
  rtpTimestampOf,
  withPayloadType,
  withTimestamp,
} from '../../src/webrtc/h264-rtp.ts';
import { recordFrames } from './real-frames.ts';

const FU_A = 28;

interface ParsedRtp {
  version: number;
  padding: boolean;
  extension: boolean;
  csrcCount: number;
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

/** RFC 3550 §5.1, byte by byte. */
function parseRtp(packet: Buffer): ParsedRtp {
  assert.ok(packet.length >= 12);
  return {
    version: packet[0]! >> 6,
    padding: (packet[0]! & 0x20) !== 0,
    extension: (packet[0]! & 0x10) !== 0,
    csrcCount: packet[0]! & 0x0f,
    marker: (packet[1]! & 0x80) !== 0,
    payloadType: packet[1]! & 0x7f,
    sequence: packet[2]! * 256 + packet[3]!,
    timestamp: ((packet[4]! << 24) >>> 0) + (packet[5]! << 16) + (packet[6]! << 8) + packet[7]!,
    ssrc: ((packet[8]! << 24) >>> 0) + (packet[9]! << 16) + (packet[10]! << 8) + packet[11]!,
    payload: packet.subarray(12),
  };
}

/** RFC 6184 depacketizer: single NAL unit packets and FU-A → NAL units. */
function depacketize(packets: Buffer[]): Buffer[] {
  const units: Buffer[] = [];
  let fragments: Buffer[] | null = null;
  for (const packet of packets) {
    const payload = parseRtp(packet).payload;
    const type = payload[0]! & 0x1f;
    if (type !== FU_A) {
      assert.equal(fragments, null, 'no single NAL packet inside a fragmented NAL unit');
      units.push(Buffer.from(payload));
      continue;
    }
    const indicator = payload[0]!;
    const header = payload[1]!;
    const start = (header & 0x80) !== 0;
    const end = (header & 0x40) !== 0;
    assert.equal(header & 0x20, 0, 'FU header R bit is 0');
    if (start) {
      assert.equal(fragments, null, 'a start fragment only after the previous NAL unit ended');
      fragments = [Buffer.from([(indicator & 0xe0) | (header & 0x1f)])];
    }
    assert.ok(fragments, 'a fragment after a start fragment');
    fragments.push(payload.subarray(2));
    if (end) {
      units.push(Buffer.concat(fragments));
      fragments = null;
    }
  }
  assert.equal(fragments, null, 'the last fragmented NAL unit ended');
  return units;
}

/** A NAL unit: header byte, then deterministic bytes. */
function nal(header: number, length: number, seed = 1): Buffer {
  const unit = Buffer.alloc(length);
  unit[0] = header;
  let state = seed;
  for (let i = 1; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    unit[i] = state >>> 24;
  }
  return unit;
}

const packetizer = (options: Partial<ConstructorParameters<typeof H264RtpPacketizer>[0]> = {}) =>
  new H264RtpPacketizer({ ssrc: 0x1234_5678, payloadType: 96, initialSequence: 1000, ...options });

describe('H264RtpPacketizer: the RTP header (RFC 3550)', () => {
  test('version 2, no padding, extension or CSRC; PT, sequence, timestamp and SSRC big-endian', () => {
    const p = packetizer({ ssrc: 0xdead_beef, payloadType: 102, initialSequence: 0xabcd });
    const [packet] = p.packetize([nal(0x65, 100)], 0x89ab_cdef);
    const rtp = parseRtp(packet!);
    assert.deepEqual(
      { ...rtp, payload: undefined },
      {
        version: 2,
        padding: false,
        extension: false,
        csrcCount: 0,
        marker: true,
        payloadType: 102,
        sequence: 0xabcd,
        timestamp: 0x89ab_cdef,
        ssrc: 0xdead_beef,
        payload: undefined,
      },
    );
    assert.deepEqual(
      [...packet!.subarray(2, 12)],
      [0xab, 0xcd, 0x89, 0xab, 0xcd, 0xef, 0xde, 0xad, 0xbe, 0xef],
    );
    assert.equal(packet!.length, RTP_HEADER_SIZE + 100);
  });

  test('timestamps and SSRC outside uint32 are taken modulo 2^32; the payload type to 7 bits', () => {
    const p = packetizer({ ssrc: -1, payloadType: 0x80 | 97 });
    const [a] = p.packetize([nal(0x41, 10)], 2 ** 32 + 5);
    const [b] = p.packetize([nal(0x41, 10)], -1);
    assert.equal(parseRtp(a!).timestamp, 5);
    assert.equal(parseRtp(b!).timestamp, 0xffff_ffff);
    assert.equal(parseRtp(a!).ssrc, 0xffff_ffff);
    assert.equal(parseRtp(a!).payloadType, 97);
    assert.equal(parseRtp(a!).marker, true, 'the payload type does not leak into the marker bit');
  });

  test('the read helpers agree with the header', () => {
    const p = packetizer({ initialSequence: 65535 });
    const packets = p.packetize([nal(0x67, 10), nal(0x65, 50)], 0xfedc_ba98);
    assert.deepEqual(packets.map(rtpSequenceOf), [65535, 0]);
    assert.deepEqual(packets.map(rtpTimestampOf), [0xfedc_ba98, 0xfedc_ba98]);
    assert.deepEqual(packets.map(isMarked), [false, true]);
  });
});

describe('H264RtpPacketizer: single NAL unit packets', () => {
  test('a NAL unit up to maxPayload goes alone and unchanged in one packet', () => {
    const p = packetizer({ maxPayload: 100 });
    const units = [nal(0x67, 20), nal(0x68, 4), nal(0x06, 99), nal(0x65, 100)];
    const packets = p.packetize(units, 0);
    assert.equal(packets.length, 4);
    packets.forEach((packet, i) => {
      assert.deepEqual(parseRtp(packet).payload, units[i], `unit ${i}`);
    });
  });

  test(`the default maxPayload is ${DEFAULT_MAX_PAYLOAD}: ${DEFAULT_MAX_PAYLOAD} bytes fit, one more does not`, () => {
    const p = packetizer();
    assert.equal(p.packetize([nal(0x65, DEFAULT_MAX_PAYLOAD)], 0).length, 1);
    const split = p.packetize([nal(0x65, DEFAULT_MAX_PAYLOAD + 1)], 0);
    assert.equal(split.length, 2);
    assert.equal(parseRtp(split[0]!).payload[0]! & 0x1f, FU_A);
  });

  test('an empty access unit gives no packets and uses no sequence number', () => {
    const p = packetizer({ initialSequence: 7 });
    assert.deepEqual(p.packetize([], 1234), []);
    assert.equal(p.nextSequence, 7);
  });
});

describe('H264RtpPacketizer: FU-A fragmentation (RFC 6184 §5.8)', () => {
  test('FU indicator keeps F and NRI of the NAL header with type 28; FU header has S, E and the original type', () => {
    for (const header of [0x65, 0x45, 0x25, 0x05, 0x41, 0x21, 0xe5]) {
      const p = packetizer({ maxPayload: 100 });
      const payloads = p.packetize([nal(header, 350)], 0).map((packet) => parseRtp(packet).payload);
      assert.ok(payloads.length >= 3, 'start, middle and end fragments');
      payloads.forEach((payload, i) => {
        const where = `header 0x${header.toString(16)} fragment ${i}`;
        assert.equal(payload[0], (header & 0xe0) | FU_A, `${where}: FU indicator`);
        const start = i === 0 ? 0x80 : 0;
        const end = i === payloads.length - 1 ? 0x40 : 0;
        assert.equal(payload[1], start | end | (header & 0x1f), `${where}: FU header`);
      });
    }
  });

  test('the fragments carry the NAL unit without its header byte, in order: reassembly gives it back exactly', () => {
    for (const [length, maxPayload] of [
      [101, 100],
      [102, 100],
      [198, 100],
      [199, 100],
      [200, 100],
      [5000, 1200],
      [65_536, 1200],
      [4, 3],
    ] as const) {
      const unit = nal(0x65, length, length);
      const p = packetizer({ maxPayload });
      const packets = p.packetize([unit], 0);
      assert.deepEqual(depacketize(packets), [unit], `${length} bytes at ${maxPayload}`);
      assert.equal(
        packets.length,
        Math.ceil((length - 1) / (maxPayload - 2)),
        `${length} bytes at ${maxPayload}`,
      );
    }
  });

  test('no payload is larger than maxPayload; every fragment but the last is full', () => {
    for (const maxPayload of [50, 100, 1200, 1400]) {
      for (const length of [maxPayload - 1, maxPayload, maxPayload + 1, 2 * maxPayload, 7 * maxPayload + 3]) {
        const packets = packetizer({ maxPayload }).packetize([nal(0x65, length)], 0);
        const sizes = packets.map((packet) => packet.length - RTP_HEADER_SIZE);
        assert.ok(
          sizes.every((size) => size <= maxPayload),
          `${length} at ${maxPayload}: ${sizes}`,
        );
        if (packets.length > 1) {
          assert.ok(
            sizes.slice(0, -1).every((size) => size === maxPayload),
            `${length} at ${maxPayload}: ${sizes}`,
          );
        }
      }
    }
  });
});

describe('H264RtpPacketizer: access units, marker bit and sequence numbers', () => {
  test('the marker bit is set on the last packet of the access unit only (single or FU-A end)', () => {
    const p = packetizer({ maxPayload: 100 });
    const endsWithFragments = p.packetize([nal(0x67, 20), nal(0x68, 4), nal(0x65, 450)], 0);
    assert.deepEqual(endsWithFragments.map(isMarked), [
      ...Array(endsWithFragments.length - 1).fill(false),
      true,
    ]);
    const endsSmall = p.packetize([nal(0x65, 450), nal(0x65, 30)], 1);
    assert.deepEqual(endsSmall.map(isMarked), [...Array(endsSmall.length - 1).fill(false), true]);
    assert.equal(
      parseRtp(endsSmall.at(-2)!).payload[1]! & 0x40,
      0x40,
      'the FU-A end before it has no marker',
    );
  });

  test('every packet of an access unit has its timestamp; the next access unit its own', () => {
    const p = packetizer({ maxPayload: 100 });
    const one = p.packetize([nal(0x67, 20), nal(0x65, 450)], 3000);
    const two = p.packetize([nal(0x41, 250)], 6000);
    assert.ok(one.every((packet) => parseRtp(packet).timestamp === 3000));
    assert.ok(two.every((packet) => parseRtp(packet).timestamp === 6000));
  });

  test('sequence numbers are consecutive across packets and access units, and nextSequence follows', () => {
    const p = packetizer({ initialSequence: 40_000, maxPayload: 100 });
    const all = [
      ...p.packetize([nal(0x67, 20), nal(0x68, 4), nal(0x65, 450)], 0),
      ...p.packetize([nal(0x41, 250)], 1),
      ...p.packetize([nal(0x41, 30)], 2),
    ];
    assert.deepEqual(
      all.map((packet) => parseRtp(packet).sequence),
      all.map((_, i) => 40_000 + i),
    );
    assert.equal(p.nextSequence, 40_000 + all.length);
  });

  test('sequence numbers wrap from 65535 to 0; an initial sequence is taken modulo 2^16', () => {
    const p = packetizer({ initialSequence: 65_533, maxPayload: 100 });
    const packets = p.packetize([nal(0x65, 450)], 0);
    assert.deepEqual(
      packets.map((packet) => parseRtp(packet).sequence),
      [65_533, 65_534, 65_535, 0, 1],
    );
    assert.equal(p.nextSequence, 2);
    assert.equal(packetizer({ initialSequence: 65_536 + 9 }).nextSequence, 9);
  });

  test('packets are copies: changing the NAL units or one packet afterwards changes no other packet', () => {
    const units = [nal(0x67, 20), nal(0x65, 300)];
    const p = packetizer({ maxPayload: 100 });
    const packets = p.packetize(units, 0);
    const before = packets.map((packet) => Buffer.from(packet));
    for (const unit of units) unit.fill(0);
    packets[0]!.fill(0xaa);
    assert.deepEqual(packets.slice(1), before.slice(1));
  });
});

describe('H264RtpPacketizer on real x264 access units', () => {
  let units: Uint8Array[][];
  let cleanup: () => Promise<void>;

  before(async () => {
    const recorded = await recordFrames();
    cleanup = recorded.cleanup;
    units = recorded.frames.map((frame) => accessUnitOf(frame.data));
  });

  after(async () => {
    await cleanup();
  });

  test('every access unit comes back NAL unit for NAL unit, one marker per access unit', () => {
    for (const maxPayload of [64, 200, DEFAULT_MAX_PAYLOAD]) {
      const p = packetizer({ maxPayload, initialSequence: 65_000 });
      let fragmented = 0;
      let sequence = 65_000;
      units.forEach((accessUnit, index) => {
        const packets = p.packetize(accessUnit, index * 6000);
        fragmented += packets.filter((packet) => (parseRtp(packet).payload[0]! & 0x1f) === FU_A).length;
        assert.deepEqual(
          depacketize(packets).map((unit) => unit.toString('hex')),
          accessUnit.map((unit) => Buffer.from(unit).toString('hex')),
          `access unit ${index} at ${maxPayload}`,
        );
        assert.equal(packets.filter(isMarked).length, 1);
        assert.ok(isMarked(packets.at(-1)!));
        for (const packet of packets) {
          assert.equal(parseRtp(packet).sequence, sequence, `access unit ${index}`);
          assert.ok(packet.length - RTP_HEADER_SIZE <= maxPayload);
          sequence = (sequence + 1) & 0xffff;
        }
      });
      if (maxPayload < DEFAULT_MAX_PAYLOAD) assert.ok(fragmented > 0, `FU-A used at ${maxPayload}`);
    }
  });
});

describe('withPayloadType and withTimestamp', () => {
  const original = (): Buffer =>
    packetizer({ payloadType: 96, initialSequence: 5 }).packetize([nal(0x65, 40)], 0x0102_0304)[0]!;

  test('withPayloadType: a copy with the new payload type, the marker bit and all else kept', () => {
    const packet = original();
    const snapshot = Buffer.from(packet);
    const copy = withPayloadType(packet, 102);
    assert.notEqual(copy, packet);
    assert.equal(parseRtp(copy).payloadType, 102);
    assert.equal(parseRtp(copy).marker, true);
    assert.deepEqual({ ...parseRtp(copy), payloadType: 96 }, parseRtp(snapshot));
    assert.deepEqual(packet, snapshot, 'the original is unchanged');
    copy.fill(0);
    assert.deepEqual(packet, snapshot, 'the copy does not share bytes with the original');
    const unmarked = packetizer().packetize([nal(0x67, 10), nal(0x68, 4)], 0)[0]!;
    assert.equal(parseRtp(withPayloadType(unmarked, 127)).marker, false);
    assert.equal(parseRtp(withPayloadType(unmarked, 0x80 | 35)).payloadType, 35);
    assert.equal(parseRtp(withPayloadType(unmarked, 0x80 | 35)).marker, false);
  });

  test('withTimestamp: a copy with the new timestamp (modulo 2^32), all else kept', () => {
    const packet = original();
    const snapshot = Buffer.from(packet);
    const copy = withTimestamp(packet, 0xffff_fffe);
    assert.notEqual(copy, packet);
    assert.equal(parseRtp(copy).timestamp, 0xffff_fffe);
    assert.deepEqual({ ...parseRtp(copy), timestamp: 0x0102_0304 }, parseRtp(snapshot));
    assert.equal(parseRtp(withTimestamp(packet, 2 ** 32 + 7)).timestamp, 7);
    assert.equal(parseRtp(withTimestamp(packet, -2)).timestamp, 0xffff_fffe);
    assert.deepEqual(packet, snapshot, 'the original is unchanged');
    copy.fill(0);
    assert.deepEqual(packet, snapshot, 'the copy does not share bytes with the original');
  });
});
