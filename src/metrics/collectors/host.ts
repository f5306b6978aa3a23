import { readFile, realpath, statfs } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import {
  busyRatio,
  type NetDevCounters,
  readCpuTimes,
  readMemory,
  readNetDev,
} from '../../system/proc-host.ts';
import type { CollectorDefinition } from '../scrape.ts';

export interface FilesystemReading {
  mountpoint: string;
  sizeBytes: number;
  availBytes: number;
}

export type NetworkReading = NetDevCounters;

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

export interface SystemHostSourceOptions {
  procRoot?: string;
}

/**
 * The real host, read from the kernel without spawning anything: /proc/stat, /proc/meminfo and
 * /proc/net/dev (src/system/proc-host.ts), statfs(2) for the output filesystem (tmpfs included,
 * where /tmp/hls usually lives) and os.loadavg() for load1.
 */
export function systemHostSource(options: SystemHostSourceOptions = {}): HostSource {
  const procRoot = options.procRoot ?? '/proc';
  // CPU busy is a ratio between two readings: the first scrape compares with this one.
  let previousCpu = readCpuTimes(procRoot);
  return {
    async cpuBusyRatio() {
      const [previous, current] = await Promise.all([previousCpu, readCpuTimes(procRoot)]);
      previousCpu = Promise.resolve(current);
      return busyRatio(previous, current);
    },
    memory: () => readMemory(procRoot),
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
    network: () => readNetDev(procRoot),
  };
}
