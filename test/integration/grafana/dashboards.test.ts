/**
 * The generated dashboards: up to date with grafana/src, structurally sound for Grafana
 * (ids, grid, datasource, descriptions), and every query is valid PromQL (real promtool)
 * that only uses metrics of the contract in docs/metrics.md.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse, stringify } from 'yaml';
import { outdatedDashboards } from '../../../grafana/build.ts';
import { DATASOURCE_UID } from '../../../grafana/src/common.ts';
import { DASHBOARDS } from '../../../grafana/src/index.ts';
import {
  allPanels,
  DASHBOARDS_DIR,
  documentedMetrics,
  type GridPos,
  isKnownMetric,
  loadDashboards,
  metricNames,
  PROMETHEUS_SYNTHETIC,
  panelQueries,
  REPO,
  substituteVariables,
} from '../../grafana/dashboard-queries.ts';

const run = promisify(execFile);
const dashboards = loadDashboards();

/** Values a Grafana user would have: one kiosk selected, Grafana's own interval variables. */
const SAMPLE_VARIABLES = {
  kiosk: 'lobby',
  instance: '127.0.0.1:8888',
  __rate_interval: '1m',
  __interval: '15s',
  __range: '1h',
};

function overlaps(a: GridPos, b: GridPos): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

describe('generated dashboards', () => {
  it('are exactly what grafana/src builds (npm run dashboards:check)', async () => {
    assert.deepEqual(await outdatedDashboards(), []);
    assert.deepEqual(dashboards.map((d) => d.file).sort(), DASHBOARDS.map((d) => d.file).sort());
  });

  it('the check notices an edited, a missing and an orphaned file', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dashboards-check-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await cp(DASHBOARDS_DIR, dir, { recursive: true });
    assert.deepEqual(await outdatedDashboards(dir), []);
    const [first, second] = DASHBOARDS;
    assert.ok(first && second);
    const edited = JSON.parse(await readFile(path.join(dir, first.file), 'utf8'));
    edited.title = 'edited by hand';
    await writeFile(path.join(dir, first.file), JSON.stringify(edited, null, 2));
    await rm(path.join(dir, second.file));
    await writeFile(path.join(dir, 'orphan.json'), '{}');
    assert.deepEqual(
      (await outdatedDashboards(dir)).sort(),
      [
        `${first.file}: differs from grafana/src`,
        `${second.file}: missing`,
        'orphan.json: has no source in grafana/src',
      ].sort(),
    );
  });

  it('have unique uids', () => {
    const uids = dashboards.map((d) => d.board.uid);
    assert.equal(new Set(uids).size, uids.length);
  });

  for (const { file, board } of dashboards) {
    describe(file, () => {
      const panels = allPanels(board);

      it('has unique panel ids', () => {
        const ids = panels.map((p) => p.id);
        assert.ok(
          ids.every((id) => Number.isInteger(id)),
          'every panel has an id',
        );
        assert.equal(new Set(ids).size, ids.length, `duplicate ids in ${ids.join(',')}`);
      });

      it('lays panels out inside 24 columns without overlaps', () => {
        const placed = panels.map((p) => ({ title: p.title ?? p.type, pos: p.gridPos }));
        for (const { title, pos } of placed) {
          assert.ok(pos, `${title}: no gridPos`);
          assert.ok(pos.x >= 0 && pos.y >= 0 && pos.w > 0 && pos.h > 0, `${title}: ${JSON.stringify(pos)}`);
          assert.ok(pos.x + pos.w <= 24, `${title}: ends at column ${pos.x + pos.w}`);
        }
        for (let i = 0; i < placed.length; i++) {
          for (let j = i + 1; j < placed.length; j++) {
            const a = placed[i];
            const b = placed[j];
            assert.ok(a?.pos && b?.pos);
            assert.ok(!overlaps(a.pos, b.pos), `"${a.title}" overlaps "${b.title}"`);
          }
        }
      });

      it('uses only the provisioned datasource', () => {
        for (const panel of panels) {
          if (panel.type === 'row') continue;
          assert.equal(panel.datasource?.uid, DATASOURCE_UID, `${panel.title}: panel datasource`);
          for (const target of panel.targets ?? []) {
            assert.equal(
              target.datasource?.uid,
              DATASOURCE_UID,
              `${panel.title} ${target.refId}: query datasource`,
            );
          }
        }
        for (const variable of board.templating?.list ?? []) {
          assert.equal(variable.datasource?.uid, DATASOURCE_UID, `variable ${variable.name}`);
        }
      });

      it('gives every panel a description and at least one query', () => {
        for (const panel of panels) {
          if (panel.type === 'row') continue;
          assert.ok((panel.description ?? '').trim().length >= 20, `${panel.title}: description`);
          assert.ok((panel.targets ?? []).length > 0, `${panel.title}: no query`);
        }
      });
    });
  }

  it('refer to the uid the datasource provisioning gives Prometheus', async () => {
    const text = await readFile(path.join(REPO, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8');
    const { datasources } = parse(text) as { datasources: { type: string; uid: string }[] };
    const prometheus = datasources.filter((d) => d.type === 'prometheus');
    assert.deepEqual(
      prometheus.map((d) => d.uid),
      [DATASOURCE_UID],
    );
  });
});

describe('dashboard queries', () => {
  const queries = dashboards.flatMap(({ board }) => panelQueries(board));

  it('only use metrics of docs/metrics.md (or Prometheus/prom-client built-ins)', async () => {
    const documented = documentedMetrics(await readFile(path.join(REPO, 'docs/metrics.md'), 'utf8'));
    assert.ok(documented.size > 40, `parsed ${documented.size} names from docs/metrics.md`);
    // The contract includes prom-client's default process_* / nodejs_* series: ask prom-client which.
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const defaults = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const unknown = queries.flatMap((q) =>
      metricNames(q.expr)
        .filter((name) => !PROMETHEUS_SYNTHETIC.has(name))
        .filter((name) => !isKnownMetric(name, documented))
        .filter(
          (name) =>
            !((name.startsWith('process_') || name.startsWith('nodejs_')) && isKnownMetric(name, defaults)),
        )
        .map((name) => `${q.dashboard} / ${q.panel} / ${q.refId}: ${name}`),
    );
    assert.deepEqual(unknown, []);
  });

  it('are valid PromQL once template variables are substituted (promtool)', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dashboard-promql-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const rules = queries.map((q, index) => ({
      record: `dashboard:query_${index}`,
      expr: substituteVariables(q.expr, SAMPLE_VARIABLES),
    }));
    const file = path.join(dir, 'queries.yml');
    await writeFile(file, stringify({ groups: [{ name: 'dashboards', rules }] }));
    const { stdout } = await run('promtool', ['check', 'rules', file]);
    assert.match(stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  it('promtool rejects a broken query, so the check above is real', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dashboard-promql-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'broken.yml');
    await writeFile(
      file,
      stringify({ groups: [{ name: 'x', rules: [{ record: 'x:y', expr: 'sum by (a (up)' }] }] }),
    );
    await assert.rejects(run('promtool', ['check', 'rules', file]));
  });
});

describe('metricNames', () => {
  it('finds metrics, not functions, keywords, labels, strings or durations', () => {
    assert.deepEqual(
      metricNames(
        'sum by (kiosk, instance) (increase(desktop_streamer_pipeline_restarts_total{job="x", reason=~"a|b"}[24h]))\n' +
          'or on (kiosk) (0 * max by (kiosk) (up{job="desktop-streamer"}))',
      ),
      ['desktop_streamer_pipeline_restarts_total', 'up'],
    );
    assert.deepEqual(
      metricNames(
        'a_info{x="y"} * on (instance) group_left (version) b_info - 1e3 + time() and c offset 5m / vector(0)',
      ),
      ['a_info', 'b_info', 'c'],
    );
    assert.deepEqual(metricNames('ALERTS{alertstate="firing", kiosk=~"$kiosk"}'), ['ALERTS']);
  });

  it('substitutes every Grafana variable syntax and refuses unknown ones', () => {
    assert.equal(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${var} syntax is the input under test
      substituteVariables('x{k=~"$kiosk", i=~"${instance}"}[$__rate_interval] [[kiosk]]', {
        kiosk: 'a',
        instance: 'b',
        __rate_interval: '1m',
      }),
      'x{k=~"a", i=~"b"}[1m] a',
    );
    assert.throws(() => substituteVariables('x[$__range]', {}), /__range/);
  });
});
