import type { CollectorDefinition } from '../scrape.ts';

export interface PictureSnapshot {
  unchangedSeconds: number;
  /** mean luma, 0–1 */
  brightness: number;
}

export interface PictureCollectorDeps {
  picture?: { snapshot(): PictureSnapshot | null };
}

/**
 * Frozen/black picture detection from the optional picture tap. Without a tap, or before it
 * has seen a frame, both gauges are NaN ("unknown"): a comparison such as `< 0.05` is then
 * false, so neither a black-screen nor a frozen-screen alert can fire on missing data.
 */
export function pictureCollector(deps: PictureCollectorDeps): CollectorDefinition {
  return {
    name: 'picture',
    setup(metrics) {
      const unchanged = metrics.gauge(
        'desktop_streamer_picture_unchanged_seconds',
        'Seconds since the captured picture last changed (NaN without a picture tap).',
      );
      const brightness = metrics.gauge(
        'desktop_streamer_picture_brightness_ratio',
        'Mean luma of the captured picture, 0-1 (NaN without a picture tap).',
      );
      return () => {
        const snapshot = deps.picture?.snapshot() ?? null;
        unchanged.set(snapshot ? snapshot.unchangedSeconds : Number.NaN);
        brightness.set(snapshot ? snapshot.brightness : Number.NaN);
      };
    },
  };
}
