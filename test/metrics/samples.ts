/** Reads series from a registry the way a scrape does (collect() hooks run). */
import type { Registry } from 'prom-client';

export interface Sample {
  name: string;
  labels: Record<string, string | number>;
  value: number;
}

export async function scrapeSamples(registry: Registry): Promise<Sample[]> {
  const families = await registry.getMetricsAsJSON();
  const samples: Sample[] = [];
  for (const family of families) {
    for (const value of family.values) {
      samples.push({
        name: (value as { metricName?: string }).metricName ?? family.name,
        labels: { ...(value.labels as Record<string, string | number>) },
        value: value.value,
      });
    }
  }
  return samples;
}

/** The value of the one sample with this name and (a superset of) these labels; throws otherwise. */
export function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string | number> = {},
): number {
  const found = seriesOf(samples, name, labels);
  if (found.length !== 1) {
    throw new Error(`expected one ${name}${JSON.stringify(labels)}, found ${found.length}`);
  }
  return found[0]!.value;
}

export function seriesOf(
  samples: Sample[],
  name: string,
  labels: Record<string, string | number> = {},
): Sample[] {
  return samples.filter(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(([key, value]) => String(sample.labels[key]) === String(value)),
  );
}

import { Registry as PromRegistry } from 'prom-client';
import type { Logger } from '../../src/logger.ts';
import {
  type CollectorDefinition,
  ScrapeCoordinator,
  type ScrapeCoordinatorOptions,
} from '../../src/metrics/scrape.ts';

/** A fresh registry with just these collectors (and the scrape_collector_* series). */
export function registryWith(logger: Logger, ...definitions: CollectorDefinition[]): Registry {
  return registryWithOptions(logger, {}, ...definitions);
}

export function registryWithOptions(
  logger: Logger,
  options: ScrapeCoordinatorOptions,
  ...definitions: CollectorDefinition[]
): Registry {
  const registry = new PromRegistry();
  const coordinator = new ScrapeCoordinator(registry, logger, options);
  for (const definition of definitions) coordinator.add(definition);
  return registry;
}
