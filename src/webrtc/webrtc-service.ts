/**
 * WebRTC viewing, put together: the fan-out the supervisor feeds with every frame, the WHEP
 * sessions that join it, and the counts the metrics read. RTP identity (SSRC, first sequence
 * number and timestamp) is random per process, as RFC 3550 asks.
 */
import { randomInt } from 'node:crypto';
import type { WebRtcConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { TsFrame } from '../media/ts-frame-splitter.ts';
import { VideoFanout } from './video-fanout.ts';
import { WHEP_SESSION_EVENTS, type WhepSessionEvent, WhepSessions } from './whep-sessions.ts';

export interface WebRtcSnapshot {
  /** Sessions whose connection is up. */
  viewers: number;
  /** Every session, connecting ones too. */
  sessions: number;
  events: Record<WhepSessionEvent, number>;
  framesSent: number;
  /** Bytes and packets sent by every session, ended ones included. */
  bytesSent: number;
  packetsSent: number;
  /** Packets the viewers reported lost (RTCP receiver reports), ended sessions included. */
  packetsLost: number;
  /** Over connected viewers with a report; null without one. */
  rttSeconds: Spread | null;
  lossRatio: Spread | null;
}

export interface Spread {
  mean: number;
  max: number;
}

export class WebRtcService {
  readonly fanout: VideoFanout;
  readonly sessions: WhepSessions;
  readonly #events = Object.fromEntries(WHEP_SESSION_EVENTS.map((event) => [event, 0])) as Record<
    WhepSessionEvent,
    number
  >;
  readonly #ended = { bytesSent: 0, packetsSent: 0, packetsLost: 0 };

  constructor(config: WebRtcConfig, options: { bindAddress: string; logger: Logger; now?: () => number }) {
    const ssrc = randomInt(1, 2 ** 32 - 1);
    this.fanout = new VideoFanout({
      ssrc,
      initialSequence: randomInt(0, 2 ** 16),
      initialTimestamp: randomInt(0, 2 ** 32 - 1),
      now: options.now ?? Date.now,
    });
    const wildcard = options.bindAddress === '0.0.0.0' || options.bindAddress === '::';
    this.sessions = new WhepSessions({
      udpPort: config.udp_port,
      bindAddress: wildcard ? null : options.bindAddress,
      iceServers: config.ice_servers,
      maxViewers: config.max_viewers,
      ssrc,
      fanout: this.fanout,
      logger: options.logger,
      onSession: (event, stats) => {
        this.#events[event]++;
        if (!stats) return;
        this.#ended.bytesSent += stats.bytesSent;
        this.#ended.packetsSent += stats.packetsSent;
        this.#ended.packetsLost += stats.report?.packetsLost ?? 0;
      },
    });
  }

  /** What the supervisor feeds (SupervisorDeps.video). */
  get video(): { newRun(): void; pushFrame(frame: TsFrame): void } {
    return this.fanout;
  }

  snapshot(): WebRtcSnapshot {
    const stats = this.sessions.stats();
    const connected = stats.filter((s) => s.connected);
    const reports = connected.flatMap((s) => (s.report ? [s.report] : []));
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    return {
      viewers: connected.length,
      sessions: stats.length,
      events: { ...this.#events },
      framesSent: this.fanout.frames,
      bytesSent: this.#ended.bytesSent + sum(stats.map((s) => s.bytesSent)),
      packetsSent: this.#ended.packetsSent + sum(stats.map((s) => s.packetsSent)),
      packetsLost: this.#ended.packetsLost + sum(stats.map((s) => s.report?.packetsLost ?? 0)),
      rttSeconds: spreadOf(reports.flatMap((r) => (r.rttSeconds === null ? [] : [r.rttSeconds]))),
      lossRatio: spreadOf(reports.map((r) => r.fractionLost)),
    };
  }

  stop(): void {
    this.sessions.stop();
  }
}

function spreadOf(values: number[]): Spread | null {
  if (values.length === 0) return null;
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, max: Math.max(...values) };
}
