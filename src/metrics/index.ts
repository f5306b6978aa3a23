import type { Middleware } from 'koa';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { SupervisorSnapshot } from '../pipeline/types.ts';
import { amdGpuCollector } from './collectors/amdgpu.ts';
import type { HlsCollectorDeps } from './collectors/hls.ts';
import { hlsCollector } from './collectors/hls.ts';
import { type HostSource, hostCollector, systemHostSource } from './collectors/host.ts';
import { identityCollector } from './collectors/identity.ts';
import { type PictureSnapshot, pictureCollector } from './collectors/picture.ts';
import { pipelineCollector } from './collectors/pipeline.ts';
import { processCollector } from './collectors/process.ts';
import { viewersCollector } from './collectors/viewers.ts';
import { type WebRtcCollectorDeps, webRtcCollector } from './collectors/webrtc.ts';
import { createHttpMetricsMiddleware } from './http.ts';
import { ScrapeCoordinator } from './scrape.ts';

export interface MetricsDeps {
  config: Config;
  logger: Logger;
  supervisor: { snapshot(): SupervisorSnapshot };
  hls: HlsCollectorDeps['hls'];
  /** Optional picture tap (frozen/black screen detection, may land later). */
  picture?: { snapshot(): PictureSnapshot | null };
  /** WebRTC viewers (absent when webrtc.enabled is false). */
  webrtc?: WebRtcCollectorDeps['webrtc'];
  /** Distinct clients that fetched the HLS playlist recently. */
  hlsViewers?: () => number;
  /** Whether a viewer needs each frame as it is made (src/media/frame-demand.ts). */
  everyFrame?: () => boolean;
  version: string;
  gstreamerVersion: string;
  kioskName: string;
  /** epoch ms; default Date.now */
  now?: () => number;
  /** default '/proc' */
  procRoot?: string;
  /** Host readings; default the real host (/proc + statfs). Tests inject a fake. */
  hostSource?: HostSource;
  /** prom-client's process_* and nodejs_* series; default true. */
  defaultMetrics?: boolean;
}

export interface Metrics {
  registry: Registry;
  /** Counts requests and durations by matched route template. Mount before the routers. */
  httpMiddleware: Middleware;
  /** The exposition text a scrape gets (runs every collector once). */
  render(): Promise<string>;
  /** Content-Type of render()'s text. */
  readonly contentType: string;
}

export type { FilesystemReading, HostSource, NetworkReading } from './collectors/host.ts';
export type { PictureSnapshot } from './collectors/picture.ts';

const LINT_FAILING_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

const EVENT_LOOP_SAMPLE_MS = 1000;

/** Builds the registry with the collectors of docs/metrics.md. Values are collected at scrape time. */
export function createMetrics(deps: MetricsDeps): Metrics {
  const logger = deps.logger.child({ module: 'metrics' });
  const now = deps.now ?? Date.now;
  const registry = new Registry();
  if (deps.defaultMetrics ?? true) {
    // prom-client samples event-loop delay with a libuv timer every 10 ms by default: 100 wakeups
    // a second, about half of this process's idle CPU (bench/README.md). Once a second, a block
    // of the loop shows in the histogram with a chance of its length / 1 s, and for sure from
    // 1 s: enough to see a supervisor that holds up parts (≈ 200 ms) again and again.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    // Gauges named *_total fail `promtool check metrics`; they are sum() of the per-type
    // nodejs_active_{handles,requests,resources} gauges, which stay.
    for (const name of LINT_FAILING_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }

  const scrape = new ScrapeCoordinator(registry, logger);
  scrape.add(
    identityCollector({
      config: deps.config,
      supervisor: deps.supervisor,
      version: deps.version,
      gstreamerVersion: deps.gstreamerVersion,
      kioskName: deps.kioskName,
    }),
  );
  scrape.add(pipelineCollector({ supervisor: deps.supervisor, now }));
  scrape.add(processCollector({ supervisor: deps.supervisor, procRoot: deps.procRoot ?? '/proc' }));
  scrape.add(hlsCollector({ config: deps.config, hls: deps.hls, supervisor: deps.supervisor, now }));
  scrape.add(pictureCollector({ picture: deps.picture }));
  scrape.add(
    viewersCollector({
      ...(deps.hlsViewers ? { hlsViewers: deps.hlsViewers } : {}),
      ...(deps.webrtc ? { webrtcViewers: () => deps.webrtc!.snapshot().viewers } : {}),
      ...(deps.everyFrame ? { everyFrame: deps.everyFrame } : {}),
    }),
  );
  scrape.add(webRtcCollector({ webrtc: deps.webrtc }));
  scrape.add(
    hostCollector({
      outputDir: deps.config.output_dir,
      source: deps.hostSource ?? systemHostSource({ procRoot: deps.procRoot }),
    }),
  );
  scrape.add(amdGpuCollector({ sysfsRoot: deps.config.sysfs_root }));

  return {
    registry,
    httpMiddleware: createHttpMetricsMiddleware(registry),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
