/** Fake snapshots and sources for the metrics unit tests (mocks live only in unit tests). */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { HlsSnapshot, PublicSegment, PublishedPart } from '../../src/hls/types.ts';
import type { Logger } from '../../src/logger.ts';
import type { HostSource } from '../../src/metrics/collectors/host.ts';
import type { SupervisorSnapshot } from '../../src/pipeline/types.ts';
import { capturePlan } from '../fixtures/capture-plan.ts';

/** 2026-01-02T03:04:05Z */
export const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);

export { capturePlan };

export function supervisorSnapshot(overrides: Partial<SupervisorSnapshot> = {}): SupervisorSnapshot {
  return {
    state: 'streaming',
    stateSince: NOW - 60_000,
    gstState: 'PLAYING',
    startedAt: NOW - 3_600_000,
    capture: capturePlan(),
    pipeline: { pid: 4242, startedAt: NOW - 90_000, argv: ['gst-launch-1.0', '-e', '-m'] },
    restartCount: 4,
    restartsByReason: {
      exited: 2,
      stalled: 1,
      error_burst: 0,
      capture_changed: 0,
      encoder_demoted: 0,
      manual: 1,
    },
    recentRestarts: [],
    errorsByType: { display: 1, encoder: 0, resource: 2, stream: 0, process: 0, other: 0 },
    recentErrors: [],
    errorsInWindow: 3,
    lastError: {
      at: NOW - 120_000,
      type: 'resource',
      message: 'Could not open resource',
      element: 'ximagesrc0',
    },
    warningsTotal: 7,
    backoffSeconds: 0,
    stateHistory: [],
    ...overrides,
  };
}

export function segment(sequence: number, overrides: Partial<PublicSegment> = {}): PublicSegment {
  return {
    sequence,
    uri: `seg-${String(sequence).padStart(6, '0')}.ts`,
    durationSeconds: 2,
    bytes: 500_000,
    programDateTime: NOW - (10 - sequence) * 2000,
    discontinuity: false,
    frames: 30,
    ...overrides,
  };
}

export function hlsSnapshot(overrides: Partial<HlsSnapshot> = {}): HlsSnapshot {
  const segments = [5, 6, 7, 8, 9].map((n) => segment(n));
  return {
    playlistPath: '/tmp/hls/desktop/playlist.m3u8',
    publicDir: '/tmp/hls/desktop',
    playlistExists: true,
    mediaSequence: 5,
    discontinuitySequence: 1,
    targetDurationSeconds: 2,
    segments,
    segmentsWrittenTotal: 10,
    discontinuitiesTotal: 1,
    lastSegmentAt: NOW - 3_000,
    filesOnDisk: 8,
    bytesOnDisk: 4_000_000,
    ...overrides,
  };
}

/** An HLS publisher stand-in whose snapshot can be swapped and whose segments can be emitted. */
export class FakeHls {
  current: HlsSnapshot = hlsSnapshot();
  readonly #listeners: ((segment: PublicSegment) => void)[] = [];
  readonly #partListeners: ((part: PublishedPart) => void)[] = [];
  readonly #waitListeners: ((waitedSeconds: number, satisfied: boolean) => void)[] = [];
  snapshot(): HlsSnapshot {
    return this.current;
  }
  onSegment(listener: (segment: PublicSegment) => void): void {
    this.#listeners.push(listener);
  }
  onPart(listener: (part: PublishedPart) => void): void {
    this.#partListeners.push(listener);
  }
  onReloadWait(listener: (waitedSeconds: number, satisfied: boolean) => void): void {
    this.#waitListeners.push(listener);
  }
  emit(published: PublicSegment): void {
    for (const listener of this.#listeners) listener(published);
  }
  emitPart(part: PublishedPart): void {
    for (const listener of this.#partListeners) listener(part);
  }
  emitReloadWait(waitedSeconds: number, satisfied: boolean): void {
    for (const listener of this.#waitListeners) listener(waitedSeconds, satisfied);
  }
}

export class FakeSupervisor {
  current: SupervisorSnapshot = supervisorSnapshot();
  snapshot(): SupervisorSnapshot {
    return this.current;
  }
}

export function fakeHostSource(overrides: Partial<HostSource> = {}): HostSource {
  return {
    cpuBusyRatio: async () => 0.25,
    memory: async () => ({ totalBytes: 8 * 2 ** 30, availableBytes: 5 * 2 ** 30 }),
    load1: () => 0.5,
    filesystem: async () => ({ mountpoint: '/var', sizeBytes: 100 * 2 ** 30, availBytes: 40 * 2 ** 30 }),
    network: async () => [
      { device: 'eth0', receiveBytes: 123_456_789, transmitBytes: 987_654_321 },
      { device: 'lo', receiveBytes: 1000, transmitBytes: 1000 },
    ],
    ...overrides,
  };
}

/** A pino logger whose records are kept in `records`. */
export function recordingLogger(): { logger: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      records.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), records };
}
