/**
 * A WHEP viewer without a browser, for benches: node-datachannel (libdatachannel) with one
 * recvonly H.264 video track, the offer sent once ICE gathering is complete (no trickle, as the
 * server answers), then every RTP packet counted as it arrives — no depacketizing, no decoding.
 * libdatachannel's RtcpReceivingSession sends the receiver reports (and answers the server's
 * sender reports), so the supervisor sees a viewer as a browser would show itself in RTCP.
 *
 * Per viewer: connect time (POST → connection `connected`, and → first RTP packet), RTP packets
 * and bytes, frames (RTP packets with the marker bit: the last packet of an access unit), lost
 * packets (gaps in the sequence numbers), and the longest interval between frames.
 */
import { PeerConnection, RtcpReceivingSession, type Track, Video } from 'node-datachannel';

/** Constrained baseline, packetization mode 1: what every browser offers (src/webrtc/offer.ts prefers it). */
export const H264_FMTP = 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1';
const PAYLOAD_TYPE = 96;

export interface WhepViewerOptions {
  baseUrl: string;
  /** Name for libdatachannel's logs. */
  name: string;
  /** Connection must be up (and the first packet in) within this; default 15 s. */
  connectTimeoutMs?: number;
}

/** Counters of one viewer; `snapshot()` copies them so a bench can diff two moments. */
export interface WhepViewerCounters {
  packets: number;
  /** RTP packet bytes (header + payload, after SRTP decryption). */
  bytes: number;
  /** Packets with the marker bit. */
  frames: number;
  /** Missing sequence numbers (a later packet arrived with a gap before it). */
  lost: number;
  /** Packets older than the newest seen (duplicates or reordered). */
  late: number;
  /** RTCP messages that reached the track (sender reports the media handler passed on). */
  rtcp: number;
  /** Longest interval between two frames (ms), counted from the first frame. */
  longestFrameGapMs: number;
  /**
   * RTP timestamp step (ms) across that longest interval: ≈ the interval when the stream itself
   * had no frames then (capture/encode paused), ≈ one frame (67 ms at 15 fps) when frames were made
   * on time and arrived late (delivery: the supervisor's loop, the network, this process).
   */
  longestFrameGapRtpMs: number | null;
  /** Time since the last frame (ms) when the snapshot was taken: a gap still open, not in the longest. */
  openFrameGapMs: number;
  /** Wall clock (performance.now()) of the last frame; null before the first. */
  lastFrameAtMs: number | null;
  /** RTP timestamps of the first and last frame (to tell media time from wall time). */
  firstFrameRtpTimestamp: number | null;
  lastFrameRtpTimestamp: number | null;
  /** 90 kHz ticks between the first and last frame, wraps of the 32-bit timestamp unrolled. */
  rtpTicks: number;
}

export interface WhepViewer {
  /** Location of the session (for DELETE). */
  location: string;
  /** POST sent → answer received, ms. */
  answerMs: number;
  /** POST sent → PeerConnection `connected`, ms (null while not connected). */
  connectedMs: number | null;
  /** POST sent → first RTP packet, ms. */
  firstPacketMs: number | null;
  /** Every connection state seen, in order. */
  states: string[];
  counters: WhepViewerCounters;
  /** The last 64 frames: [arrival (performance.now() ms), RTP timestamp], oldest first. */
  recentFrames(): Array<[number, number]>;
  /** A copy of the counters now. */
  snapshot(): WhepViewerCounters;
  /** Forgets the longest gap so far (at the start of a measuring window; a gap open then counts whole once closed). */
  resetLongestGap(): void;
  rttMs(): number | null;
  /** DELETE the session (its HTTP status) and close the PeerConnection. */
  close(): Promise<number | null>;
}

export class WhepClientError extends Error {
  override name = 'WhepClientError';
}

function newCounters(): WhepViewerCounters {
  return {
    packets: 0,
    bytes: 0,
    frames: 0,
    lost: 0,
    late: 0,
    rtcp: 0,
    longestFrameGapMs: 0,
    longestFrameGapRtpMs: null,
    openFrameGapMs: 0,
    lastFrameAtMs: null,
    firstFrameRtpTimestamp: null,
    lastFrameRtpTimestamp: null,
    rtpTicks: 0,
  };
}

/** RFC 5761 §4: second byte 192–223 is RTCP (200 SR, 201 RR, …) when RTP payload types avoid 64–95. */
export function isRtcp(packet: Buffer): boolean {
  const type = packet[1] ?? 0;
  return type >= 192 && type <= 223;
}

