import net from 'node:net';
import type { Config } from '../config/schema.ts';
import type { HlsSnapshot } from '../hls/types.ts';
import type { SupervisorControl, SupervisorSnapshot } from '../pipeline/types.ts';
import {
  buildHealth,
  type HealthJson,
  type ServiceStateJson,
  type SystemJson,
  serviceStateFromSupervisor,
  serviceStateFromSystemd,
} from './health-model.ts';
import { CpuSampler, diskUsagePercent, processRssBytes, systemMemoryPercent } from './host-sample.ts';
import { SystemdStatusReader } from './systemd-status.ts';

export interface HealthReading {
  now: number;
  supervisor: SupervisorSnapshot;
  hls: HlsSnapshot;
  health: HealthJson;
}

const RELAY_CHECK_TIMEOUT_MS = 1500;
/** The relay answer is reused this long, so frequent health polls do not each probe it. */
const RELAY_CHECK_CACHE_MS = 5000;

/** What the reader needs of the app's dependencies (AppDeps satisfies it). */
export interface HealthReaderDeps {
  config: Config;
  supervisor: SupervisorControl;
  hls: { snapshot(): HlsSnapshot };
  relayReachable?: () => Promise<boolean>;
}

/** Gathers the I/O readings behind /api/health, /api/status and /api/health/detailed. */
export class HealthReader {
  readonly #deps: HealthReaderDeps;
  readonly #cpu = new CpuSampler();
  readonly #systemd = new SystemdStatusReader();
  #relay: { at: number; reachable: Promise<boolean> } | null = null;

  constructor(deps: HealthReaderDeps) {
    this.#deps = deps;
  }

  async health(): Promise<HealthReading> {
    const supervisor = this.#deps.supervisor.snapshot();
    const hls = this.#deps.hls.snapshot();
    const [relayReachable, memoryUsageBytes, memoryPercent] = await Promise.all([
      this.#relayReachable(),
      this.#memoryUsageBytes(supervisor.pipeline.pid),
      systemMemoryPercent(),
    ]);
    const now = Date.now();
    const health = buildHealth({
      supervisor,
      hls,
      config: this.#deps.config,
      now,
      relayReachable,
      memoryUsageBytes,
      systemMemoryPercent: memoryPercent,
    });
    return { now, supervisor, hls, health };
  }

  async system(): Promise<SystemJson> {
    const [cpu, memory, disk] = await Promise.all([
      this.#cpu.percent(),
      systemMemoryPercent(),
      diskUsagePercent(this.#deps.config.output_dir),
    ]);
    return { cpu_percent: cpu, memory_percent: memory, disk_usage_percent: disk };
  }

  async service(supervisor: SupervisorSnapshot): Promise<ServiceStateJson> {
    const unit = await this.#systemd.read();
    return unit
      ? serviceStateFromSystemd(unit.ActiveState, unit.SubState)
      : serviceStateFromSupervisor(supervisor.state);
  }

  #relayReachable(): Promise<boolean> {
    const relayUrl = this.#deps.config.relay_url;
    if (relayUrl === null) return Promise.resolve(false);
    const check = this.#deps.relayReachable ?? (() => tcpReachable(relayUrl, RELAY_CHECK_TIMEOUT_MS));
    if (this.#relay === null || Date.now() - this.#relay.at > RELAY_CHECK_CACHE_MS) {
      this.#relay = { at: Date.now(), reachable: withTimeout(check, RELAY_CHECK_TIMEOUT_MS) };
    }
    return this.#relay.reachable;
  }

  async #memoryUsageBytes(childPid: number | null): Promise<number> {
    const own = (await processRssBytes(process.pid)) ?? process.memoryUsage().rss;
    const child = childPid === null ? 0 : ((await processRssBytes(childPid)) ?? 0);
    return own + child;
  }
}

/** The check's answer, or false when it throws or takes longer than timeoutMs. */
async function withTimeout(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([check().catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const DEFAULT_PORTS: Record<string, number> = {
  'rtsp:': 554,
  'rtsps:': 322,
  'rtmp:': 1935,
  'rtmps:': 443,
  'http:': 80,
  'https:': 443,
};

/**
 * Whether the relay's host accepts a TCP connection (the default check for mediamtx_running).
 * UDP-only schemes (srt://, udp://) cannot be checked this way and count as not reachable.
 */
export function tcpReachable(relayUrl: string, timeoutMs: number): Promise<boolean> {
  let url: URL;
  try {
    url = new URL(relayUrl);
  } catch {
    return Promise.resolve(false);
  }
  const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port);
  if (port === undefined || url.hostname === '') return Promise.resolve(false);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    const done = (reachable: boolean) => {
      socket.destroy();
      resolve(reachable);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
