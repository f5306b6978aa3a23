/**
 * The RTCP a sender needs (RFC 3550 §6.4): sender reports out, so viewers can tell us round-trip
 * time; receiver report blocks in, for loss, jitter and RTT. Pure: no I/O.
 */

const RTCP_SR = 200;
const RTCP_RR = 201;
const SR_SENDER_INFO_BYTES = 20;
const REPORT_BLOCK_BYTES = 24;
/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

export interface ReportBlock {
  /** The SSRC this block reports on (ours, for the viewers' reports on our video). */
  ssrc: number;
  /** Fraction of packets lost since the previous report, 0–1. */
  fractionLost: number;
  /** Packets lost since the start of reception (may go negative with duplicates). */
  cumulativeLost: number;
  /** Interarrival jitter, in RTP timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP time of the last SR the viewer got from us; 0 = none yet. */
  lastSenderReport: number;
  /** Delay since that SR when this report was sent, in 1/65536 s. */
  delaySinceLastSenderReport: number;
}

export interface SenderReport {
  ssrc: number;
  /** Wall-clock time (ms since the Unix epoch) the report describes. */
  wallMs: number;
  /** The RTP timestamp of that same instant. */
  rtpTimestamp: number;
  packets: number;
  octets: number;
}

/** A 28-byte RTCP SR without report blocks (we receive no media). */
export function senderReport(report: SenderReport): Buffer {
  const packet = Buffer.alloc(4 + 4 + SR_SENDER_INFO_BYTES);
  packet[0] = 0x80; // V=2, P=0, RC=0
  packet[1] = RTCP_SR;
  packet.writeUInt16BE(packet.length / 4 - 1, 2);
  packet.writeUInt32BE(report.ssrc >>> 0, 4);
  const { seconds, fraction } = ntpOf(report.wallMs);
  packet.writeUInt32BE(seconds, 8);
  packet.writeUInt32BE(fraction, 12);
  packet.writeUInt32BE(report.rtpTimestamp >>> 0, 16);
  packet.writeUInt32BE(report.packets >>> 0, 20);
  packet.writeUInt32BE(report.octets >>> 0, 24);
  return packet;
}

/** Every report block of the RR and SR packets in a (compound) RTCP packet; malformed ones end the walk. */
export function reportBlocksOf(compound: Uint8Array): ReportBlock[] {
  const blocks: ReportBlock[] = [];
  const view = new DataView(compound.buffer, compound.byteOffset, compound.byteLength);
  let offset = 0;
  while (offset + 4 <= compound.length) {
    const first = compound[offset]!;
    if (first >> 6 !== 2) break;
    const count = first & 0x1f;
    const type = compound[offset + 1]!;
    const length = (view.getUint16(offset + 2) + 1) * 4;
    if (offset + length > compound.length) break;
    const blocksAt = type === RTCP_RR ? 8 : type === RTCP_SR ? 8 + SR_SENDER_INFO_BYTES : -1;
    if (blocksAt >= 0 && blocksAt + count * REPORT_BLOCK_BYTES <= length) {
      for (let i = 0; i < count; i++) {
        const at = offset + blocksAt + i * REPORT_BLOCK_BYTES;
        const lost = view.getUint32(at + 4);
        const cumulative = lost & 0xffffff;
        blocks.push({
          ssrc: view.getUint32(at),
          fractionLost: (lost >>> 24) / 256,
          cumulativeLost: cumulative & 0x800000 ? cumulative - 0x1000000 : cumulative,
          jitter: view.getUint32(at + 12),
          lastSenderReport: view.getUint32(at + 16),
          delaySinceLastSenderReport: view.getUint32(at + 20),
        });
      }
    }
    offset += length;
  }
  return blocks;
}

/** Round-trip time in seconds from a report block received at `nowMs`; null without an SR echoed. */
export function roundTripSecondsOf(block: ReportBlock, nowMs: number): number | null {
  if (block.lastSenderReport === 0) return null;
  const { seconds, fraction } = ntpOf(nowMs);
  const now = (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
  const rtt = (now - block.lastSenderReport - block.delaySinceLastSenderReport) >>> 0;
  // A negative difference wraps to a huge value: a clock step or a bogus report, not an RTT.
  return rtt > 0x7fffffff ? null : rtt / 65_536;
}

function ntpOf(wallMs: number): { seconds: number; fraction: number } {
  const unixSeconds = Math.floor(wallMs / 1000);
  return {
    seconds: (unixSeconds + NTP_UNIX_OFFSET_S) >>> 0,
    fraction: Math.floor(((wallMs - unixSeconds * 1000) / 1000) * 2 ** 32) >>> 0,
  };
}
