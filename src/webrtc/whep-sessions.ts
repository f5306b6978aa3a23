/**
 * WHEP sessions (RFC 9725): each viewer's offer gets a PeerConnection with one send-only H.264
 * track, answered once ICE gathering is complete (host candidates on the one UDP port; no trickle).
 * When the track opens the viewer joins the shared fan-out; a session that never connects, or whose
 * connection fails, is closed by itself. The WebRTC stack is libdatachannel (node-datachannel).
 */
import { randomUUID } from 'node:crypto';
import type { IceUdpMuxListener, PeerConnection, RtcConfig, Track } from 'node-datachannel';
import type { Logger } from '../logger.ts';
import { RTP_HEADER_SIZE } from './h264-rtp.ts';
import { OfferError, parseVideoOffer } from './offer.ts';
import { reportBlocksOf, roundTripSecondsOf, senderReport } from './rtcp.ts';
import { RTP_VIDEO_CLOCK_HZ } from './rtp-clock.ts';
import type { RtpViewer, VideoFanout } from './video-fanout.ts';

export interface WhepSessionsOptions {
  udpPort: number;
  /** Address to bind the UDP port to; null = every interface. */
  bindAddress: string | null;
  iceServers: string[];
  maxViewers: number;
  /** The SSRC the fan-out sends with (announced in every answer). */
  ssrc: number;
  fanout: Pick<VideoFanout, 'add' | 'remove' | 'rtpTimestampAt'>;
  logger: Logger;
  /** Counted in desktop_streamer_webrtc_sessions_total; an ending session passes its last stats. */
  onSession?: (event: WhepSessionEvent, ended?: WhepSessionStats) => void;
  /** How long a session may take to connect; default 15 s. */
  connectTimeoutMs?: number;
  /** How long ICE gathering may take before the answer goes out with what it has; default 2 s. */
  gatherTimeoutMs?: number;
  /** Wall clock for RTCP (ms since the Unix epoch); default Date.now. */
  now?: () => number;
}

export const WHEP_SESSION_EVENTS = ['opened', 'connected', 'rejected', 'failed', 'closed'] as const;
export type WhepSessionEvent = (typeof WHEP_SESSION_EVENTS)[number];

export class WhepCapacityError extends Error {
  override name = 'WhepCapacityError';
}

/** The UDP port cannot be had (another program holds it): nothing a viewer can fix. */
export class WhepPortError extends Error {
  override name = 'WhepPortError';
}

/** The offer was well-formed for us but the WebRTC stack could not answer it. */
export class WhepNegotiationError extends Error {
  override name = 'WhepNegotiationError';
}

export interface WhepSessionStats {
  connected: boolean;
  bytesSent: number;
  packetsSent: number;
  /** From the viewer's latest RTCP receiver report; null before its first. */
  report: ViewerReport | null;
}

/** What a viewer's receiver report says about our video. */
export interface ViewerReport {
  /** Fraction lost since its previous report, 0–1. */
  fractionLost: number;
  /** Packets lost since the session started (never below 0). */
  packetsLost: number;
  jitterSeconds: number;
  /** Null until the viewer echoes one of our sender reports. */
  rttSeconds: number | null;
}

interface Session {
  id: string;
  pc: PeerConnection;
  track: Track;
  viewer: RtpViewer;
  connected: boolean;
  timer: NodeJS.Timeout | null;
  bytesSent: number;
  packetsSent: number;
  report: ViewerReport | null;
}

type Rtc = typeof import('node-datachannel').default;

const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
const DEFAULT_GATHER_TIMEOUT_MS = 2_000;
/** A connection that went away (consent freshness failed) gets this long to come back. */
const DISCONNECTED_GRACE_MS = 5_000;
const CNAME = 'desktop-streamer';
/** Sender reports to each connected viewer this often (RFC 3550 suggests ≥ 5 s; 1 s keeps RTT fresh at 28 bytes). */
const SENDER_REPORT_INTERVAL_MS = 1_000;

export class WhepSessions {
  readonly #options: WhepSessionsOptions;
  readonly #sessions = new Map<string, Session>();
  readonly #log: Logger;
  readonly #now: () => number;
  #reportTimer: NodeJS.Timeout | null = null;
  #rtc: Rtc | null = null;
  #readying: Promise<Rtc> | null = null;
  #udpPort: IceUdpMuxListener | null = null;

