/**
 * Counts H.264 video frames in an MPEG-TS segment: finds the H.264 elementary stream
 * (stream_type 0x1b) through PAT → PMT, then counts PES packet starts on its PID.
 * mpegtsmux (and every muxer we care about) writes one access unit per PES packet,
 * so PES starts = frames. Pure: no I/O.
 */

const PACKET_SIZE = 188;
const SYNC_BYTE = 0x47;
const PAT_PID = 0x0000;
const STREAM_TYPE_H264 = 0x1b;
const TABLE_ID_PAT = 0x00;
const TABLE_ID_PMT = 0x02;

interface TsPacket {
  pid: number;
  payloadUnitStart: boolean;
  /** Payload bytes (after the adaptation field), empty when the packet carries none. */
  payload: Uint8Array;
}

function* packets(ts: Uint8Array): Generator<TsPacket> {
  for (let offset = 0; offset + PACKET_SIZE <= ts.length; offset += PACKET_SIZE) {
    if (ts[offset] !== SYNC_BYTE) continue;
    const b1 = ts[offset + 1]!;
    const b2 = ts[offset + 2]!;
    const b3 = ts[offset + 3]!;
    const pid = ((b1 & 0x1f) << 8) | b2;
    const payloadUnitStart = (b1 & 0x40) !== 0;
    const adaptationFieldControl = (b3 >> 4) & 0x3;
    let payloadStart = offset + 4;
    if (adaptationFieldControl === 2 || adaptationFieldControl === 3) {
      payloadStart += 1 + ts[offset + 4]!;
    }
    const hasPayload = adaptationFieldControl === 1 || adaptationFieldControl === 3;
    const end = offset + PACKET_SIZE;
    const payload = hasPayload && payloadStart < end ? ts.subarray(payloadStart, end) : new Uint8Array(0);
    yield { pid, payloadUnitStart, payload };
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

/** PMT PIDs announced by a PAT section. */
function pmtPidsOf(pat: Uint8Array): number[] {
  const pids: number[] = [];
  // 8 bytes of header; 4 bytes of CRC at the end.
  for (let i = 8; i + 4 <= pat.length - 4; i += 4) {
    const programNumber = (pat[i]! << 8) | pat[i + 1]!;
    const pid = ((pat[i + 2]! & 0x1f) << 8) | pat[i + 3]!;
    if (programNumber !== 0) pids.push(pid);
  }
  return pids;
}

/** First H.264 elementary PID of a PMT section, or null. */
function h264PidOf(pmt: Uint8Array): number | null {
  if (pmt.length < 12) return null;
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

/** The PID carrying H.264 video, found through PAT and PMT; null when the stream has none. */
export function findH264Pid(ts: Uint8Array): number | null {
  let pmtPids: number[] | null = null;
  for (const packet of packets(ts)) {
    if (pmtPids === null) {
      if (packet.pid !== PAT_PID) continue;
      const pat = sectionOf(packet, TABLE_ID_PAT);
      if (pat) pmtPids = pmtPidsOf(pat);
      continue;
    }
    if (!pmtPids.includes(packet.pid)) continue;
    const pmt = sectionOf(packet, TABLE_ID_PMT);
    const pid = pmt ? h264PidOf(pmt) : null;
    if (pid !== null) return pid;
  }
  return null;
}

/** Video frames in an MPEG-TS segment: PES starts on the H.264 PID (0 when there is no H.264 stream). */
export function countVideoFrames(ts: Uint8Array): number {
  const videoPid = findH264Pid(ts);
  if (videoPid === null) return 0;
  let frames = 0;
  for (const packet of packets(ts)) {
    if (packet.pid === videoPid && packet.payloadUnitStart) frames += 1;
  }
  return frames;
}
