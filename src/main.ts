/**
 * Wiring only: load config, build the components, start them, stop them on signals.
 */
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createApp } from './api/app.ts';
import { createLimitedServer } from './api/http-server.ts';
import { RecentClients } from './api/recent-clients.ts';
import { createHlsRouter } from './api/routes/hls.ts';
import { createMetricsRouter } from './api/routes/metrics.ts';
import { createWhepRouter } from './api/routes/whep.ts';
import { probeEncoders } from './capture/encoders.ts';
import { MonitorWatcher } from './capture/monitor-watch.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { EXIT } from './exit-codes.ts';
import { claimOutputDir, OutputDirError } from './hls/output-dir.ts';
import { createHlsPublisher } from './hls/publisher.ts';
import { acquireInstanceLock, InstanceLockedError } from './instance-lock.ts';
import { createLogger, type Logger, LogRing } from './logger.ts';
import { startDailySummary } from './maintenance/index.ts';
import { FrameDemand } from './media/frame-demand.ts';
import { createMetrics } from './metrics/index.ts';
import { PictureTap } from './picture/tap.ts';
import { killOrphanPipeline, writePipelinePidFile } from './pipeline/orphans.ts';
import { Supervisor } from './pipeline/supervisor.ts';
import { runCommand } from './system/run-command.ts';
import { createNotifier, startWatchdogPings } from './systemd/notify.ts';
import { VERSION } from './version.ts';
import { WebRtcService } from './webrtc/webrtc-service.ts';

export { EXIT };

export class StartupError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StartupError';
    this.exitCode = exitCode;
  }
}

async function resolveApiToken(config: Config, env: NodeJS.ProcessEnv): Promise<string | null> {
  if (env.DESKTOP_STREAMER_API_TOKEN) return env.DESKTOP_STREAMER_API_TOKEN.trim();
  const credentials = env.CREDENTIALS_DIRECTORY;
  const file = config.api.token_file ?? (credentials ? join(credentials, 'api-token') : null);
  if (file) {
    try {
      // An empty credential is systemd 252's stand-in for "no token file" (SetCredential=api-token:).
      const token = (await readFile(file, 'utf8')).trim();
      if (token) return token;
    } catch (error) {
      if (config.api.token_file) {
        throw new StartupError(
          `api.token_file: cannot read ${file} (${(error as NodeJS.ErrnoException).code})`,
          EXIT.config,
          {
            cause: error,
          },
        );
      }
    }
  }
  return config.api.token;
}

async function gstreamerVersion(): Promise<string> {
  const { stdout } = await runCommand('gst-launch-1.0', ['--version'], { timeoutMs: 10_000 });
  return /GStreamer (\S+)/.exec(stdout)?.[1] ?? 'unknown';
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'the port is in use' : error.message;
      reject(
        new StartupError(`cannot listen on ${host}:${port}: ${why}`, EXIT.unavailable, { cause: error }),
      );
    });
    server.listen(port, host, () => resolve());
  });
}