/** Opens one viewer: resolves once the connection is up and the first RTP packet arrived. */
export async function openWhepViewer(options: WhepViewerOptions): Promise<WhepViewer> {
  const timeoutMs = options.connectTimeoutMs ?? 15_000;
  const pc = new PeerConnection(options.name, { iceServers: [] });
  const states: string[] = [];
  const counters = newCounters();
  const recent: Array<[number, number]> = [];
  let highestSequence: number | null = null;
  let gapStartMs: number | null = null;
  let t0 = 0;
  let firstPacketMs: number | null = null;
  let connectedMs: number | null = null;
  let firstPacket: () => void = () => {};
  const gotFirstPacket = new Promise<void>((resolve) => {
    firstPacket = resolve;
  });

  let track: Track;
  try {
    const video = new Video('0', 'RecvOnly');
    video.addH264Codec(PAYLOAD_TYPE, H264_FMTP);
    track = pc.addTrack(video);
    track.setMediaHandler(new RtcpReceivingSession());
  } catch (error) {
    pc.close();
    throw new WhepClientError(`cannot set up the recvonly track: ${(error as Error).message}`, {
      cause: error,
    });
  }

  pc.onStateChange((state) => {
    states.push(state);
    if (state === 'connected' && connectedMs === null) connectedMs = performance.now() - t0;
  });
  track.onMessage((message) => {
    const now = performance.now();
    if (message.length < 12 || isRtcp(message)) {
      counters.rtcp++;
      return;
    }
    counters.packets++;
    counters.bytes += message.length;
    if (firstPacketMs === null) {
      firstPacketMs = now - t0;
      firstPacket();
    }
    const sequence = message.readUInt16BE(2);
    if (highestSequence === null) highestSequence = sequence;
    else {
      const ahead = (sequence - highestSequence + 0x10000) & 0xffff;
      if (ahead === 0 || ahead >= 0x8000) counters.late++;
      else {
        counters.lost += ahead - 1;
        highestSequence = sequence;
      }
    }
    if ((message[1]! & 0x80) === 0) return;
    // Marker bit: the last packet of a frame.
    const timestamp = message.readUInt32BE(4);
    counters.frames++;
    let ticks: number | null = null;
    if (counters.lastFrameRtpTimestamp === null) counters.firstFrameRtpTimestamp = timestamp;
    else {
      ticks = (timestamp - counters.lastFrameRtpTimestamp + 2 ** 32) % 2 ** 32;
      counters.rtpTicks += ticks;
    }
    counters.lastFrameRtpTimestamp = timestamp;
    recent.push([now, timestamp]);
    if (recent.length > 64) recent.shift();
    if (gapStartMs !== null && now - gapStartMs > counters.longestFrameGapMs) {
      counters.longestFrameGapMs = now - gapStartMs;
      counters.longestFrameGapRtpMs = ticks === null ? null : ticks / 90;
    }
    gapStartMs = now;
    counters.lastFrameAtMs = now;
  });

  const fail = (why: string): never => {
    try {
      pc.close();
    } catch {
      // already closed
    }
    throw new WhepClientError(`${options.name}: ${why}`);
  };

  // The whole offer at once: set it, wait for gathering to complete (host candidates only).
  const gathered = new Promise<void>((resolve) => {
    pc.onGatheringStateChange((state) => {
      if (state === 'complete') resolve();
    });
  });
  pc.setLocalDescription();
  if (pc.gatheringState() !== 'complete') {
    await Promise.race([gathered, new Promise((r) => setTimeout(r, 5_000))]);
  }
  const offer = pc.localDescription()?.sdp;
  if (!offer) fail('no local description after gathering');

  t0 = performance.now();
  let response: Response;
  try {
    response = await fetch(`${options.baseUrl}/whep`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: offer,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return fail(`POST /whep failed: ${(error as Error).message}`);
  }
  const answer = await response.text();
  const answerMs = performance.now() - t0;
  if (response.status !== 201) fail(`POST /whep answered ${response.status}: ${answer.slice(0, 300)}`);
  const locationHeader = response.headers.get('location');
  if (!locationHeader) fail('POST /whep answered 201 without a Location');
  const location = new URL(locationHeader as string, options.baseUrl).href;
  try {
    pc.setRemoteDescription(answer, 'answer');
  } catch (error) {
    await fetch(location, { method: 'DELETE' }).catch(() => null);
    fail(
      `the answer was refused: ${(error as Error).message} (states: ${states.join(' → ') || 'none'}, gathering ${pc.gatheringState()}, signaling ${pc.signalingState()}, ${Math.round(answerMs)} ms after the POST)`,
    );
  }

  const timedOut = await Promise.race([
    gotFirstPacket.then(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(true), timeoutMs)),
  ]);
  if (timedOut) {
    await fetch(location, { method: 'DELETE' }).catch(() => null);
    fail(`no RTP packet within ${timeoutMs} ms (states: ${states.join(' → ') || 'none'})`);
  }

  let closed = false;
  return {
    location,
    answerMs,
    get connectedMs() {
      return connectedMs;
    },
    get firstPacketMs() {
      return firstPacketMs;
    },
    states,
    counters,
    recentFrames: () => [...recent],
    snapshot() {
      const copy = { ...counters };
      copy.openFrameGapMs = gapStartMs === null ? 0 : performance.now() - gapStartMs;
      return copy;
    },
    resetLongestGap() {
      counters.longestFrameGapMs = 0;
      counters.longestFrameGapRtpMs = null;
    },
    rttMs() {
      try {
        const rtt = pc.rtt();
        return rtt >= 0 ? rtt : null;
      } catch {
        return null;
      }
    },
    async close() {
      if (closed) return null;
      closed = true;
      const status = await fetch(location, { method: 'DELETE', signal: AbortSignal.timeout(10_000) })
        .then((r) => r.status)
        .catch(() => null);
      try {
        track.close();
        pc.close();
      } catch {
        // already closed
      }
      return status;
    },
  };
}
