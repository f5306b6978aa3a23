/** The dashboards this project provisions, rendered to the JSON files under grafana/dashboards/. Pure. */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { buildFleet } from './fleet.ts';
import { buildKioskOverview } from './kiosk-overview.ts';

export interface DashboardSource {
  /** File name under grafana/dashboards/. */
  file: string;
  build(): dashboard.Dashboard;
}

export const DASHBOARDS: readonly DashboardSource[] = [
  { file: 'kiosk-overview.json', build: buildKioskOverview },
  { file: 'fleet.json', build: buildFleet },
];

/** The exact text committed for a dashboard: stable key order from the builders, 2-space indent, final newline. */
export function renderDashboard(source: DashboardSource): string {
  return `${JSON.stringify(source.build(), null, 2)}\n`;
}

export function renderAll(): Map<string, string> {
  return new Map(DASHBOARDS.map((source) => [source.file, renderDashboard(source)]));
}
