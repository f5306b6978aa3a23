/**
 * H.264 → RTP (RFC 6184, packetization-mode 1): a NAL unit that fits goes alone in a packet,
 * a larger one is cut into FU-A fragments; the last packet of an access unit carries the marker
 * bit. One packetizer serves every viewer, so the sequence numbers are the stream's, not a
 * viewer's. Pure: no I/O.
 */

export const RTP_HEADER_SIZE = 12;
/** Payload bytes per packet: 1200 keeps an SRTP packet well under a 1500-byte Ethernet MTU. */
export const DEFAULT_MAX_PAYLOAD = 1200;
const NAL_FU_A = 28;

export interface RtpPacketizerOptions {
  ssrc: number;
  payloadType: number;
  /** First sequence number (random in production: RFC 3550 §5.1). */
  initialSequence: number;
  maxPayload?: number;
}

export class H264RtpPacketizer {
  readonly #ssrc: number;
  readonly #payloadType: number;
  readonly #maxPayload: number;
  #sequence: number;

  constructor(options: RtpPacketizerOptions) {
    this.#ssrc = options.ssrc >>> 0;
    this.#payloadType = options.payloadType & 0x7f;
    this.#sequence = options.initialSequence & 0xffff;
    this.#maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** The sequence number the next packet will get. */
  get nextSequence(): number {
    return this.#sequence;
  }

  /** RTP packets for one access unit (NAL units without start codes) at this RTP timestamp. */
  packetize(units: readonly Uint8Array[], timestamp: number): Buffer[] {
    const packets: Buffer[] = [];
    units.forEach((unit, index) => {
      const lastUnit = index === units.length - 1;
      if (unit.length <= this.#maxPayload) {
        packets.push(this.#packet(timestamp, lastUnit, unit));
        return;
      }
      const header = unit[0]!;
      const indicator = (header & 0xe0) | NAL_FU_A;
      const body = unit.subarray(1);
      const chunk = this.#maxPayload - 2;
      for (let offset = 0; offset < body.length; offset += chunk) {
        const end = Math.min(offset + chunk, body.length);
        const first = offset === 0;
        const last = end === body.length;
        const fuHeader = (first ? 0x80 : 0) | (last ? 0x40 : 0) | (header & 0x1f);
        packets.push(
          this.#packet(
            timestamp,
            lastUnit && last,
            Buffer.from([indicator, fuHeader]),
            body.subarray(offset, end),
          ),
        );
      }
    });
    return packets;
  }

  #packet(timestamp: number, marker: boolean, ...payload: Uint8Array[]): Buffer {
    const size = payload.reduce((sum, piece) => sum + piece.length, RTP_HEADER_SIZE);
    const packet = Buffer.allocUnsafe(size);
    packet[0] = 0x80; // version 2, no padding, no extension, no CSRC
    packet[1] = (marker ? 0x80 : 0) | this.#payloadType;
    packet.writeUInt16BE(this.#sequence, 2);
    packet.writeUInt32BE(timestamp >>> 0, 4);
    packet.writeUInt32BE(this.#ssrc, 8);
    let offset = RTP_HEADER_SIZE;
    for (const piece of payload) {
      packet.set(piece, offset);
      offset += piece.length;
    }
    this.#sequence = (this.#sequence + 1) & 0xffff;
    return packet;
  }
}

/** A copy of a packet with another payload type (viewers whose offer numbered H.264 differently). */
export function withPayloadType(packet: Buffer, payloadType: number): Buffer {
  const copy = Buffer.from(packet);
  copy[1] = (copy[1]! & 0x80) | (payloadType & 0x7f);
  return copy;
}

/** A copy of a packet with another RTP timestamp. */
export function withTimestamp(packet: Buffer, timestamp: number): Buffer {
  const copy = Buffer.from(packet);
  copy.writeUInt32BE(timestamp >>> 0, 4);
  return copy;
}

export const rtpTimestampOf = (packet: Buffer): number => packet.readUInt32BE(4);
export const rtpSequenceOf = (packet: Buffer): number => packet.readUInt16BE(2);
export const isMarked = (packet: Buffer): boolean => (packet[1]! & 0x80) !== 0;
