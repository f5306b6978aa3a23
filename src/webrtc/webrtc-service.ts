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
import { type WhepSessionEvent, WhepSessions } from './whep-sessions.ts';

export interface WebRtcSnapshot {
  /** Sessions whose connection is up. */
  viewers: number;
  /** Every session, connecting ones too. */
  sessions: number;
  events: Record<WhepSessionEvent, number>;
  framesSent: number;
  /** Bytes sent by every session, ended ones included. */
  bytesSent: number;
  rttSeconds: { mean: number; max: number } | null;
}

export class WebRtcService {
  readonly fanout: VideoFanout;
  readonly sessions: WhepSessions;
  readonly #events: Record<WhepSessionEvent, number> = {
    opened: 0,
    connected: 0,
    rejected: 0,
    failed: 0,
    closed: 0,
  };
  #bytesOfEnded = 0;

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
        if (stats) this.#bytesOfEnded += stats.bytesSent;
      },
    });
  }

  /** What the supervisor feeds (SupervisorDeps.video). */
  get video(): { newRun(): void; pushFrame(frame: TsFrame): void } {
    return this.fanout;
  }

  snapshot(): WebRtcSnapshot {
    const stats = this.sessions.stats();
    const rtts = stats.flatMap((s) => (s.rttSeconds === null ? [] : [s.rttSeconds]));
    return {
      viewers: stats.filter((s) => s.connected).length,
      sessions: stats.length,
      events: { ...this.#events },
      framesSent: this.fanout.frames,
      bytesSent: this.#bytesOfEnded + stats.reduce((sum, s) => sum + s.bytesSent, 0),
      rttSeconds:
        rtts.length === 0
          ? null
          : { mean: rtts.reduce((a, b) => a + b, 0) / rtts.length, max: Math.max(...rtts) },
    };
  }

  stop(): void {
    this.sessions.closeAll();
  }
}
