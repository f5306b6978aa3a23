/**
 * A real Prometheus (/usr/bin/prometheus) scraping the given targets every second, for the
 * dashboard tests (test/integration/grafana/): the launcher of test/alerting/servers.ts plus a
 * scrape config and a small query helper. Stopped (and its files removed) by stop().
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { startPrometheus as startPrometheusDaemon, tempDir } from '../alerting/servers.ts';

export interface ScrapeTarget {
  address: string;
  labels: Record<string, string>;
}

export interface TestPrometheus {
  url: string;
  /** GET /api/v1/<endpoint> and return `data`; throws on an error status. */
  api<T = unknown>(endpoint: string, params: Record<string, string | string[]>): Promise<T>;
  stop(): Promise<void>;
}

export async function startPrometheus(options: {
  job: string;
  targets: ScrapeTarget[];
}): Promise<TestPrometheus> {
  const dir = await tempDir('prometheus-e2e-');
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: [
      {
        job_name: options.job,
        static_configs: options.targets.map((t) => ({ targets: [t.address], labels: t.labels })),
      },
    ],
  };
  const configFile = path.join(dir.path, 'prometheus.yml');
  await writeFile(configFile, stringify(config));
  let daemon: Awaited<ReturnType<typeof startPrometheusDaemon>>;
  try {
    daemon = await startPrometheusDaemon(configFile, path.join(dir.path, 'data'));
  } catch (error) {
    await dir.remove();
    throw error;
  }
  const { url } = daemon;

  const api = async <T>(endpoint: string, params: Record<string, string | string[]>): Promise<T> => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      for (const v of Array.isArray(value) ? value : [value]) search.append(key, v);
    }
    const response = await fetch(`${url}/api/v1/${endpoint}?${search}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${endpoint} ${search}: ${body.error ?? response.status}`);
    return body.data;
  };

  return {
    url,
    api,
    stop: async () => {
      await daemon.stop();
      await dir.remove();
    },
  };
}
