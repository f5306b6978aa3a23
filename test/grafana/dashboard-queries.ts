/**
 * Reading the generated dashboards the way Grafana and Prometheus will: panels (rows
 * flattened), their queries, template variables substituted, metric names in PromQL.
 * Pure helpers shared by the unit test and the e2e test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DASHBOARDS_DIR = path.join(REPO, 'grafana/dashboards');

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}
export interface Target {
  refId?: string;
  expr?: string;
  instant?: boolean;
  range?: boolean;
  format?: string;
  datasource?: { type?: string; uid?: string };
}
export interface Panel {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  gridPos?: GridPos;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
  collapsed?: boolean;
}
export interface DashboardJson {
  uid: string;
  title: string;
  panels?: Panel[];
  templating?: { list?: { name: string; query?: unknown; datasource?: { uid?: string } }[] };
}

export function loadDashboards(dir = DASHBOARDS_DIR): { file: string; board: DashboardJson }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      board: JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as DashboardJson,
    }));
}

/** All panels including rows and the panels inside collapsed rows. */
export function allPanels(board: DashboardJson): Panel[] {
  return (board.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
  instant: boolean;
}

export function panelQueries(board: DashboardJson): PanelQuery[] {
  return allPanels(board).flatMap((panel) =>
    (panel.targets ?? [])
      .filter((t) => typeof t.expr === 'string')
      .map((t) => ({
        dashboard: board.uid,
        panel: panel.title ?? `#${panel.id}`,
        refId: t.refId ?? 'A',
        expr: t.expr as string,
        instant: t.instant === true && t.range !== true,
      })),
  );
}

/**
 * Replace Grafana's template variables ($name, ${name}, [[name]]) with values.
 * Throws for a variable without a value so that no query reaches Prometheus half-substituted.
 */
export function substituteVariables(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g, (whole, a, b, c) => {
    const name = (a ?? b ?? c) as string;
    const value = values[name];
    if (value === undefined) throw new Error(`no value for template variable ${whole} in: ${expr}`);
    return value;
  });
}

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'inf',
  'nan',
]);

/**
 * Metric names referenced by a PromQL expression: identifiers that are not functions or
 * aggregations (followed by "("), not keywords, not label names of grouping/matching clauses,
 * not inside label matchers, strings or range selectors.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const after = stripped.slice((match.index ?? 0) + word.length).trimStart();
    const before = stripped.slice(0, match.index ?? 0);
    if (after.startsWith('(')) continue;
    if (PROMQL_KEYWORDS.has(word.toLowerCase())) continue;
    // Exponents and durations of numbers (1e3, 5m) are not identifiers.
    if (/[0-9.]$/.test(before)) continue;
    names.add(word);
  }
  return [...names].sort();
}

/** Series a histogram or summary exposes under its documented base name. */
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

/** The metric names of the table in docs/metrics.md. */
export function documentedMetrics(markdown: string): Set<string> {
  const names = new Set<string>();
  for (const line of markdown.split('\n')) {
    const cell = /^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|/.exec(line);
    if (cell?.[1]) names.add(cell[1]);
  }
  return names;
}

/** Whether `name` (possibly a histogram's _sum/_count/_bucket) is one of `known`. */
export function isKnownMetric(name: string, known: ReadonlySet<string>): boolean {
  if (known.has(name)) return true;
  return HISTOGRAM_SUFFIXES.some(
    (suffix) => name.endsWith(suffix) && known.has(name.slice(0, -suffix.length)),
  );
}

/** Series Prometheus itself synthesises, which no exporter scrape contains. */
export const PROMETHEUS_SYNTHETIC = new Set(['up', 'ALERTS']);

/** Metric names present in a Prometheus text exposition. */
export function scrapedMetricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (name) names.add(name);
  }
  return names;
}
