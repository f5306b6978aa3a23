/**
 * One video frame of the pipeline's MPEG-TS (a TsFrame: whole TS packets around one PES) → the
 * H.264 NAL units of its access unit, for RTP. Access unit delimiters are dropped (RTP marks the
 * end of an access unit with the marker bit instead). Pure: no I/O.
 */
import { packetsOf } from '../media/ts-packets.ts';

const NAL_ACCESS_UNIT_DELIMITER = 9;
/** PES stream_id of video elementary streams: 0xE0–0xEF. */
const isVideoStreamId = (id: number): boolean => (id & 0xf0) === 0xe0;

/** The elementary-stream bytes (Annex B) of the first video PES that starts in these packets. */
export function pesPayloadOf(ts: Uint8Array): Uint8Array | null {
  let pid: number | null = null;
  const pieces: Uint8Array[] = [];
  for (const packet of packetsOf(ts)) {
    if (pid === null) {
      const p = packet.payload;
      if (!packet.payloadUnitStart || p.length < 9 || p[0] !== 0 || p[1] !== 0 || p[2] !== 1) continue;
      if (!isVideoStreamId(p[3]!)) continue;
      pid = packet.pid;
      const headerLength = 9 + p[8]!;
      if (headerLength < p.length) pieces.push(p.subarray(headerLength));
    } else if (packet.pid === pid) {
      if (packet.payloadUnitStart) break; // the next PES: not this frame's
      pieces.push(packet.payload);
    }
  }
  if (pid === null) return null;
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

const START_CODE = Buffer.from([0, 0, 1]);

/** NAL units of an Annex B byte stream (start codes of 3 or 4 bytes), without their start codes. */
export function nalUnitsOf(annexB: Uint8Array): Uint8Array[] {
  // Buffer.indexOf is a native search: a byte-by-byte loop here was the supervisor's hottest function.
  const bytes = Buffer.from(annexB.buffer, annexB.byteOffset, annexB.byteLength);
  const units: Uint8Array[] = [];
  let start = bytes.indexOf(START_CODE);
  while (start >= 0) {
    const next = bytes.indexOf(START_CODE, start + 3);
    const unit = trimTrailingZeros(bytes.subarray(start + 3, next < 0 ? bytes.length : next));
    if (unit.length > 0) units.push(unit);
    start = next;
  }
  return units;
}

/**
 * The zero before a 4-byte start code belongs to the start code, and zeros at the end of the stream
 * are trailing_zero_8bits (H.264 B.1): neither is part of the NAL unit before them (a NAL unit ends
 * in its rbsp_stop_one_bit's byte, never in a zero byte).
 */
function trimTrailingZeros(unit: Uint8Array): Uint8Array {
  let end = unit.length;
  while (end > 0 && unit[end - 1] === 0) end--;
  return unit.subarray(0, end);
}

export const nalTypeOf = (unit: Uint8Array): number => unit[0]! & 0x1f;

/** The NAL units to send for one TS frame (no access unit delimiters); empty when none. */
export function accessUnitOf(ts: Uint8Array): Uint8Array[] {
  const payload = pesPayloadOf(ts);
  if (!payload) return [];
  return nalUnitsOf(payload).filter((unit) => nalTypeOf(unit) !== NAL_ACCESS_UNIT_DELIMITER);
}
