import type { WebRtcSnapshot } from '../../webrtc/webrtc-service.ts';
import { WHEP_SESSION_EVENTS } from '../../webrtc/whep-sessions.ts';
import { type CollectorDefinition, setCounter, setCounters } from '../scrape.ts';

export interface WebRtcCollectorDeps {
  /** Absent when webrtc.enabled is false: the gauges read 0. */
  webrtc?: { snapshot(): WebRtcSnapshot };
}

/** WebRTC (WHEP) sessions: how they end, what they cost, and what the viewers report (RTT, loss). Viewer counts: viewers.ts. */
export function webRtcCollector(deps: WebRtcCollectorDeps): CollectorDefinition {
  return {
    name: 'webrtc',
    setup(metrics) {
      const sessions = metrics.gauge(
        'desktop_streamer_webrtc_sessions',
        'WebRTC (WHEP) sessions, connecting ones included.',
      );
      const events = metrics.counter(
        'desktop_streamer_webrtc_sessions_total',
        'WHEP session events: opened (offer answered), connected, rejected (bad offer or full), failed (never connected or connection lost), closed (DELETE or shutdown).',
        ['event'],
      );
      const frames = metrics.counter(
        'desktop_streamer_webrtc_frames_sent_total',
        'Frames packetized into RTP for WebRTC viewers (once, whatever the number of viewers; none while nobody watches).',
      );
      const packets = metrics.counter(
        'desktop_streamer_webrtc_sent_packets_total',
        'RTP packets sent to WebRTC viewers, all sessions (each viewer counts its copy).',
      );
      const bytes = metrics.counter(
        'desktop_streamer_webrtc_sent_bytes_total',
        'Bytes of RTP sent to WebRTC viewers, all sessions.',
      );
      const lost = metrics.counter(
        'desktop_streamer_webrtc_packets_lost_total',
        'RTP packets the WebRTC viewers reported lost in their RTCP receiver reports, all sessions.',
      );
      const rtt = metrics.gauge(
        'desktop_streamer_webrtc_rtt_seconds',
        'Round-trip time to WebRTC viewers from RTCP (stat: mean or max over connected viewers; NaN without a report).',
        ['stat'],
      );
      const loss = metrics.gauge(
        'desktop_streamer_webrtc_loss_ratio',
        "Fraction of packets lost in each connected viewer's latest RTCP receiver report, 0-1 (stat: mean or max; NaN without a report).",
        ['stat'],
      );
      return () => {
        const snapshot = deps.webrtc?.snapshot();
        sessions.set(snapshot?.sessions ?? 0);
        setCounters(
          events,
          WHEP_SESSION_EVENTS.map((event) => [{ event }, snapshot?.events[event] ?? 0] as const),
        );
        setCounter(frames, snapshot?.framesSent ?? 0);
        setCounter(packets, snapshot?.packetsSent ?? 0);
        setCounter(bytes, snapshot?.bytesSent ?? 0);
        setCounter(lost, snapshot?.packetsLost ?? 0);
        for (const stat of ['mean', 'max'] as const) {
          rtt.set({ stat }, snapshot?.rttSeconds?.[stat] ?? Number.NaN);
          loss.set({ stat }, snapshot?.lossRatio?.[stat] ?? Number.NaN);
        }
      };
    },
  };
}
