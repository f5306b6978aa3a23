/** A real Koa server exposing a metrics registry the way src/main.ts mounts it. */

import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import { createMetricsRouter } from '../../src/api/routes/metrics.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { createMetrics, type Metrics, type MetricsDeps } from '../../src/metrics/index.ts';
import { FakeHls, FakeSupervisor, recordingLogger } from './fakes.ts';

export interface MetricsServer {
  url: string;
  metrics: Metrics;
  supervisor: FakeSupervisor;
  hls: FakeHls;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1, ephemeral port. Also serves GET /api/items/:id and /hls/desktop/:file for traffic. */
export async function startMetricsServer(overrides: Partial<MetricsDeps> = {}): Promise<MetricsServer> {
  const supervisor = new FakeSupervisor();
  const hls = new FakeHls();
  const metrics = createMetrics({
    config: { ...DEFAULT_CONFIG },
    logger: recordingLogger().logger,
    supervisor,
    hls,
    version: '0.1.0',
    gstreamerVersion: '1.22.0',
    kioskName: 'test-kiosk',
    ...overrides,
  });
  const app = new Koa();
  app.use(metrics.httpMiddleware);
  const api = new Router();
  api.get('/api/items/:id', (ctx) => {
    ctx.body = { id: ctx.params.id };
  });
  api.get('/hls/desktop/:file', (ctx) => {
    ctx.type = 'video/mp2t';
    ctx.body = Buffer.alloc(188);
  });
  api.get('/api/boom', () => {
    throw new Error('boom');
  });
  app.use(api.routes());
  const metricsRouter = createMetricsRouter(metrics);
  app.use(metricsRouter.routes());
  app.silent = true;
  const server = createServer(app.callback());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    metrics,
    supervisor,
    hls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