export interface RunOptions {
  configPath?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs the supervisor until SIGINT/SIGTERM (or the failed state with exit_on_failure). Returns the exit status. */
export async function runSupervisor(options: RunOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const logRing = new LogRing();
  const logger = createLogger({ ring: logRing });
  try {
    return await run(options.configPath, env, logger, logRing);
  } catch (error) {
    // A person at a terminal gets the plain message too; journald gets the JSON line.
    if (process.stderr.isTTY && (error instanceof ConfigError || error instanceof StartupError)) {
      console.error(`desktop-streamer: ${error.message}`);
    }
    if (error instanceof ConfigError) {
      logger.fatal({ path: error.path, issues: error.issues }, error.message);
      return EXIT.config;
    }
    if (error instanceof StartupError) {
      logger.fatal(error.message);
      return error.exitCode;
    }
    logger.fatal({ err: error }, 'unexpected error');
    return EXIT.failed;
  }
}

async function run(configPath: string | undefined, env: NodeJS.ProcessEnv, logger: Logger, logRing: LogRing) {
  const { config, path, warnings } = await loadConfig(configPath, env);
  for (const warning of warnings) logger.warn({ path }, `config: ${warning}`);
  const display = config.display ?? env.DISPLAY;
  if (!display) {
    throw new StartupError('no X display: set DISPLAY or "display" in the config (e.g. ":0")', EXIT.config);
  }
  const kioskName = config.kiosk_name ?? hostname();
  const log = logger.child({ kiosk: kioskName });
  const apiToken = await resolveApiToken(config, env);

  // Before anything touches output_dir: ours to use, and no other supervisor on it.
  const instanceLock = await claimOutputDir(config.output_dir, env)
    .then(() => acquireInstanceLock(config.output_dir))
    .catch((error: unknown) => {
      if (error instanceof OutputDirError)
        throw new StartupError(error.message, EXIT.config, { cause: error });
      if (error instanceof InstanceLockedError)
        throw new StartupError(error.message, EXIT.unavailable, { cause: error });
      throw error;
    });

  const [encoders, gstVersion] = await Promise.all([probeEncoders(), gstreamerVersion()]);
  await killOrphanPipeline(config.output_dir, log);

  const publisher = createHlsPublisher({ config, logger: log });
  await publisher.start();

  const webrtc = config.webrtc.enabled
    ? new WebRtcService(config.webrtc, { bindAddress: config.bind_address, logger: log })
    : null;
  // Low-Latency HLS requests and WebRTC viewers make the supervisor read each frame as it is made.
  const frameDemand = new FrameDemand(webrtc ? { realtimeViewers: () => webrtc.fanout.viewerCount } : {});
  const picture = new PictureTap();
  const monitorWatch = new MonitorWatcher({ display, intervalSeconds: 3, logger: log });
  monitorWatch.start();
  const notifier = createNotifier({ logger: log, env });
  let ready = false;
  let resolveFailed: () => void = () => {};
  const failed = new Promise<void>((resolve) => {
    resolveFailed = resolve;
  });
  const supervisor = new Supervisor({
    config,
    logger: log,
    publisher,
    display,
    encoders,
    picture,
    monitorWatch,
    ...(webrtc ? { video: webrtc.video } : {}),
    frameDemand,
    onStateChange: (state, snapshot) => {
      void notifier.status(`${state}${snapshot.capture ? ` ${snapshot.capture.monitor.name}` : ''}`);
      if (!ready && (state === 'streaming' || state === 'no_signal')) {
        ready = true;
        void notifier.ready(`streaming ${snapshot.capture?.monitor.name ?? ''}`.trim());
      }
      if (snapshot.pipeline.pid !== null) void writePipelinePidFile(config.output_dir, snapshot.pipeline.pid);
      if (state === 'failed' && config.exit_on_failure) resolveFailed();
    },
  });

  const served = { segments: 0, bytes: 0 };
  // An HLS viewer reloads the playlist at least every target duration (2 s by default).
  const hlsClients = new RecentClients({ windowMs: 10_000, maxClients: 10_000 });
  const metrics = createMetrics({
    config,
    logger: log,
    supervisor,
    hls: publisher,
    picture,
    ...(webrtc ? { webrtc } : {}),
    hlsViewers: () => hlsClients.count(Date.now()),
    everyFrame: () => frameDemand.everyFrame(),
    version: VERSION,
    gstreamerVersion: gstVersion,
    kioskName,
  });
  const app = createApp({
    config,
    logger: log,
    logRing,
    supervisor,
    hls: publisher,
    apiToken,
    snapshotJpeg: () => picture.jpeg(),
    middleware: [metrics.httpMiddleware],
    extraRouters: [
      createHlsRouter({
        publicDir: publisher.snapshot().publicDir,
        playlist: () => publisher.livePlaylistText(),
        segmentData: (name) => publisher.listedSegmentData(name),
        onPlaylistRequest: (client) => hlsClients.seen(client, Date.now()),
        onSegmentServed: (bytes) => {
          served.segments++;
          served.bytes += bytes;
        },
        lowLatency: {
          waitForMedia: (msn, part, timeoutMs) => {
            frameDemand.noteLowLatencyRequest();
            return publisher.waitForMedia(msn, part, timeoutMs);
          },
          liveEdge: () => publisher.liveEdge(),
          partData: (name) => {
            frameDemand.noteLowLatencyRequest();
            return publisher.partData(name);
          },
          blockTimeoutMs: () => 3 * publisher.snapshot().targetDurationSeconds * 1000,
        },
      }),
      createWhepRouter(webrtc?.sessions ?? null),
      createMetricsRouter(metrics),
    ],
  });
  const { server } = createLimitedServer(app.callback());
  await listen(server, config.port, config.bind_address);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info(
    {
      url: `http://${config.bind_address}:${port}/hls/desktop/playlist.m3u8`,
      port,
      // The one UDP port WebRTC media uses: open it next to the TCP port (docs/webrtc.md).
      whep: webrtc
        ? { url: `http://${config.bind_address}:${port}/whep`, udpPort: config.webrtc.udp_port }
        : null,
      version: VERSION,
    },
    'serving HLS, API and metrics',
  );

  const dailySummary = startDailySummary({
    logger: log,
    summary: () => ({
      uptimeSeconds: (Date.now() - supervisor.snapshot().startedAt) / 1000,
      restarts: supervisor.snapshot().restartCount,
      segmentsServed: served.segments,
      bytesServed: served.bytes,
    }),
  });

  await supervisor.start();
  // systemd's watchdog restarts the service when the supervisor's own loop stops turning or gave up.
  const pings = startWatchdogPings(notifier, () => supervisor.isLoopHealthy());

  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
  });
  const reason = await Promise.race([signalled, failed.then(() => 'failed' as const)]);
  log.info({ reason }, 'stopping');
  await notifier.stopping();
  pings.stop();
  dailySummary.stop();
  await supervisor.stop();
  webrtc?.stop();
  monitorWatch.stop();
  // close() waits for open connections (a live log tail never ends by itself): cut them now.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
  await publisher.stop();
  await instanceLock.release();
  return reason === 'failed' ? EXIT.failed : EXIT.ok;
}
