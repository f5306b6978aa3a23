import type Router from '@koa/router';
import type Koa from 'koa';
import type { Config } from '../config/schema.ts';
import type { HlsSnapshot } from '../hls/types.ts';
import type { Logger, LogRing } from '../logger.ts';
import type { SupervisorControl } from '../pipeline/types.ts';
import type { AuthPolicy } from './auth.ts';
import type { HealthReader } from './health-reader.ts';

/** Types shared by the app and its route factories (their own module, so routes never import app.ts). */

export interface AppDeps {
  config: Config;
  logger: Logger;
  logRing: LogRing;
  supervisor: SupervisorControl;
  hls: { snapshot(): HlsSnapshot; cleanup(): Promise<{ removedFiles: number; removedBytes: number }> };
  /** Resolved by the caller from config.api.token / token_file / env DESKTOP_STREAMER_API_TOKEN; null = none. */
  apiToken: string | null;
  /** Routers of other areas (/hls, /metrics), mounted after the API's own. */
  extraRouters?: Router[];
  /** Mounted first, before error handling (e.g. the HTTP metrics middleware). */
  middleware?: Koa.Middleware[];
  /** Whether config.relay_url answers; reported as mediamtx_running. Default: a TCP connect to its host and port. */
  relayReachable?: () => Promise<boolean>;
  /** Latest captured picture for /api/snapshot.jpg; 404 while absent. */
  snapshotJpeg?: () => Buffer | null;
  /** Tuning for tests. */
  options?: {
    sseHeartbeatMs?: number;
    bodyLimitBytes?: number;
    maxLogStreams?: number;
    logStreamMaxBufferedBytes?: number;
    logStreamMaxLifetimeMs?: number;
  };
}

/** What every route factory receives. */
export interface RouteContext {
  deps: AppDeps;
  policy: AuthPolicy;
  reader: HealthReader;
}
