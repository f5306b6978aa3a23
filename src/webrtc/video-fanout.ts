/**
 * One encode, packetized once, sent to every WebRTC viewer. The fan-out owns the RTP state
 * (SSRC, sequence numbers, timestamps): a pipeline restart, a slate or an encoder change only
 * pauses the frames, so no viewer has to renegotiate. Each run is sent from its first keyframe
 * (in-band SPS/PPS, so a new size or encoder just works). The current GOP is kept, so a viewer
 * that joins gets a picture at once instead of at the next keyframe; while nobody watches, nothing
 * is packetized. Pure: viewers and the clock are passed in.
 */
import type { TsFrame } from '../media/ts-frame-splitter.ts';
import { accessUnitOf } from './access-unit.ts';
import { H264RtpPacketizer, withPayloadType, withTimestamp } from './h264-rtp.ts';
import { RtpClock } from './rtp-clock.ts';

export interface RtpViewer {
  /** The payload type this viewer's offer gave H.264. */
  readonly payloadType: number;
  send(packet: Buffer): void;
}

export interface VideoFanoutOptions {
  ssrc: number;
  initialSequence: number;
  initialTimestamp: number;
  now: () => number;
  /** Bound on the cached GOP; a longer one is dropped and new viewers wait for the next keyframe. */
  maxGopBytes?: number;
}

/** The payload type packets are made with; viewers that numbered H.264 otherwise get copies. */
export const FANOUT_PAYLOAD_TYPE = 96;
const DEFAULT_MAX_GOP_BYTES = 8 * 1024 * 1024;

/** A frame of the current GOP: its RTP timestamp, and its packets once someone watches. */
interface GopFrame {
  timestamp: number;
  /** The TS frame, until it is packetized. */
  data: Buffer | null;
  packets: Buffer[] | null;
}

export class VideoFanout {
  readonly #packetizer: H264RtpPacketizer;
  readonly #clock: RtpClock;
  readonly #viewers = new Set<RtpViewer>();
  readonly #maxGopBytes: number;
  /** The frames since the last keyframe; null while there is no whole GOP to give. */
  #gop: GopFrame[] | null = null;
  #gopBytes = 0;
  #waitingForKeyframe = true;
  frames = 0;
  packets = 0;

  constructor(options: VideoFanoutOptions) {
    this.#packetizer = new H264RtpPacketizer({
      ssrc: options.ssrc,
      payloadType: FANOUT_PAYLOAD_TYPE,
      initialSequence: options.initialSequence,
    });
    this.#clock = new RtpClock(options.initialTimestamp, options.now);
    this.#maxGopBytes = options.maxGopBytes ?? DEFAULT_MAX_GOP_BYTES;
  }

  get viewerCount(): number {
    return this.#viewers.size;
  }

  /** The RTP timestamp of a wall-clock instant (sender reports map it to NTP time). */
  rtpTimestampAt(wallMs: number): number {
    return this.#clock.timestampAt(wallMs);
  }

  /** The next frame is from a new pipeline run (its timestamps start over): wait for its keyframe. */
  newRun(): void {
    this.#waitingForKeyframe = true;
    this.#clock.newRun();
  }

  /**
   * While nobody watches, a frame is only kept (with its timestamp) for the GOP replay: packetizing
   * is left to the first viewer who needs it, so an unwatched stream costs no RTP work.
   */
  pushFrame(frame: Pick<TsFrame, 'data' | 'pts' | 'keyframe'>): void {
    // A "keyframe" without video in it cannot start a GOP (the next frames would not decode).
    if (frame.keyframe ? accessUnitOf(frame.data).length === 0 : this.#waitingForKeyframe) return;
    this.#waitingForKeyframe = false;
    const entry: GopFrame = {
      timestamp: this.#clock.timestampOf(frame.pts),
      data: frame.data,
      packets: null,
    };
    this.#cache(entry, frame.keyframe);
    if (this.#viewers.size > 0) this.#sendToAll(this.#packetsOf(entry));
  }

  /** A new viewer: the current GOP at once (its timestamps pressed together just before the live edge), then live. */
  add(viewer: RtpViewer): void {
    this.#viewers.add(viewer);
    // Packetized in order: frames that nobody watched get their sequence numbers now, after those sent.
    const gop = (this.#gop ?? []).filter((entry) => this.#packetsOf(entry).length > 0);
    if (gop.length === 0) return;
    const liveTimestamp = gop.at(-1)!.timestamp;
    gop.forEach((entry, index) => {
      const timestamp = liveTimestamp - (gop.length - 1 - index);
      for (const packet of entry.packets!) {
        const retimed = index === gop.length - 1 ? packet : withTimestamp(packet, timestamp);
        viewer.send(forViewer(retimed, viewer.payloadType));
      }
    });
  }

  remove(viewer: RtpViewer): void {
    this.#viewers.delete(viewer);
  }

  /** The frame's RTP packets, made (and counted) the first time they are asked for. */
  #packetsOf(entry: GopFrame): Buffer[] {
    if (entry.packets) return entry.packets;
    const units = accessUnitOf(entry.data!);
    entry.packets = units.length > 0 ? this.#packetizer.packetize(units, entry.timestamp) : [];
    entry.data = null;
    if (entry.packets.length > 0) this.frames++;
    this.packets += entry.packets.length;
    return entry.packets;
  }

  #cache(entry: GopFrame, keyframe: boolean): void {
    if (keyframe) {
      this.#gop = [];
      this.#gopBytes = 0;
    }
    if (!this.#gop) return;
    // Counted in TS bytes, a little more than the RTP packets they make.
    this.#gopBytes += entry.data!.length;
    if (this.#gopBytes > this.#maxGopBytes) {
      this.#gop = null;
      return;
    }
    this.#gop.push(entry);
  }

  #sendToAll(packets: Buffer[]): void {
    if (packets.length === 0) return;
    const copies = new Map<number, Buffer[]>([[FANOUT_PAYLOAD_TYPE, packets]]);
    for (const viewer of this.#viewers) {
      let own = copies.get(viewer.payloadType);
      if (!own) {
        own = packets.map((packet) => withPayloadType(packet, viewer.payloadType));
        copies.set(viewer.payloadType, own);
      }
      for (const packet of own) viewer.send(packet);
    }
  }
}

function forViewer(packet: Buffer, payloadType: number): Buffer {
  return payloadType === FANOUT_PAYLOAD_TYPE ? packet : withPayloadType(packet, payloadType);
}