  constructor(options: WhepSessionsOptions) {
    this.#options = options;
    this.#log = options.logger.child({ module: 'whep' });
    this.#now = options.now ?? Date.now;
  }

  /**
   * The WebRTC stack is loaded at the first offer, not at start: it is ≈ 9 MiB of RSS that a kiosk
   * nobody watches over WebRTC never needs. From then on the UDP port is held for the life of the
   * service, not per session: libdatachannel's socket is not close-on-exec, so a pipeline started
   * while a session held it inherited it, and once the last session ended the port stayed bound
   * by gst-launch alone and no new session could bind it. Held here, every session shares it
   * (ICE UDP mux) and the inherited copies are harmless.
   */
  #ready(): Promise<Rtc> {
    // One load and one bind for offers that arrive together; a failed bind is tried again next time.
    this.#readying ??= this.#load().catch((error: unknown) => {
      this.#readying = null;
      throw error;
    });
    return this.#readying;
  }

  async #load(): Promise<Rtc> {
    this.#rtc ??= (await import('node-datachannel')).default;
    if (!this.#udpPort) {
      const { udpPort, bindAddress } = this.#options;
      try {
        this.#udpPort = new this.#rtc.IceUdpMuxListener(udpPort, bindAddress ?? undefined);
      } catch {
        const error = new WhepPortError(
          `the WebRTC UDP port ${bindAddress ?? '*'}:${udpPort} cannot be bound (another program holds it?); free it or set webrtc.udp_port`,
        );
        this.#log.error(
          { err: error },
          'WebRTC viewing unavailable until the UDP port is free (HLS unaffected)',
        );
        throw error;
      }
    }
    return this.#rtc;
  }

  /** Answer a viewer's offer. Throws OfferError (bad offer), WhepCapacityError (full), WhepNegotiationError. */
  async open(offerSdp: string): Promise<{ id: string; answer: string }> {
    let offer: ReturnType<typeof parseVideoOffer>;
    let rtc: Rtc;
    try {
      offer = parseVideoOffer(offerSdp);
      rtc = await this.#ready();
      if (this.#sessions.size >= this.#options.maxViewers) {
        throw new WhepCapacityError(
          `all ${this.#options.maxViewers} WebRTC viewer places are taken (webrtc.max_viewers); use the HLS stream or try later`,
        );
      }
    } catch (error) {
      this.#options.onSession?.('rejected');
      throw error;
    }
    const id = randomUUID();
    const pc = new rtc.PeerConnection(id, this.#rtcConfig());
    let track: Track;
    try {
      const video = new rtc.Video(offer.mid, 'SendOnly');
      video.addH264Codec(offer.payloadType, offer.fmtp);
      video.addSSRC(this.#options.ssrc, CNAME, CNAME, 'video');
      track = pc.addTrack(video);
      track.setMediaHandler(new rtc.RtcpNackResponder());
      pc.setRemoteDescription(offerSdp, 'offer');
    } catch (error) {
      pc.close();
      this.#options.onSession?.('rejected');
      throw new WhepNegotiationError(`the offer could not be answered: ${(error as Error).message}`);
    }
    const viewer: RtpViewer = {
      payloadType: offer.payloadType,
      send: (packet) => {
        if (!sendOn(track, packet)) return;
        session.bytesSent += packet.length;
        session.packetsSent++;
      },
    };
    const session: Session = {
      id,
      pc,
      track,
      viewer,
      connected: false,
      timer: null,
      bytesSent: 0,
      packetsSent: 0,
      report: null,
    };
    this.#sessions.set(id, session);
    this.#reportTimer ??= setInterval(() => this.#sendSenderReports(), SENDER_REPORT_INTERVAL_MS).unref();
    this.#watch(session);
    this.#options.onSession?.('opened');
    const answer = await this.#answerOf(pc);
    if (!answer) {
      this.close(id, 'failed');
      throw new WhepNegotiationError('no answer could be made for the offer');
    }
    this.#log.info({ session: id, payloadType: offer.payloadType }, 'WebRTC viewer offered');
    return { id, answer };
  }

  /** End a session (DELETE, shutdown, failure). False when there is no such session. */
  close(id: string, why: 'closed' | 'failed' = 'closed'): boolean {
    const session = this.#sessions.get(id);
    if (!session) return false;
    const last = this.#statsOf(session);
    this.#sessions.delete(id);
    if (session.timer) clearTimeout(session.timer);
    if (this.#sessions.size === 0 && this.#reportTimer) {
      clearInterval(this.#reportTimer);
      this.#reportTimer = null;
    }
    this.#options.fanout.remove(session.viewer);
    // Never from inside one of this connection's own callbacks.
    setImmediate(() => {
      try {
        session.track.close();
        session.pc.close();
      } catch {
        // Already closed.
      }
    });
    this.#options.onSession?.(why, last);
    this.#log.info({ session: id, why }, 'WebRTC viewer gone');
    return true;
  }

  /** Every session closed and the UDP port released (shutdown). */
  stop(): void {
    for (const id of [...this.#sessions.keys()]) this.close(id);
    this.#udpPort?.stop();
    this.#udpPort = null;
    this.#readying = null;
  }

  stats(): WhepSessionStats[] {
    return [...this.#sessions.values()].map((session) => this.#statsOf(session));
  }

  #statsOf(session: Session): WhepSessionStats {
    return {
      connected: session.connected,
      bytesSent: session.bytesSent,
      packetsSent: session.packetsSent,
      report: session.report,
    };
  }

  /** RTCP from a viewer (all a send-only track receives): keep its latest report on our SSRC. */
  #onRtcp(session: Session, message: Buffer): void {
    const block = reportBlocksOf(message)
      .filter((b) => b.ssrc === this.#options.ssrc >>> 0)
      .at(-1);
    if (!block) return;
    session.report = {
      fractionLost: block.fractionLost,
      packetsLost: Math.max(0, block.cumulativeLost),
      jitterSeconds: block.jitter / RTP_VIDEO_CLOCK_HZ,
      rttSeconds: roundTripSecondsOf(block, this.#now()) ?? session.report?.rttSeconds ?? null,
    };
  }

  #sendSenderReports(): void {
    const wallMs = this.#now();
    const rtpTimestamp = this.#options.fanout.rtpTimestampAt(wallMs);
    for (const session of this.#sessions.values()) {
      if (!session.connected) continue;
      const report = senderReport({
        ssrc: this.#options.ssrc,
        wallMs,
        rtpTimestamp,
        packets: session.packetsSent,
        // Payload octets: our RTP headers have no CSRCs and no extensions.
        octets: session.bytesSent - RTP_HEADER_SIZE * session.packetsSent,
      });
      sendOn(session.track, report);
    }
  }

  #rtcConfig(): RtcConfig {
    const { udpPort, bindAddress, iceServers } = this.#options;
    return {
      iceServers,
      enableIceUdpMux: true,
      portRangeBegin: udpPort,
      portRangeEnd: udpPort,
      ...(bindAddress ? { bindAddress } : {}),
    };
  }

  #watch(session: Session): void {
    const { id, pc, track } = session;
    session.timer = setTimeout(() => {
      if (!session.connected) this.close(id, 'failed');
    }, this.#options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    track.onOpen(() => {
      if (!this.#sessions.has(id)) return;
      this.#options.fanout.add(session.viewer);
    });
    track.onMessage((message) => {
      if (this.#sessions.has(id)) this.#onRtcp(session, message);
    });
    pc.onStateChange((state) => {
      if (!this.#sessions.has(id)) return;
      if (state === 'connected') {
        if (session.timer) clearTimeout(session.timer);
        session.timer = null;
        if (!session.connected) {
          session.connected = true;
          this.#options.onSession?.('connected');
          this.#log.info({ session: id }, 'WebRTC viewer connected');
        }
      } else if (state === 'disconnected') {
        session.timer ??= setTimeout(() => this.close(id, 'failed'), DISCONNECTED_GRACE_MS);
      } else if (state === 'failed') {
        this.close(id, 'failed');
      } else if (state === 'closed') {
        this.close(id);
      }
    });
  }

  #answerOf(pc: PeerConnection): Promise<string | null> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        resolve(safe(() => pc.localDescription()?.sdp ?? null, null));
      };
      const timer = setTimeout(finish, this.#options.gatherTimeoutMs ?? DEFAULT_GATHER_TIMEOUT_MS);
      pc.onGatheringStateChange((state) => {
        if (state === 'complete') finish();
      });
      if (pc.gatheringState() === 'complete') finish();
    });
  }
}

/** False when the track is not open or is closing under us (its state callbacks end the session). */
function sendOn(track: Track, packet: Buffer): boolean {
  try {
    return track.isOpen() && track.sendMessageBinary(packet);
  } catch {
    return false;
  }
}

function safe<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

export { OfferError };
