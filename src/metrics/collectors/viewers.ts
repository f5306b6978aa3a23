import type { CollectorDefinition } from '../scrape.ts';

export interface ViewersCollectorDeps {
  /** Distinct clients that fetched the HLS playlist recently (RecentClients). */
  hlsViewers?: () => number;
  /** Connected WebRTC viewers; absent when webrtc.enabled is false. */
  webrtcViewers?: () => number;
  /** Whether a viewer needs each frame as it is made (FrameDemand.everyFrame). */
  everyFrame?: () => boolean;
}

/** Viewers now, by protocol: one series to sum for "who is watching"; and whether they need each frame at once. */
export function viewersCollector(deps: ViewersCollectorDeps): CollectorDefinition {
  return {
    name: 'viewers',
    setup(metrics) {
      const viewers = metrics.gauge(
        'desktop_streamer_viewers',
        'Viewers now, by protocol: webrtc = connected WHEP sessions; hls = distinct clients (address and User-Agent) that fetched the playlist in the last 10 s.',
        ['protocol'],
      );
      const everyFrame = metrics.gauge(
        'desktop_streamer_media_read_every_frame',
        '1 while a viewer needs each frame as it is made (a Low-Latency HLS request in the last 10 s, or a WebRTC viewer): the stream is read frame by frame; 0: it is read every 333 ms, unless it is too fast for that (full motion).',
      );
      return () => {
        viewers.set({ protocol: 'hls' }, deps.hlsViewers?.() ?? 0);
        viewers.set({ protocol: 'webrtc' }, deps.webrtcViewers?.() ?? 0);
        everyFrame.set(deps.everyFrame?.() ? 1 : 0);
      };
    },
  };
}
