/** What the alert and recording rules read, for the rules test and the alerting e2e test. */

/**
 * Series the rules use that the supervisor does not export: Prometheus' `up`, prom-client's default
 * process metrics of the supervisor, and the self-monitoring metrics of Prometheus and Alertmanager
 * (the alerting e2e test checks that these exist in real scrapes).
 */
export const SELF_MONITORING_METRICS = [
  'up',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'prometheus_rule_evaluation_failures_total',
  'prometheus_notifications_errors_total',
  'prometheus_notifications_sent_total',
  'prometheus_notifications_alertmanagers_discovered',
  'alertmanager_notifications_failed_total',
  'alertmanager_notifications_total',
];

const PROMQL_WORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
]);

/** Metric names an expression reads (recorded names included), found by stripping everything else. */
export function metricNamesIn(expr: string): Set<string> {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const after = stripped.slice(match.index! + word.length).trimStart();
    if (after.startsWith('(')) continue; // a function
    if (PROMQL_WORDS.has(word)) continue;
    if (/^\d/.test(word) || /^e\d+$/.test(word)) continue;
    names.add(word);
  }
  return names;
}
