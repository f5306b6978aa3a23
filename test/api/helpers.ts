/** Fakes and a real-server harness for the API's unit tests (loopback, ephemeral port). */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { type AppDeps, createApp } from '../../src/api/app.ts';
import { createLimitedServer, type HttpLimits, type LimitedServer } from '../../src/api/http-server.ts';
import { type Config, DEFAULT_CONFIG } from '../../src/config/schema.ts';
import type { HlsSnapshot } from '../../src/hls/types.ts';
import { createLogger, LogRing } from '../../src/logger.ts';
import type {
  PipelineErrorType,
  RestartReason,
  SupervisorControl,
  SupervisorSnapshot,
} from '../../src/pipeline/types.ts';
import { capturePlan } from '../fixtures/capture-plan.ts';

export function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

export function supervisorSnapshot(overrides: Partial<SupervisorSnapshot> = {}): SupervisorSnapshot {
  const now = Date.now();
  return {
    state: 'streaming',
    stateSince: now - 60_000,
    gstState: 'PLAYING',
    startedAt: now - 30 * 60_000,
    capture: capturePlan({
      encoder: { element: 'x264enc', reason: 'no VAAPI device: vah264enc and vaapih264enc missing' },
    }),
    pipeline: {
      pid: process.pid,
      startedAt: now - 60_000,
      argv: ['gst-launch-1.0', '-e', '-m', 'ximagesrc'],
    },
    restartCount: 2,
    restartsByReason: {
      ...zeroCounts<RestartReason>([
        'exited',
        'stalled',
        'error_burst',
        'capture_changed',
        'encoder_demoted',
        'manual',
      ]),
      stalled: 1,
      manual: 1,
    },
    recentRestarts: [
      { at: now - 10 * 60_000, reason: 'stalled', detail: 'no new segment for 6 s' },
      { at: now - 2 * 60_000, reason: 'manual', detail: 'API' },
    ],
    errorsByType: {
      ...zeroCounts<PipelineErrorType>(['display', 'encoder', 'resource', 'stream', 'process', 'other']),
      stream: 3,
    },
    recentErrors: [
      { at: now - 5 * 60_000, type: 'stream', message: 'Internal data stream error.', element: 'ximagesrc0' },
    ],
    errorsInWindow: 1,
    lastError: {
      at: now - 5 * 60_000,
      type: 'stream',
      message: 'Internal data stream error.',
      element: 'ximagesrc0',
    },
    warningsTotal: 4,
    backoffSeconds: 0,
    stateHistory: [
      { state: 'starting', at: now - 30 * 60_000 },
      { state: 'streaming', at: now - 60_000 },
    ],
    ...overrides,
  };
}

export function hlsSnapshot(overrides: Partial<HlsSnapshot> = {}): HlsSnapshot {
  const now = Date.now();
  return {
    playlistPath: '/tmp/hls/desktop/playlist.m3u8',
    publicDir: '/tmp/hls/desktop',
    playlistExists: true,
    mediaSequence: 120,
    discontinuitySequence: 2,
    targetDurationSeconds: 2,
    segments: [0, 1, 2, 3, 4].map((i) => ({
      sequence: 120 + i,
      uri: `seg-${120 + i}.ts`,
      durationSeconds: 2,
      bytes: 500_000,
      programDateTime: now - (5 - i) * 2000,
      discontinuity: false,
      frames: 30,
    })),
    segmentsWrittenTotal: 125,
    discontinuitiesTotal: 2,
    lastSegmentAt: now - 1000,
    filesOnDisk: 7,
    bytesOnDisk: 3_500_000,
    ...overrides,
  };
}

export class FakeSupervisor implements SupervisorControl {
  current: SupervisorSnapshot;
  readonly calls: string[] = [];
  failWith: Error | null = null;

  constructor(snapshot: SupervisorSnapshot = supervisorSnapshot()) {
    this.current = snapshot;
  }
  snapshot(): SupervisorSnapshot {
    return this.current;
  }
  async startStreaming(): Promise<void> {
    this.#call('start');
    this.current = { ...this.current, state: 'starting' };
  }
  async stopStreaming(): Promise<void> {
    this.#call('stop');
    this.current = { ...this.current, state: 'stopped' };
  }
  async restart(): Promise<void> {
    this.#call('restart');
    this.current = { ...this.current, state: 'starting', restartCount: this.current.restartCount + 1 };
  }
  #call(name: string): void {
    if (this.failWith) throw this.failWith;
    this.calls.push(name);
  }
}

export class FakeHls {
  #current: HlsSnapshot;
  /** Until a test sets `current`, the newest segment is always 1 s old (a live stream, however slow the test). */
  #live = true;
  cleanups = 0;
  constructor(snapshot: HlsSnapshot = hlsSnapshot()) {
    this.#current = snapshot;
  }
  get current(): HlsSnapshot {
    return this.#current;
  }
  set current(snapshot: HlsSnapshot) {
    this.#current = snapshot;
    this.#live = false;
  }
  snapshot(): HlsSnapshot {
    return this.#live ? { ...this.#current, lastSegmentAt: Date.now() - 1000 } : this.#current;
  }
  async cleanup(): Promise<{ removedFiles: number; removedBytes: number }> {
    this.cleanups += 1;
    return { removedFiles: 2, removedBytes: 1_000_000 };
  }
}

export interface TestServer {
  url: string;
  deps: AppDeps;
  supervisor: FakeSupervisor;
  hls: FakeHls;
  logRing: LogRing;
  /** Every log line the app wrote (JSON strings), to check that secrets never appear. */
  logOutput: string[];
  /** The limited server the app runs in (its stats and limits). */
  http: LimitedServer;
  close(): Promise<void>;
}

export interface TestServerOptions {
  config?: Partial<Config>;
  apiToken?: string | null;
  deps?: Partial<AppDeps>;
  logRing?: LogRing;
  httpLimits?: Partial<HttpLimits>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const logRing = options.logRing ?? new LogRing(500);
  const logOutput: string[] = [];
  const logger = createLogger({
    level: 'debug',
    ring: logRing,
    destination: { write: (chunk: string) => void logOutput.push(chunk) },
  });
  const supervisor = new FakeSupervisor();
  const hls = new FakeHls();
  const deps: AppDeps = {
    config: { ...DEFAULT_CONFIG, output_dir: '/tmp', ...options.config },
    logger,
    logRing,
    supervisor,
    hls,
    apiToken: options.apiToken === undefined ? 'test-token-0123456789' : options.apiToken,
    ...options.deps,
  };
  const app = createApp(deps);
  const limited = createLimitedServer(app.callback(), options.httpLimits);
  const server = limited.server;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    deps,
    supervisor,
    hls,
    logRing,
    logOutput,
    http: limited,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
