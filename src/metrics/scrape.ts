import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../logger.ts';

/** Creates metrics whose values are refreshed by their collector when Prometheus scrapes. */
export interface CollectorMetrics {
  gauge<L extends string = never>(name: string, help: string, labelNames?: readonly L[]): Gauge<L>;
  /** A counter that mirrors a total kept elsewhere (set it with `setCounter`). */
  counter<L extends string = never>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  /** A histogram fed by events rather than at scrape time (it has no collect hook). */
  histogram<L extends string = never>(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames?: readonly L[],
  ): Histogram<L>;
}

/** Refreshes the collector's metrics; may throw (the scrape still succeeds, see ScrapeCoordinator). */
export type CollectorUpdate = () => void | Promise<void>;

export interface CollectorDefinition {
  /** Value of the `collector` label on the scrape_collector_* series. */
  readonly name: string;
  setup(metrics: CollectorMetrics): CollectorUpdate;
}

export class CollectorTimeoutError extends Error {
  override readonly name = 'CollectorTimeoutError';
}

export class CollectorStillRunningError extends Error {
  override readonly name = 'CollectorStillRunningError';
}

export interface ScrapeCoordinatorOptions {
  /**
   * A collector that takes longer fails this scrape (default 5000 ms, half of Prometheus'
   * default scrape_timeout). Its run is not abandoned: until it settles the collector is not
   * started again, so a hung sysfs read cannot pile up and exhaust libuv's thread pool.
   */
  collectorTimeoutMs?: number;
  /** Milliseconds on a monotonic clock, for the collector durations; tests inject one. */
  now?: () => number;
}

interface CollectorEntry {
  readonly name: string;
  update: CollectorUpdate;
  /** The run of this scrape (shared by all metrics of the collector). */
  inFlight: Promise<void> | null;
  /** The collector's own update, which may outlive a scrape that timed out. */
  running: Promise<void> | null;
  durationSeconds: number;
  success: boolean;
  failing: boolean;
}

/**
 * Runs every collector at most once per scrape, from prom-client's `collect()` hooks (no timers).
 *
 * prom-client calls `collect()` of every registered metric synchronously in one pass when a
 * scrape starts, so all metrics of a collector join the same in-flight run. A collector that
 * throws keeps its previous values, reports `desktop_streamer_scrape_collector_success 0`, and is
 * logged once per failure streak; the scrape itself never fails. So does one that takes longer
 * than `collectorTimeoutMs`.
 */
export class ScrapeCoordinator {
  readonly #registry: Registry;
  readonly #logger: Logger;
  readonly #collectors = new Map<string, CollectorEntry>();
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(registry: Registry, logger: Logger, options: ScrapeCoordinatorOptions = {}) {
    this.#registry = registry;
    this.#logger = logger;
    this.#timeoutMs = options.collectorTimeoutMs ?? 5000;
    this.#now = options.now ?? (() => performance.now());
    const durations = new Gauge({
      name: 'desktop_streamer_scrape_collector_duration_seconds',
      help: 'Time the collector took in this scrape.',
      labelNames: ['collector'],
      registers: [registry],
      collect: async () => {
        await this.#runAll();
        for (const entry of this.#collectors.values()) {
          durations.set({ collector: entry.name }, entry.durationSeconds);
        }
      },
    });
    const successes = new Gauge({
      name: 'desktop_streamer_scrape_collector_success',
      help: 'Whether the collector succeeded in this scrape (1) or not (0).',
      labelNames: ['collector'],
      registers: [registry],
      collect: async () => {
        await this.#runAll();
        for (const entry of this.#collectors.values()) {
          successes.set({ collector: entry.name }, entry.success ? 1 : 0);
        }
      },
    });
  }

  add(definition: CollectorDefinition): void {
    if (this.#collectors.has(definition.name)) {
      throw new Error(`collector "${definition.name}" is already registered`);
    }
    const entry: CollectorEntry = {
      name: definition.name,
      update: () => undefined,
      inFlight: null,
      running: null,
      durationSeconds: 0,
      success: true,
      failing: false,
    };
    const collect = () => this.#run(entry);
    const registers = [this.#registry];
    entry.update = definition.setup({
      gauge: (name, help, labelNames = []) => new Gauge({ name, help, labelNames, registers, collect }),
      counter: (name, help, labelNames = []) => new Counter({ name, help, labelNames, registers, collect }),
      histogram: (name, help, buckets, labelNames = []) =>
        new Histogram({ name, help, buckets: [...buckets], labelNames: [...labelNames], registers }),
    });
    this.#collectors.set(entry.name, entry);
  }

  /** Runs all collectors now (joins runs already in flight). Never rejects. */
  async refresh(): Promise<void> {
    await this.#runAll();
  }

  #runAll(): Promise<void> {
    return Promise.all([...this.#collectors.values()].map((entry) => this.#run(entry))).then(() => undefined);
  }

  #run(entry: CollectorEntry): Promise<void> {
    entry.inFlight ??= this.#execute(entry).finally(() => {
      entry.inFlight = null;
    });
    return entry.inFlight;
  }

  async #execute(entry: CollectorEntry): Promise<void> {
    const started = this.#now();
    try {
      await this.#updateWithTimeout(entry);
      entry.success = true;
      if (entry.failing) {
        entry.failing = false;
        this.#logger.info({ collector: entry.name }, 'metrics collector recovered');
      }
    } catch (error) {
      entry.success = false;
      if (!entry.failing) {
        entry.failing = true;
        this.#logger.warn(
          { collector: entry.name, err: error },
          'metrics collector failed; keeping its last values',
        );
      }
    } finally {
      entry.durationSeconds = (this.#now() - started) / 1000;
    }
  }

  async #updateWithTimeout(entry: CollectorEntry): Promise<void> {
    if (entry.running) {
      throw new CollectorStillRunningError(`collector "${entry.name}" is still busy with an earlier scrape`);
    }
    const running = Promise.resolve().then(() => entry.update());
    entry.running = running;
    running
      .finally(() => {
        if (entry.running === running) entry.running = null;
      })
      .catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CollectorTimeoutError(`collector "${entry.name}" took longer than ${this.#timeoutMs} ms`),
          ),
        this.#timeoutMs,
      );
    });
    try {
      await Promise.race([running, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Sets an unlabelled counter that mirrors a total kept elsewhere (a drop shows up as a counter reset). */
export function setCounter(counter: Counter, value: number): void {
  counter.reset();
  counter.inc(nonNegative(value));
}

/** Replaces every series of a labelled counter with the given totals. */
export function setCounters<L extends string>(
  counter: Counter<L>,
  entries: Iterable<readonly [Partial<Record<L, string | number>>, number]>,
): void {
  counter.reset();
  for (const [labels, value] of entries) counter.inc(labels, nonNegative(value));
}

function nonNegative(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}
