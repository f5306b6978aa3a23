import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ReportBlock, reportBlocksOf, roundTripSecondsOf, senderReport } from '../../src/webrtc/rtcp.ts';

/** An RTCP RR (RFC 3550 §6.4.2) with the given report blocks, as a viewer sends it. */
function receiverReport(reporterSsrc: number, blocks: ReportBlock[]): Buffer {
  const packet = Buffer.alloc(8 + 24 * blocks.length);
  packet[0] = 0x80 | blocks.length;
  packet[1] = 201;
  packet.writeUInt16BE(packet.length / 4 - 1, 2);
  packet.writeUInt32BE(reporterSsrc, 4);
  blocks.forEach((block, i) => {
    const at = 8 + 24 * i;
    packet.writeUInt32BE(block.ssrc, at);
    packet[at + 4] = Math.round(block.fractionLost * 256);
    packet.writeUIntBE(block.cumulativeLost & 0xffffff, at + 5, 3);
    packet.writeUInt32BE(12345, at + 8);
    packet.writeUInt32BE(block.jitter, at + 12);
    packet.writeUInt32BE(block.lastSenderReport, at + 16);
    packet.writeUInt32BE(block.delaySinceLastSenderReport, at + 20);
  });
  return packet;
}

const block = (overrides: Partial<ReportBlock> = {}): ReportBlock => ({
  ssrc: 0xdeadbeef,
  fractionLost: 0,
  cumulativeLost: 0,
  jitter: 90,
  lastSenderReport: 0,
  delaySinceLastSenderReport: 0,
  ...overrides,
});

/** The middle 32 bits of the NTP time of a Unix ms instant, as a viewer echoes them (LSR). */
function middleNtp(ms: number): number {
  return senderReport({ ssrc: 1, wallMs: ms, rtpTimestamp: 0, packets: 0, octets: 0 }).readUInt32BE(10);
}

describe('senderReport', () => {
  it('is a 28-byte SR: header, SSRC, NTP time of the wall clock, RTP timestamp, counts', () => {
    const wallMs = Date.UTC(2026, 11, 2, 12, 0, 0, 500);
    const sr = senderReport({
      ssrc: 0xdeadbeef,
      wallMs,
      rtpTimestamp: 2 ** 32 + 7,
      packets: 10,
      octets: 12_000,
    });
    assert.equal(sr.length, 28);
    assert.deepEqual([sr[0], sr[1], sr.readUInt16BE(2)], [0x80, 200, 6]);
    assert.equal(sr.readUInt32BE(4), 0xdeadbeef);
    assert.equal(sr.readUInt32BE(8), wallMs / 1000 - 0.5 + 2_208_988_800, 'NTP seconds since 1900');
    assert.equal(sr.readUInt32BE(12), 2 ** 31, 'half a second');
    assert.equal(sr.readUInt32BE(16), 7, 'RTP timestamp wraps at 32 bits');
    assert.deepEqual([sr.readUInt32BE(20), sr.readUInt32BE(24)], [10, 12_000]);
  });
});

describe('reportBlocksOf', () => {
  it('reads every block of an RR, with signed cumulative loss', () => {
    const blocks = [
      block({ fractionLost: 0.25, cumulativeLost: 42, jitter: 900 }),
      block({ ssrc: 7, cumulativeLost: -2 }),
    ];
    assert.deepEqual(reportBlocksOf(receiverReport(1, blocks)), blocks);
  });

  it('walks a compound packet (SR with blocks, then SDES) and skips what is not a report', () => {
    const sr = senderReport({ ssrc: 5, wallMs: 0, rtpTimestamp: 0, packets: 0, octets: 0 });
    const withBlock = Buffer.concat([sr, receiverReport(5, [block()]).subarray(8)]);
    withBlock[0] = 0x81;
    withBlock.writeUInt16BE(withBlock.length / 4 - 1, 2);
    const sdes = Buffer.from([0x81, 202, 0, 2, 0, 0, 0, 5, 0, 0, 0, 0]);
    assert.deepEqual(
      reportBlocksOf(Buffer.concat([withBlock, sdes, receiverReport(6, [block({ ssrc: 9 })])])),
      [block(), block({ ssrc: 9 })],
    );
  });

  it('never reads past the packet: truncated, lying lengths, garbage → what was whole before it', () => {
    const rr = receiverReport(1, [block()]);
    assert.deepEqual(reportBlocksOf(rr.subarray(0, 20)), []);
    const lying = Buffer.from(rr);
    lying[0] = 0x85; // says 5 blocks, holds 1
    assert.deepEqual(reportBlocksOf(lying), []);
    assert.deepEqual(reportBlocksOf(Buffer.alloc(0)), []);
    assert.deepEqual(reportBlocksOf(Buffer.from('not rtcp at all, just text')), []);
    assert.deepEqual(reportBlocksOf(Buffer.concat([rr, Buffer.from([0x80, 201, 0xff, 0xff])])), [block()]);
  });
});

describe('roundTripSecondsOf', () => {
  it('is now − LSR − DLSR (RFC 3550 §6.4.1), in seconds', () => {
    const sentAt = Date.UTC(2026, 11, 2, 12, 0, 0, 0);
    const echoed = block({ lastSenderReport: middleNtp(sentAt), delaySinceLastSenderReport: 65_536 / 4 });
    // The viewer held the SR 250 ms; it arrived back 280 ms after we sent it: 30 ms round trip.
    const rtt = roundTripSecondsOf(echoed, sentAt + 280);
    assert.ok(rtt !== null && Math.abs(rtt - 0.03) < 0.001, `${rtt}`);
  });

  it('is null before the viewer has seen a sender report, and for a report from the future', () => {
    assert.equal(roundTripSecondsOf(block(), Date.now()), null);
    const now = Date.now();
    assert.equal(roundTripSecondsOf(block({ lastSenderReport: middleNtp(now + 5_000) }), now), null);
  });
});
