/**
 * MPEG-TS packet and PSI parsing (ISO/IEC 13818-1), just what the supervisor needs to cut the
 * stream from the pipeline into frames: packet headers, PAT → PMT → the H.264 PID, PES PTS.
 * Pure: no I/O.
 */

export const PACKET_SIZE = 188;
export const SYNC_BYTE = 0x47;
export const PAT_PID = 0x0000;
const STREAM_TYPE_H264 = 0x1b;
const TABLE_ID_PAT = 0x00;
const TABLE_ID_PMT = 0x02;
/** PTS is a 33-bit count of a 90 kHz clock. */
export const PTS_CLOCK_HZ = 90_000;
export const PTS_WRAP = 2 ** 33;

export interface TsPacket {
  pid: number;
  payloadUnitStart: boolean;
  /** random_access_indicator of the adaptation field: the muxer marks keyframes with it. */
  randomAccess: boolean;
  /** Payload bytes (after the adaptation field), empty when the packet carries none. */
  payload: Uint8Array;
}

/** Parse one 188-byte packet; null when it does not start with the sync byte. */
export function parsePacket(packet: Uint8Array): TsPacket | null {
  if (packet.length < PACKET_SIZE || packet[0] !== SYNC_BYTE) return null;
  const b1 = packet[1]!;
  const pid = ((b1 & 0x1f) << 8) | packet[2]!;
  const adaptationFieldControl = (packet[3]! >> 4) & 0x3;
  let payloadStart = 4;
  let randomAccess = false;
  if (adaptationFieldControl === 2 || adaptationFieldControl === 3) {
    const length = packet[4]!;
    if (length > 0) randomAccess = (packet[5]! & 0x40) !== 0;
    payloadStart += 1 + length;
  }
  const hasPayload = (adaptationFieldControl & 1) === 1 && payloadStart < PACKET_SIZE;
  return {
    pid,
    payloadUnitStart: (b1 & 0x40) !== 0,
    randomAccess,
    payload: hasPayload ? packet.subarray(payloadStart, PACKET_SIZE) : new Uint8Array(0),
  };
}

/** Every packet of a buffer that holds whole packets (bytes that are not one are skipped). */
export function* packetsOf(ts: Uint8Array): Generator<TsPacket> {
  for (let offset = 0; offset + PACKET_SIZE <= ts.length; offset += PACKET_SIZE) {
    const packet = parsePacket(ts.subarray(offset, offset + PACKET_SIZE));
    if (packet) yield packet;
  }
}

/** The PSI section that starts in this packet's payload (after pointer_field), if any. */
function sectionOf(packet: TsPacket, tableId: number): Uint8Array | null {
  if (!packet.payloadUnitStart || packet.payload.length < 1) return null;
  const pointer = packet.payload[0]!;
  const section = packet.payload.subarray(1 + pointer);
  if (section.length < 3 || section[0] !== tableId) return null;
  const sectionLength = ((section[1]! & 0x0f) << 8) | section[2]!;
  // Sections longer than one packet do not occur for the PAT/PMT of a single-program stream.
  return section.subarray(0, Math.min(section.length, 3 + sectionLength));
}

/** PMT PIDs announced by a PAT packet (empty when it is not one). */
export function pmtPidsOf(packet: TsPacket): number[] {
  const pat = sectionOf(packet, TABLE_ID_PAT);
  if (!pat) return [];
  const pids: number[] = [];
  // 8 bytes of header; 4 bytes of CRC at the end.
  for (let i = 8; i + 4 <= pat.length - 4; i += 4) {
    const programNumber = (pat[i]! << 8) | pat[i + 1]!;
    const pid = ((pat[i + 2]! & 0x1f) << 8) | pat[i + 3]!;
    if (programNumber !== 0) pids.push(pid);
  }
  return pids;
}

/** First H.264 elementary PID of a PMT packet, or null. */
export function h264PidOf(packet: TsPacket): number | null {
  const pmt = sectionOf(packet, TABLE_ID_PMT);
  if (!pmt || pmt.length < 12) return null;
  const programInfoLength = ((pmt[10]! & 0x0f) << 8) | pmt[11]!;
  for (let i = 12 + programInfoLength; i + 5 <= pmt.length - 4; ) {
    const streamType = pmt[i]!;
    const pid = ((pmt[i + 1]! & 0x1f) << 8) | pmt[i + 2]!;
    const esInfoLength = ((pmt[i + 3]! & 0x0f) << 8) | pmt[i + 4]!;
    if (streamType === STREAM_TYPE_H264) return pid;
    i += 5 + esInfoLength;
  }
  return null;
}

/** The PTS (90 kHz ticks) of the PES packet that starts in this payload, or null. */
export function pesPtsOf(payload: Uint8Array): number | null {
  if (payload.length < 14 || payload[0] !== 0 || payload[1] !== 0 || payload[2] !== 1) return null;
  if ((payload[7]! & 0x80) === 0) return null;
  const p = payload;
  return (
    ((p[9]! >> 1) & 0x07) * 2 ** 30 +
    (((p[10]! << 8) | p[11]!) >> 1) * 2 ** 15 +
    (((p[12]! << 8) | p[13]!) >> 1)
  );
}

/** Whether an H.264 PES payload start carries an SPS or an IDR slice (a point a decoder can start from). */
export function startsWithKeyframe(payload: Uint8Array): boolean {
  const headerLength = payload.length > 8 ? 9 + payload[8]! : payload.length;
  for (let i = headerLength; i + 3 < payload.length; i++) {
    if (payload[i] === 0 && payload[i + 1] === 0 && payload[i + 2] === 1) {
      const type = payload[i + 3]! & 0x1f;
      if (type === 5 || type === 7) return true;
      if (type === 1) return false;
    }
  }
  return false;
}
