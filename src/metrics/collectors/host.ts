import { loadavg } from 'node:os';
import { CpuSampler } from '../../system/cpu-sampler.ts';
import { filesystemOf } from '../../system/disk-usage.ts';
import { type NetDevCounters, readCpuTimes, readMemory, readNetDev } from '../../system/proc-host.ts';
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

export interface SystemHostSourceOptions {
  procRoot?: string;
}

/**
 * The real host, read from the kernel without spawning anything (src/system/): /proc/stat,
 * /proc/meminfo and /proc/net/dev, statfs(2) for the output filesystem (tmpfs included, where
 * /tmp/hls usually lives) and os.loadavg() for load1.
 */
export function systemHostSource(options: SystemHostSourceOptions = {}): HostSource {
  const procRoot = options.procRoot ?? '/proc';
  // Busy since the previous scrape, however long ago; the first scrape compares with this reading.
  const cpu = new CpuSampler({
    readTimes: () => readCpuTimes(procRoot),
    reuseMs: 0,
    maxAgeMs: Infinity,
  }).prime();
  return {
    cpuBusyRatio: () => cpu.busyRatio(),
    memory: () => readMemory(procRoot),
    load1: () => loadavg()[0] ?? 0,
    filesystem: (path) => filesystemOf(path, procRoot),
    network: () => readNetDev(procRoot),
  };
}
