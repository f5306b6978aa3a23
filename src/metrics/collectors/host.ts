import { readFile, realpath, statfs } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import si from 'systeminformation';
import type { CollectorDefinition } from '../scrape.ts';

export interface FilesystemReading {
  mountpoint: string;
  sizeBytes: number;
  availBytes: number;
}

export interface NetworkReading {
  device: string;
  receiveBytes: number;
  transmitBytes: number;
}

/** Where the host collector reads from; tests inject a fake. */
export interface HostSource {
  /** Busy share of all CPUs since the previous call, 0–1. */
  cpuBusyRatio(): Promise<number>;
  memory(): Promise<{ totalBytes: number; availableBytes: number }>;
  load1(): number;
  /** The filesystem holding `path` (which may not exist yet: its nearest existing parent counts). */
  filesystem(path: string): Promise<FilesystemReading>;
  network(): Promise<NetworkReading[]>;
}

export interface HostCollectorDeps {
  outputDir: string;
  source: HostSource;
}

/** Host resources of the kiosk: CPU, memory, load, the output filesystem, network bytes. */
export function hostCollector(deps: HostCollectorDeps): CollectorDefinition {
  return {
    name: 'host',
    setup(metrics) {
      const cpu = metrics.gauge(
        'desktop_streamer_host_cpu_usage_ratio',
        'Host CPU busy, 0-1, averaged over all CPUs since the previous scrape.',
      );
      const memoryTotal = metrics.gauge('desktop_streamer_host_memory_total_bytes', 'Host memory.');
      const memoryAvailable = metrics.gauge(
        'desktop_streamer_host_memory_available_bytes',
        'Host memory available (MemAvailable).',
      );
      const load1 = metrics.gauge('desktop_streamer_host_load1', '1-minute load average.');
      const fsSize = metrics.gauge(
        'desktop_streamer_host_filesystem_size_bytes',
        'Size of the filesystem holding output_dir.',
        ['mountpoint'],
      );
      const fsAvail = metrics.gauge(
        'desktop_streamer_host_filesystem_avail_bytes',
        'Bytes available to unprivileged users on the filesystem holding output_dir.',
        ['mountpoint'],
      );
      const received = metrics.counter(
        'desktop_streamer_host_network_receive_bytes_total',
        'Bytes received.',
        ['device'],
      );
      const transmitted = metrics.counter(
        'desktop_streamer_host_network_transmit_bytes_total',
        'Bytes sent.',
        ['device'],
      );

      return async () => {
        const { source } = deps;
        const [busy, memory, filesystem, network] = await Promise.all([
          source.cpuBusyRatio(),
          source.memory(),
          source.filesystem(deps.outputDir),
          source.network(),
        ]);
        cpu.set(busy);
        memoryTotal.set(memory.totalBytes);
        memoryAvailable.set(memory.availableBytes);
        load1.set(source.load1());
        fsSize.reset();
        fsAvail.reset();
        fsSize.set({ mountpoint: filesystem.mountpoint }, filesystem.sizeBytes);
        fsAvail.set({ mountpoint: filesystem.mountpoint }, filesystem.availBytes);
        received.reset();
        transmitted.reset();
        for (const nic of network) {
          received.inc({ device: nic.device }, Math.max(0, nic.receiveBytes));
          transmitted.inc({ device: nic.device }, Math.max(0, nic.transmitBytes));
        }
      };
    },
  };
}

/** Decodes the octal escapes (\040 = space) of /proc/self/mounts. Pure. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** The mount point in /proc/self/mounts content that holds `path` (longest prefix). Pure. */
export function mountpointOf(mounts: string, path: string): string {
  let best = '/';
  for (const line of mounts.split('\n')) {
    const field = line.split(' ')[1];
    if (!field) continue;
    const mountpoint = unescapeMountField(field);
    const inside =
      path === mountpoint || path.startsWith(mountpoint.endsWith('/') ? mountpoint : `${mountpoint}/`);
    if (inside && mountpoint.length > best.length) best = mountpoint;
  }
  return best;
}

async function nearestExistingRealPath(path: string): Promise<string> {
  let current = resolve(path);
  for (;;) {
    try {
      return await realpath(current);
    } catch (error) {
      const parent = dirname(current);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === current) throw error;
      current = parent;
    }
  }
}

/** Reuses a slow reading for `ttlMs`; concurrent callers share one in-flight read. */
function cached<T>(ttlMs: number, read: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  let value: { at: number; promise: Promise<T> } | null = null;
  return () => {
    const at = now();
    if (value === null || at - value.at >= ttlMs) {
      const promise = read();
      value = { at, promise };
      promise.catch(() => {
        if (value?.promise === promise) value = null;
      });
    }
    return value.promise;
  };
}

export interface SystemHostSourceOptions {
  procRoot?: string;
  /** How long a network reading is reused; systeminformation's first call enumerates interfaces (~100 ms). */
  networkTtlMs?: number;
}

/**
 * The real host, read through systeminformation (CPU, memory, network) and the kernel directly
 * where that is cheaper and more exact: statfs(2) for the output filesystem (systeminformation's
 * fsSize spawns `df`, ~10–20 ms, and leaves out tmpfs, where /tmp/hls usually lives) and
 * os.loadavg() for load1 (systeminformation's avgLoad is divided by the core count).
 */
export function systemHostSource(options: SystemHostSourceOptions = {}): HostSource {
  const procRoot = options.procRoot ?? '/proc';
  const network = cached(options.networkTtlMs ?? 2000, async () => {
    const stats = await si.networkStats('*');
    return stats.map((nic) => ({
      device: nic.iface,
      receiveBytes: nic.rx_bytes,
      transmitBytes: nic.tx_bytes,
    }));
  });
  // systeminformation measures CPU load between two calls; its very first call is slow (~0.5 s),
  // so it is primed here rather than in the first scrape.
  si.currentLoad().catch(() => undefined);
  return {
    async cpuBusyRatio() {
      const load = await si.currentLoad();
      return Math.min(1, Math.max(0, load.currentLoad / 100));
    },
    async memory() {
      const memory = await si.mem();
      return { totalBytes: memory.total, availableBytes: memory.available };
    },
    load1: () => loadavg()[0] ?? 0,
    async filesystem(path) {
      const existing = await nearestExistingRealPath(path);
      const [stats, mounts] = await Promise.all([
        statfs(existing),
        readFile(`${procRoot}/self/mounts`, 'utf8').catch(() => ''),
      ]);
      return {
        mountpoint: mountpointOf(mounts, existing),
        sizeBytes: stats.blocks * stats.bsize,
        availBytes: stats.bavail * stats.bsize,
      };
    },
    network,
  };
}
