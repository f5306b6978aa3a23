import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  h264PidOf,
  PACKET_SIZE,
  packetsOf,
  parsePacket,
  pesPtsOf,
  pmtPidsOf,
  startsWithKeyframe,
} from '../../src/media/ts-packets.ts';

/** A 188-byte packet: header, optional adaptation field (with random_access), payload, 0xff fill. */
function raw(
  pid: number,
  options: { start?: boolean; adaptation?: number[] | null; payload?: number[] | null } = {},
): Buffer {
  const out = Buffer.alloc(PACKET_SIZE, 0xff);
  const { start = false, adaptation = null, payload = [] } = options;
  out[0] = 0x47;
  out[1] = (start ? 0x40 : 0) | ((pid >> 8) & 0x1f);
  out[2] = pid & 0xff;
  const control = (adaptation ? 2 : 0) | (payload ? 1 : 0);
  out[3] = (control << 4) | 0x05;
  let offset = 4;
  if (adaptation) {
    out[4] = adaptation.length;
    Buffer.from(adaptation).copy(out, 5);
    offset = 5 + adaptation.length;
  }
  if (payload) Buffer.from(payload).copy(out, offset);
  return out;
}

function pes(pts: number | null, nals: number[]): number[] {
  const header =
    pts === null
      ? [0, 0, 1, 0xe0, 0, 0, 0x80, 0x00, 0x00]
      : [
          0,
          0,
          1,
          0xe0,
          0,
          0,
          0x80,
          0x80,
          0x05,
          0x21 | ((Math.floor(pts / 2 ** 30) & 7) << 1),
          (Math.floor(pts / 2 ** 15) & 0x7fff) >> 7,
          ((Math.floor(pts / 2 ** 15) & 0x7fff & 0x7f) << 1) | 1,
          (pts & 0x7fff) >> 7,
          ((pts & 0x7f) << 1) | 1,
        ];
  return [...header, ...nals.flatMap((type) => [0, 0, 0, 1, type, 0x88])];
}

describe('ts-packets', () => {
  test('parsePacket: PID, payload_unit_start, random access, payload after the adaptation field', () => {
    const packet = parsePacket(raw(0x1abc, { start: true, adaptation: [0x40, 1, 2], payload: [9, 8, 7] }))!;
    assert.equal(packet.pid, 0x1abc);
    assert.equal(packet.payloadUnitStart, true);
    assert.equal(packet.randomAccess, true);
    assert.equal(packet.payload.length, PACKET_SIZE - 4 - 1 - 3);
    assert.deepEqual([...packet.payload.subarray(0, 3)], [9, 8, 7]);
    const plain = parsePacket(raw(0x100, { payload: [1] }))!;
    assert.equal(plain.payloadUnitStart, false);
    assert.equal(plain.randomAccess, false);
    assert.equal(plain.payload.length, PACKET_SIZE - 4);
  });

  test('parsePacket: adaptation only, or an empty adaptation field, has no payload / no random access', () => {
    const only = parsePacket(raw(0x100, { adaptation: Array(183).fill(0xff), payload: null }))!;
    assert.equal(only.payload.length, 0);
    const empty = parsePacket(raw(0x100, { adaptation: [], payload: [1, 2] }))!;
    assert.equal(empty.randomAccess, false);
    assert.equal(empty.payload.length, PACKET_SIZE - 5);
  });

  test('parsePacket: null without the sync byte or when short', () => {
    const bad = raw(0x100);
    bad[0] = 0x48;
    assert.equal(parsePacket(bad), null);
    assert.equal(parsePacket(raw(0x100).subarray(0, 187)), null);
  });

  test('packetsOf: whole packets only, bad ones skipped, a trailing partial packet ignored', () => {
    const bad = raw(0x101);
    bad[0] = 0;
    const buffer = Buffer.concat([raw(0x100), bad, raw(0x102), raw(0x103).subarray(0, 100)]);
    assert.deepEqual(
      [...packetsOf(buffer)].map((packet) => packet.pid),
      [0x100, 0x102],
    );
  });

  test('PAT → PMT PIDs (network PID entry skipped), PMT → the H.264 PID', () => {
    const pat = raw(0, {
      start: true,
      payload: [
        0, 0x00, 0xb0, 0x11, 0, 1, 0xc1, 0, 0, 0x00, 0x00, 0xe0, 0x10, 0x00, 0x01, 0xe1, 0x00, 0, 0, 0, 0,
      ],
    });
    assert.deepEqual(pmtPidsOf(parsePacket(pat)!), [0x100]);
    // A PMT with an AAC stream first and a program descriptor: the H.264 PID is still found.
    const pmt = raw(0x100, {
      start: true,
      payload: [
        0, 0x02, 0xb0, 0x1c, 0, 1, 0xc1, 0, 0, 0xe0, 0x41, 0xf0, 0x03, 0x0e, 0x01, 0xff, 0x0f, 0xe0, 0x42,
        0xf0, 0x00, 0x1b, 0xe0, 0x41, 0xf0, 0x00, 0, 0, 0, 0,
      ],
    });
    assert.equal(h264PidOf(parsePacket(pmt)!), 0x41);
    // Not tables: no PIDs.
    assert.deepEqual(pmtPidsOf(parsePacket(pmt)!), []);
    assert.equal(h264PidOf(parsePacket(pat)!), null);
    assert.deepEqual(pmtPidsOf(parsePacket(raw(0, { payload: [0, 0] }))!), [], 'no payload_unit_start');
    // A pointer field that skips bytes before the section.
    const pointered = raw(0, {
      start: true,
      payload: [2, 0xaa, 0xbb, 0x00, 0xb0, 0x0d, 0, 1, 0xc1, 0, 0, 0x00, 0x01, 0xe1, 0x00, 0, 0, 0, 0],
    });
    assert.deepEqual(pmtPidsOf(parsePacket(pointered)!), [0x100]);
  });

  test('pesPtsOf: 33-bit PTS, null without one or without a PES start code', () => {
    for (const pts of [0, 1, 90_000, 2 ** 30, 2 ** 32 + 7, 2 ** 33 - 1]) {
      assert.equal(pesPtsOf(Buffer.from(pes(pts, [9]))), pts, String(pts));
    }
    assert.equal(pesPtsOf(Buffer.from(pes(null, [9, 9, 9]))), null);
    const noStart = pes(1000, [9]);
    noStart[2] = 2;
    assert.equal(pesPtsOf(Buffer.from(noStart)), null);
    assert.equal(pesPtsOf(Buffer.from([0, 0, 1])), null);
  });

  test('startsWithKeyframe: SPS or IDR before the first non-IDR slice; AUD and SEI skipped', () => {
    assert.equal(startsWithKeyframe(Buffer.from(pes(0, [9, 7, 8, 5]))), true);
    assert.equal(startsWithKeyframe(Buffer.from(pes(0, [9, 6, 5]))), true);
    assert.equal(startsWithKeyframe(Buffer.from(pes(0, [5]))), true);
    assert.equal(startsWithKeyframe(Buffer.from(pes(0, [9, 1]))), false);
    assert.equal(startsWithKeyframe(Buffer.from(pes(0, [9, 6]))), false);
    assert.equal(startsWithKeyframe(Buffer.from(pes(0, [1, 5]))), false);
    // The PTS bytes of the header must not be read as a start code.
    assert.equal(startsWithKeyframe(Buffer.from(pes(1, [1]))), false);
  });
});
