import type { CollectorDefinition } from '../scrape.ts';

export interface ViewersCollectorDeps {
  /** Distinct clients that fetched the HLS playlist recently (RecentClients). */
  hlsViewers?: () => number;
  /** Connected WebRTC viewers; absent when webrtc.enabled is false. */
  webrtcViewers?: () => number;
}

/** Viewers now, by protocol: one series to sum for "who is watching". */
export function viewersCollector(deps: ViewersCollectorDeps): CollectorDefinition {
  return {
    name: 'viewers',
    setup(metrics) {
      const viewers = metrics.gauge(
        'desktop_streamer_viewers',
        'Viewers now, by protocol: webrtc = connected WHEP sessions; hls = distinct clients (address and User-Agent) that fetched the playlist in the last 10 s.',
        ['protocol'],
      );
      return () => {
        viewers.set({ protocol: 'hls' }, deps.hlsViewers?.() ?? 0);
        viewers.set({ protocol: 'webrtc' }, deps.webrtcViewers?.() ?? 0);
      };
    },
  };
}
