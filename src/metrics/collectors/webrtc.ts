import type { WebRtcSnapshot } from '../../webrtc/webrtc-service.ts';
import { type CollectorDefinition, setCounter, setCounters } from '../scrape.ts';

export interface WebRtcCollectorDeps {
  /** Absent when webrtc.enabled is false: the gauges read 0. */
  webrtc?: { snapshot(): WebRtcSnapshot };
}

/** WebRTC (WHEP) viewers: how many, how their sessions end, what they cost and how far away they are. */
export function webRtcCollector(deps: WebRtcCollectorDeps): CollectorDefinition {
  return {
    name: 'webrtc',
    setup(metrics) {
      const viewers = metrics.gauge(
        'desktop_streamer_webrtc_viewers',
        'WebRTC (WHEP) viewers whose connection is up.',
      );
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
        'Frames packetized into RTP for WebRTC viewers (once, whatever the number of viewers).',
      );
      const bytes = metrics.counter(
        'desktop_streamer_webrtc_sent_bytes_total',
        'Bytes sent to WebRTC viewers, all sessions.',
      );
      const rtt = metrics.gauge(
        'desktop_streamer_webrtc_rtt_seconds',
        'Round-trip time to WebRTC viewers (stat: mean or max over connected viewers; NaN without one).',
        ['stat'],
      );
      return () => {
        const snapshot = deps.webrtc?.snapshot();
        viewers.set(snapshot?.viewers ?? 0);
        sessions.set(snapshot?.sessions ?? 0);
        setCounters(
          events,
          Object.entries(snapshot?.events ?? {}).map(([event, count]) => [{ event }, count] as const),
        );
        setCounter(frames, snapshot?.framesSent ?? 0);
        setCounter(bytes, snapshot?.bytesSent ?? 0);
        rtt.set({ stat: 'mean' }, snapshot?.rttSeconds?.mean ?? Number.NaN);
        rtt.set({ stat: 'max' }, snapshot?.rttSeconds?.max ?? Number.NaN);
      };
    },
  };
}
