/**
 * Cuts the MPEG-TS byte stream of the pipeline (mpegtsmux on a pipe, in chunks of any size) into
 * video frames: one access unit per PES packet on the H.264 PID, with the packets around it.
 * A frame is complete when the next one starts, so the newest frame is always held back until
 * then (one frame interval); on a pipeline death that open frame, possibly cut short, is dropped.
 *
 * Every keyframe comes out prefixed with the current PAT and PMT, so that a part or segment that
 * starts with it can be decoded on its own (mpegtsmux repeats them on a timer, not at
 * keyframes). The copies are byte-identical to the last ones sent, continuity counter included:
 * to a demuxer they are allowed duplicate packets. Pure: no I/O.
 */
import {
  h264PidOf,
  PACKET_SIZE,
  PAT_PID,
  PTS_WRAP,
  parsePacket,
  pesPtsOf,
  pmtPidsOf,
  SYNC_BYTE,
  startsWithKeyframe,
} from './ts-packets.ts';

export interface TsFrame {
  /** Whole TS packets: the frame's PES and the tables/PCR packets muxed before it. */
  data: Buffer;
  /** Presentation time in 90 kHz ticks, unwrapped (keeps growing past the 33-bit wrap). */
  pts: number;
  keyframe: boolean;
}

const EMPTY = Buffer.alloc(0);

interface OpenFrame {
  /** The frame's packets before the current run, as views. */
  packets: Buffer[];
  /** The run of back-to-back video packets being read: runData[runStart, runEnd), one view when it ends. */
  runData: Buffer | null;
  runStart: number;
  runEnd: number;
  pts: number;
  keyframe: boolean;
}

export class TsFrameSplitter {
  #remainder: Buffer = EMPTY;
  #pmtPids: number[] = [];
  #videoPid: number | null = null;
  #pat: Buffer | null = null;
  #pmt: Buffer | null = null;
  /** Packets of other PIDs since the last video packet: they belong to the next frame. */
  #between: Buffer[] = [];
  #open: OpenFrame | null = null;
  #lastRawPts: number | null = null;
  #wraps = 0;
  /** Bytes that were not TS packets (resynchronised over). */
  skippedBytes = 0;

  /** Feed the next chunk; returns the frames it completed, oldest first. */
  push(chunk: Buffer): TsFrame[] {
    const data = this.#remainder.length > 0 ? Buffer.concat([this.#remainder, chunk]) : chunk;
    const frames: TsFrame[] = [];
    const length = data.length;
    let offset = 0;
    while (offset + PACKET_SIZE <= length) {
      if (data[offset] !== SYNC_BYTE) {
        offset++;
        this.skippedBytes++;
        continue;
      }
      const done = this.#onPacket(data, offset);
      offset += PACKET_SIZE;
      if (done) frames.push(done);
    }
    // Only a packet cut by the chunk boundary is copied (the chunk's views above stay valid).
    this.#remainder = offset === length ? EMPTY : Buffer.from(data.subarray(offset));
    return frames;
  }

  /** The end of the stream: the open frame may be incomplete and is dropped. Ready for a new stream. */
  reset(): void {
    this.#remainder = EMPTY;
    this.#pmtPids = [];
    this.#videoPid = null;
    this.#pat = null;
    this.#pmt = null;
    this.#between = [];
    this.#open = null;
    this.#lastRawPts = null;
    this.#wraps = 0;
  }

  /**
   * The packet at data[offset]. The header is read in place: only tables and the first packet of a
   * video PES are parsed further (most packets are the middle of a frame, and cost a view only).
   */
  #onPacket(data: Buffer, offset: number): TsFrame | null {
    const pid = ((data[offset + 1]! & 0x1f) << 8) | data[offset + 2]!;
    if (pid === this.#videoPid && (data[offset + 1]! & 0x40) === 0) {
      // The rest of the open frame: most packets. No view is made for them one by one.
      this.#continueFrame(data, offset);
      return null;
    }
    // A view, not a copy: a chunk from a stream is never reused, and the remainder is a copy.
    const raw = data.subarray(offset, offset + PACKET_SIZE);
    if (pid === PAT_PID) {
      const pids = pmtPidsOf(parsePacket(raw)!);
      if (pids.length > 0) {
        this.#pmtPids = pids;
        this.#pat = raw;
      }
    } else if (this.#pmtPids.includes(pid)) {
      const video = h264PidOf(parsePacket(raw)!);
      if (video !== null) {
        this.#videoPid = video;
        this.#pmt = raw;
      }
    }
    if (pid !== this.#videoPid) {
      this.#between.push(raw);
      return null;
    }
    const packet = parsePacket(raw)!;
    const completed = this.#open ? this.#finish(this.#open) : null;
    const rawPts = pesPtsOf(packet.payload);
    if (rawPts === null) {
      // A PES without PTS cannot be placed in time: skip it (mpegtsmux always writes one).
      this.#open = null;
      this.#between = [];
      return completed;
    }
    const keyframe = packet.randomAccess || startsWithKeyframe(packet.payload);
    this.#open = {
      packets: this.#withTables(this.#between, keyframe),
      runData: data,
      runStart: offset,
      runEnd: offset + PACKET_SIZE,
      pts: this.#unwrap(rawPts),
      keyframe,
    };
    this.#between = [];
    return completed;
  }

  /** A video packet in the middle of the open frame; tables muxed in the middle of it stay where they were. */
  #continueFrame(data: Buffer, offset: number): void {
    const open = this.#open;
    if (this.#between.length > 0) {
      if (open) {
        this.#endRun(open);
        for (const packet of this.#between) open.packets.push(packet);
      }
      this.#between = [];
    }
    if (!open) return;
    if (open.runData === data && open.runEnd === offset) {
      open.runEnd += PACKET_SIZE;
      return;
    }
    this.#endRun(open);
    open.runData = data;
    open.runStart = offset;
    open.runEnd = offset + PACKET_SIZE;
  }

  #endRun(open: OpenFrame): void {
    if (open.runData) open.packets.push(open.runData.subarray(open.runStart, open.runEnd));
    open.runData = null;
  }

  #finish(frame: OpenFrame): TsFrame {
    this.#endRun(frame);
    return { data: Buffer.concat(frame.packets), pts: frame.pts, keyframe: frame.keyframe };
  }

  /** A keyframe starts with PAT and PMT: the latest copies go first unless the muxer just sent them. */
  #withTables(before: Buffer[], keyframe: boolean): Buffer[] {
    // `before` is the splitter's own list, replaced after this call: it can become the frame's.
    if (!keyframe || !this.#pat || !this.#pmt) return before;
    const pids = new Set(before.map((raw) => ((raw[1]! & 0x1f) << 8) | raw[2]!));
    const hasTables = pids.has(PAT_PID) && this.#pmtPids.some((pid) => pids.has(pid));
    return hasTables ? before : [this.#pat, this.#pmt, ...before];
  }

  #unwrap(raw: number): number {
    if (this.#lastRawPts !== null && raw < this.#lastRawPts - PTS_WRAP / 2) this.#wraps++;
    this.#lastRawPts = raw;
    return raw + this.#wraps * PTS_WRAP;
  }
}
