/**
 * The Prometheus side of alerting, checked with the real promtool: syntax, the unit tests in
 * alerting/tests/, and the conventions promtool does not know about (labels, annotations,
 * runbook anchors, metric names from docs/metrics.md).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { runbookBaseUrl } from '../../../alerting/build.ts';
import { metricNamesIn, SELF_MONITORING_METRICS } from '../../alerting/rule-metrics.ts';

const run = promisify(execFile);
const REPO = new URL('../../..', import.meta.url).pathname;
const RULES_DIR = join(REPO, 'alerting/rules');
const TESTS_DIR = join(REPO, 'alerting/tests');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

async function files(dir: string, suffix: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith(suffix)).map((name) => join(dir, name));
}

async function loadRules(): Promise<Rule[]> {
  const rules: Rule[] = [];
  for (const file of await files(RULES_DIR, '.yml')) {
    const doc = parse(await readFile(file, 'utf8')) as { groups: { rules: Rule[] }[] };
    for (const group of doc.groups) rules.push(...group.rules);
  }
  return rules;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const match of markdown.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    anchors.add(
      match[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    );
  }
  return anchors;
}

test('promtool check rules accepts every rule file', async () => {
  const { stdout } = await run('promtool', ['check', 'rules', ...(await files(RULES_DIR, '.yml'))]);
  assert.doesNotMatch(stdout, /FAILED/);
});

test('promtool test rules passes every unit test in alerting/tests', async () => {
  const { stdout, stderr } = await run(
    'promtool',
    ['test', 'rules', ...(await files(TESTS_DIR, '.test.yml'))],
    {
      cwd: REPO,
    },
  ).catch((error: { stdout: string; stderr: string }) => {
    assert.fail(`promtool test rules failed:\n${error.stdout}\n${error.stderr}`);
  });
  assert.doesNotMatch(stdout + stderr, /FAILED/);
  assert.match(stdout, /SUCCESS/);
});

test('promtool check config accepts prometheus/prometheus.yml with the rule files', async () => {
  const { stdout } = await run('promtool', ['check', 'config', join(REPO, 'prometheus/prometheus.yml')]);
  assert.match(stdout, /SUCCESS: 2 rule files found/);
});

test('every alert is DesktopStreamer…, has a severity, summary, description and an existing runbook anchor', async () => {
  const alerts = (await loadRules()).filter((rule) => rule.alert);
  assert.ok(alerts.length >= 20, `only ${alerts.length} alerts`);
  const anchors = anchorsOf(await readFile(join(REPO, 'alerting/runbooks.md'), 'utf8'));
  const base = runbookBaseUrl(await readFile(join(REPO, 'alerting/mixin.yml'), 'utf8'));
  for (const rule of alerts) {
    const name = rule.alert!;
    assert.match(name, /^DesktopStreamer[A-Z][A-Za-z0-9]*$/, name);
    assert.ok(['critical', 'warning', 'info'].includes(rule.labels?.severity ?? ''), `${name}: severity`);
    const { summary, description, runbook_url: runbook } = rule.annotations ?? {};
    assert.ok(summary && !summary.includes('{{'), `${name}: summary must be a static sentence`);
    assert.ok(description?.includes('{{'), `${name}: description must be templated`);
    assert.equal(runbook, `${base}#${name.toLowerCase()}`, `${name}: runbook_url (npm run alerting:build)`);
    assert.ok(anchors.has(name.toLowerCase()), `${name}: no "## ${name}" section in alerting/runbooks.md`);
  }
});

test('every alert has a promtool test case where it fires and one where it does not', async () => {
  const alertNames = new Set((await loadRules()).filter((rule) => rule.alert).map((rule) => rule.alert!));
  const firing = new Set<string>();
  const quiet = new Set<string>();
  for (const file of await files(TESTS_DIR, '.test.yml')) {
    const doc = parse(await readFile(file, 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts?: { exp_annotations?: object }[] }[] }[];
    };
    for (const testCase of doc.tests) {
      for (const check of testCase.alert_rule_test ?? []) {
        const expected = check.exp_alerts ?? [];
        if (expected.length === 0) quiet.add(check.alertname);
        else {
          firing.add(check.alertname);
          for (const alert of expected)
            assert.ok(alert.exp_annotations, `${check.alertname}: annotations not checked`);
        }
      }
    }
  }
  for (const name of alertNames) {
    assert.ok(firing.has(name), `${name}: no firing test case`);
    // The dead man's switch cannot be quiet: it is vector(1) (checked below).
    if (name !== 'DesktopStreamerWatchdog') assert.ok(quiet.has(name), `${name}: no not-firing test case`);
  }
  const watchdog = (await loadRules()).find((rule) => rule.alert === 'DesktopStreamerWatchdog');
  assert.equal(watchdog?.expr, 'vector(1)', 'the watchdog always fires');
});

test('every metric name used in the rules is in docs/metrics.md, recorded by a rule, or a known self-monitoring metric', async () => {
  const rules = await loadRules();
  const docs = await readFile(join(REPO, 'docs/metrics.md'), 'utf8');
  const documented = new Set([...docs.matchAll(/`(desktop_streamer_[a-z0-9_]+)`/g)].map((m) => m[1]!));
  const recorded = new Set(rules.filter((rule) => rule.record).map((rule) => rule.record!));
  const used = new Set<string>();
  for (const rule of rules) for (const name of metricNamesIn(rule.expr)) used.add(name);
  assert.ok(
    used.has('desktop_streamer_hls_last_segment_timestamp_seconds'),
    'the name extraction finds nothing',
  );
  for (const name of used) {
    if (name.includes(':')) assert.ok(recorded.has(name), `${name} is used but no rule records it`);
    else if (name.startsWith('desktop_streamer_'))
      assert.ok(documented.has(name), `${name} is not in docs/metrics.md`);
    else
      assert.ok(
        SELF_MONITORING_METRICS.includes(name),
        `${name} is neither ours nor a known self-monitoring metric`,
      );
  }
});

test('metricNamesIn skips functions, keywords, labels and ranges', () => {
  assert.deepEqual(
    [
      ...metricNamesIn(
        'sum by (job, kiosk) (rate(a_total{reason!="x"}[5m])) > on (job) group_left () 0.5 * b and c == 1 or absent(up{job="d"})',
      ),
    ].sort(),
    ['a_total', 'b', 'c', 'up'],
  );
});
