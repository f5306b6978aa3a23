/**
 * A kiosk fleet end to end: three real supervisors on one virtual two-monitor rig, scraped by one
 * real Prometheus through the repository's own prometheus/prometheus.yml (file service discovery,
 * a `kiosk` label per target) with the repository's real rule files. Proves that
 *   - every series carries its kiosk (pipeline_up, capture_info with each kiosk's geometry);
 *   - the `kiosk:` recording rules evaluate once per kiosk;
 *   - the Fleet dashboard's table queries (from grafana/dashboards/fleet.json) give one row per kiosk;
 *   - one kiosk going away makes only its `up` 0 and only its DesktopStreamerDown pending, then
 *     firing after the rule's real `for: 1m`;
 *   - prometheus.yml's commented remote_write example, uncommented, delivers the fleet's series,
 *     recording rules and alerts (with the external label) to a long-term store — a second
 *     Prometheus with its remote-write receiver — and keeps Prometheus' own metrics local.
 *
 * Lean settings (5 fps, 320x180, 300 kbit/s): three pipelines share the machine's two cores.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { FLEET_UID } from '../../grafana/src/fleet.ts';
import { freePort, promQuery, startPrometheus, tempDir, waitFor } from '../alerting/servers.ts';
import {
  allPanels,
  loadDashboards,
  type PanelQuery,
  panelQueries,
  substituteVariables,
} from '../grafana/dashboard-queries.ts';
import { startRig } from '../helpers/rig.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const REPO = new URL('../..', import.meta.url).pathname;
const JOB = 'desktop-streamer';
const LEAN = { fps: 5, width: 320, height: 180, bitrate: 300 };

/** Rig layout (test/helpers/rig.ts): DUMMY0 1920x1080+0+0 primary, DUMMY1 1280x720+1920+0. */
const KIOSKS = [
  { name: 'fleet-lobby', monitor: 'auto' as const, geometry: '1280x720+1920+0' },
  { name: 'fleet-hall', monitor: 'auto' as const, geometry: '1280x720+1920+0' },
  { name: 'fleet-window', monitor: 0, geometry: '1920x1080+0+0' },
];
const NAMES = KIOSKS.map((k) => k.name).sort();
const STOPPED = 'fleet-hall';

/** Fleet table queries allowed to return no rows at all on this machine, with the reason. */
const TABLE_QUERIES_ALLOWED_EMPTY = new Map<string, string>([
  ['G', 'VRAM in use: the rig has no GPU, so no desktop_streamer_drm_* series exist'],
  ['H', 'VRAM share of the limit: the rig has no GPU, so no desktop_streamer_drm_* series exist'],
]);

type Vector = Awaited<ReturnType<typeof promQuery>>;

const kiosksOf = (vector: Vector) => vector.map((s) => s.metric.kiosk ?? '').sort();

/** What Grafana puts into `kiosk=~"$kiosk"` for a multi-value selection. */
function multiValueRegex(values: string[]): string {
  return `(${values.map((v) => v.replace(/[\\^$*+?.()|[\]{}]/g, '\\\\$&')).join('|')})`;
}

/**
 * The commented `remote_write:` example at the end of prometheus/prometheus.yml, uncommented: what
 * an operator gets by removing the leading "# ".
 */
function remoteWriteExample(
  prometheusYml: string,
): { url: string; basic_auth?: { password_file?: string } }[] {
  const lines = prometheusYml.split('\n');
  const start = lines.indexOf('# remote_write:');
  assert.ok(start >= 0, 'prometheus/prometheus.yml has a commented remote_write example');
  const block = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('#')) break;
    block.push(line.replace(/^# ?/, ''));
  }
  const example = parse(block.join('\n')) as { remote_write?: { url: string }[] };
  assert.ok(
    Array.isArray(example.remote_write) && example.remote_write.length === 1,
    'one remote_write entry',
  );
  return example.remote_write;
}

/**
 * prometheus/prometheus.yml with test timings: 1 s scrape/evaluation, the fleet from `targetsFile`,
 * Prometheus scraping itself on `selfPort` (series that remote_write must leave out), no
 * Alertmanager, and its remote_write example writing to `storeUrl` (another Prometheus with the
 * remote-write receiver, standing in for Thanos Receive, Mimir or VictoriaMetrics).
 */
async function fleetPrometheusConfig(
  dir: string,
  targetsFile: string,
  selfPort: number,
  storeUrl: string,
): Promise<string> {
  const text = await readFile(join(REPO, 'prometheus/prometheus.yml'), 'utf8');
  const config = parse(text);
  config.global.scrape_interval = '1s';
  config.global.evaluation_interval = '1s';
  config.rule_files = [join(REPO, 'alerting/rules/*.yml')];
  delete config.alerting;
  config.scrape_configs = config.scrape_configs.filter((job: { job_name: string }) =>
    [JOB, 'prometheus'].includes(job.job_name),
  );
  for (const job of config.scrape_configs)
    Object.assign(job, { scrape_interval: '1s', scrape_timeout: '1s' });
  const fleetJob = config.scrape_configs.find((job: { job_name: string }) => job.job_name === JOB);
  assert.ok(fleetJob?.file_sd_configs, `prometheus/prometheus.yml has a file-SD job "${JOB}"`);
  fleetJob.file_sd_configs = [{ files: [targetsFile], refresh_interval: '1s' }];
  const selfJob = config.scrape_configs.find((job: { job_name: string }) => job.job_name === 'prometheus');
  selfJob.static_configs = [{ targets: [`127.0.0.1:${selfPort}`] }];

  const [remoteWrite] = remoteWriteExample(text);
  assert.ok(remoteWrite);
  remoteWrite.url = `${storeUrl}/api/v1/write`;
  if (remoteWrite.basic_auth?.password_file) {
    remoteWrite.basic_auth.password_file = join(dir, 'remote-write-password');
    await writeFile(remoteWrite.basic_auth.password_file, 'not-checked-by-the-test-store\n', { mode: 0o600 });
  }
  config.remote_write = [{ ...remoteWrite, queue_config: { batch_send_deadline: '1s' } }];

  const path = join(dir, 'prometheus.yml');
  await writeFile(path, stringify(config));
  return path;
}

test('a fleet of three kiosks in one Prometheus: per-kiosk series, rules, dashboard rows and Down alert', {
  timeout: 420_000,
}, async (t) => {
  const began = Date.now();
  const scratch = await tempDir('fleet-e2e-');
  const stacks = new Map<string, Stack>();
  let stopPrometheus: (() => Promise<void>) | undefined;
  let stopStore: (() => Promise<void>) | undefined;
  let stopRig: (() => Promise<void>) | undefined;
  t.after(async () => {
    await stopPrometheus?.();
    await stopStore?.();
    await Promise.allSettled([...stacks.values()].map((s) => s.stop()));
    await stopRig?.();
    await scratch.remove();
  });

  const rig = await startRig();
  stopRig = () => rig.stop();
  // One after the other: three tsx start-ups at once on two cores only make each slower.
  for (const kiosk of KIOSKS) {
    const stack = await startStack({
      rig,
      config: { ...LEAN, kiosk_name: kiosk.name, monitor: kiosk.monitor },
    });
    stacks.set(kiosk.name, stack);
  }
  const hasSegment = (text: string) => text.split('\n').some((line) => line.endsWith('.ts'));
  await Promise.all([...stacks.values()].map((s) => s.waitForPlaylist(hasSegment, 90_000)));
  t.diagnostic(`three supervisors streaming after ${Date.now() - began} ms`);

  // The file-SD list, in the format of prometheus/targets/kiosks.example.yml.
  const example = parse(await readFile(join(REPO, 'prometheus/targets/kiosks.example.yml'), 'utf8'));
  assert.ok(
    Array.isArray(example) && example.every((group) => Array.isArray(group.targets) && group.labels?.kiosk),
    'kiosks.example.yml is a file-SD list whose groups have targets and a kiosk label',
  );
  const targetsFile = join(scratch.path, 'kiosks.yml');
  const instanceOf = new Map(KIOSKS.map((k) => [k.name, `127.0.0.1:${stacks.get(k.name)?.port}`]));
  await writeFile(
    targetsFile,
    stringify(KIOSKS.map((k) => ({ targets: [instanceOf.get(k.name)], labels: { kiosk: k.name } }))),
  );

  const storeConfig = join(scratch.path, 'store.yml');
  await writeFile(storeConfig, stringify({ global: { evaluation_interval: '1s' } }));
  const store = await startPrometheus(storeConfig, join(scratch.path, 'store-tsdb'), undefined, [
    '--web.enable-remote-write-receiver',
  ]);
  stopStore = () => store.stop();
  const selfPort = await freePort();
  const prometheus = await startPrometheus(
    await fleetPrometheusConfig(scratch.path, targetsFile, selfPort, store.url),
    join(scratch.path, 'tsdb'),
    selfPort,
  );
  stopPrometheus = () => prometheus.stop();
  const query = (expr: string) => promQuery(prometheus.url, expr);
  // A few scrapes of every kiosk, so that rate()/increase() have two samples each.
  await waitFor(
    'five successful scrapes of each of the three kiosks',
    async () =>
      (await query(`count_over_time(up{job="${JOB}"}[1m]) >= 5 and up{job="${JOB}"} == 1`)).length === 3,
    60_000,
  );
  t.diagnostic(`Prometheus scraped all three ≥ 5 times after ${Date.now() - began} ms`);

  await t.test('every kiosk has its own series, labelled by file SD', async () => {
    const up = await query(`desktop_streamer_pipeline_up{job="${JOB}"}`);
    assert.deepEqual(kiosksOf(up), NAMES, 'one desktop_streamer_pipeline_up series per kiosk');
    for (const series of up) {
      assert.equal(series.metric.instance, instanceOf.get(series.metric.kiosk ?? ''), 'instance ↔ kiosk');
      assert.equal(series.value[1], '1', `${series.metric.kiosk} is streaming`);
    }
    const info = await query(`desktop_streamer_capture_info{job="${JOB}"}`);
    assert.deepEqual(kiosksOf(info), NAMES, 'one desktop_streamer_capture_info series per kiosk');
    for (const kiosk of KIOSKS) {
      const labels = info.find((s) => s.metric.kiosk === kiosk.name)?.metric ?? {};
      assert.equal(labels.geometry, kiosk.geometry, `${kiosk.name} captures ${kiosk.geometry}`);
      assert.equal(labels.width, '320', `${kiosk.name} output width`);
      assert.equal(labels.height, '180', `${kiosk.name} output height`);
      assert.equal(labels.fps, '5', `${kiosk.name} fps`);
      // The supervisor's own kiosk label loses to the target's (honor_labels: false) and is kept
      // as exported_kiosk; both name the same kiosk when kiosk_name matches the inventory.
      assert.equal(labels.exported_kiosk, kiosk.name, `${kiosk.name} exported_kiosk`);
    }
    const samples = await query(`scrape_samples_scraped{job="${JOB}"}`);
    t.diagnostic(
      `pipeline_up: ${up.length} series; capture_info: ${info.length} series; samples per scrape: ${samples
        .map((s) => `${s.metric.kiosk}=${s.value[1]}`)
        .join(', ')}`,
    );
  });

  await t.test('the kiosk: recording rules evaluate once per kiosk', async () => {
    const rules = await fetch(`${prometheus.url}/api/v1/rules?type=record`).then(
      (r) => r.json() as Promise<{ data: { groups: { rules: { name: string; health: string }[] }[] } }>,
    );
    const recorded = rules.data.groups.flatMap((g) => g.rules).filter((r) => r.name.startsWith('kiosk:'));
    assert.ok(recorded.length >= 5, `the real rule files define kiosk: rules (${recorded.length})`);
    const counts: string[] = [];
    for (const rule of recorded) {
      assert.equal(rule.health, 'ok', `${rule.name} evaluates without error`);
      // Every one has inputs on a healthy kiosk: the counters are exported at 0 from the start.
      // Series appear on the evaluation after their inputs' second scrape; allow a few seconds.
      const vector = await waitFor(
        `${rule.name} for all three kiosks`,
        async () => {
          const v = await query(rule.name);
          return kiosksOf(v).join() === NAMES.join() ? v : false;
        },
        20_000,
      ).catch(() => query(rule.name));
      counts.push(`${rule.name}=${vector.length}`);
      assert.deepEqual(kiosksOf(vector), NAMES, `${rule.name} has one series per kiosk`);
    }
    t.diagnostic(`recording rule series: ${counts.join(', ')}`);
  });

  const fleet = loadDashboards().find(({ board }) => board.uid === FLEET_UID)?.board;
  assert.ok(fleet, `grafana/dashboards has the ${FLEET_UID} dashboard`);
  const tableQueries: PanelQuery[] = panelQueries({
    ...fleet,
    panels: allPanels(fleet).filter((panel) => panel.type === 'table'),
  });
  assert.ok(tableQueries.length >= 5, `the Fleet dashboard has table queries (${tableQueries.length})`);

  for (const [label, kioskValue] of [
    ['All selected', '.*'],
    ['all three selected', multiValueRegex(NAMES)],
  ] as const) {
    await t.test(`the Fleet table gives one row per kiosk (${label})`, async () => {
      const rows: string[] = [];
      for (const q of tableQueries) {
        const expr = substituteVariables(q.expr, { kiosk: kioskValue });
        const vector = await query(expr);
        const kiosks = kiosksOf(vector);
        rows.push(`${q.refId}=${vector.length}`);
        if (vector.length === 0 && TABLE_QUERIES_ALLOWED_EMPTY.has(q.refId)) continue;
        assert.deepEqual(kiosks, NAMES, `${q.panel} / ${q.refId} has one row per kiosk: ${expr}`);
        for (const series of vector) {
          assert.equal(
            series.metric.instance,
            instanceOf.get(series.metric.kiosk ?? ''),
            `${q.refId} instance`,
          );
        }
      }
      t.diagnostic(`table rows per query: ${rows.join(', ')}`);
    });
  }

  await t.test(`stopping ${STOPPED} makes only it down, and only its DesktopStreamerDown alert`, async () => {
    await stacks.get(STOPPED)?.stop();
    const stoppedAt = Date.now();

    const up = await waitFor(
      `up{kiosk="${STOPPED}"} == 0`,
      async () => {
        const v = await query(`up{job="${JOB}"}`);
        return v.find((s) => s.metric.kiosk === STOPPED)?.value[1] === '0' ? v : false;
      },
      15_000,
    );
    const downAfter = Date.now() - stoppedAt;
    for (const series of up) {
      assert.equal(
        series.value[1],
        series.metric.kiosk === STOPPED ? '0' : '1',
        `up of ${series.metric.kiosk}`,
      );
    }
    assert.equal(up.length, 3);

    const unreachableStat = panelQueries(fleet).find((q) => q.panel === 'Kiosks unreachable');
    assert.ok(unreachableStat, 'the Fleet dashboard has a "Kiosks unreachable" stat');
    const unreachable = await query(substituteVariables(unreachableStat.expr, { kiosk: '.*' }));
    assert.equal(unreachable[0]?.value[1], '1', 'the Fleet dashboard counts one unreachable kiosk');

    const alertsIn = async (state: 'pending' | 'firing') => {
      const alerts = await query(`ALERTS{alertname="DesktopStreamerDown"}`);
      assert.ok(
        alerts.every((a) => a.metric.kiosk === STOPPED),
        `DesktopStreamerDown only for ${STOPPED}: ${JSON.stringify(alerts.map((a) => a.metric))}`,
      );
      return alerts.find((a) => a.metric.alertstate === state) ?? false;
    };
    const pending = await waitFor('DesktopStreamerDown pending', () => alertsIn('pending'), 15_000);
    const pendingAfter = Date.now() - stoppedAt;
    assert.equal(pending.metric.instance, instanceOf.get(STOPPED));
    assert.equal(pending.metric.severity, 'critical');

    // The rule's real `for: 1m`: firing about a minute after the first failed scrape.
    const firing = await waitFor('DesktopStreamerDown firing', () => alertsIn('firing'), 90_000, 1000);
    const firingAfter = Date.now() - stoppedAt;
    assert.equal(firing.metric.instance, instanceOf.get(STOPPED));
    assert.ok(firingAfter >= 55_000, `firing only after its for: 1m (${firingAfter} ms)`);

    const stillUp = await query(`up{job="${JOB}"} == 1`);
    assert.deepEqual(
      kiosksOf(stillUp),
      NAMES.filter((n) => n !== STOPPED),
      'the other two stay up',
    );
    const firingFleet = await query(
      substituteVariables(tableQueries.find((q) => q.expr.includes('ALERTS'))?.expr ?? 'vector(0)', {
        kiosk: '.*',
      }),
    );
    const firingByKiosk = Object.fromEntries(firingFleet.map((s) => [s.metric.kiosk, s.value[1]]));
    assert.ok(Number(firingByKiosk[STOPPED]) >= 1, `Fleet table counts a firing alert for ${STOPPED}`);
    t.diagnostic(
      `after stop: up==0 seen at +${downAfter} ms, DesktopStreamerDown pending at +${pendingAfter} ms, firing at +${firingAfter} ms`,
    );
  });
  await t.test(
    "prometheus.yml's remote_write example delivers the fleet, and only the fleet, to a store",
    async () => {
      const stored = (expr: string) => promQuery(store.url, expr);
      const up = await waitFor(
        "the three kiosks' up series in the store",
        async () => {
          const v = await stored(`up{job="${JOB}"}`);
          return v.length === 3 ? v : false;
        },
        20_000,
      );
      assert.deepEqual(kiosksOf(up), NAMES);
      for (const series of up) {
        assert.equal(series.metric.instance, instanceOf.get(series.metric.kiosk ?? ''));
        assert.equal(
          series.metric.monitor,
          'desktop-streamer',
          'the external label travels with every sample',
        );
      }
      const rule = 'kiosk:desktop_streamer_unit_cpu_seconds:rate5m';
      assert.deepEqual(kiosksOf(await stored(rule)), NAMES, `${rule} reaches the store per kiosk`);
      const down = await waitFor(
        'DesktopStreamerDown in the store',
        async () => {
          const v = await stored('ALERTS{alertname="DesktopStreamerDown"}');
          return v.length > 0 ? v : false;
        },
        20_000,
      );
      assert.deepEqual(kiosksOf(down), [STOPPED], 'alert history reaches the store');
      // Prometheus' own metrics are scraped locally but filtered out of remote_write.
      assert.ok((await query('{job="prometheus", __name__!="ALERTS"}')).length > 100, 'self-scrape works');
      assert.deepEqual(await stored('{job="prometheus", __name__!="ALERTS"}'), [], 'self-metrics stay local');
      const storedSeries = await stored(`count({job="${JOB}"})`);
      t.diagnostic(`store holds ${storedSeries[0]?.value[1]} series of job ${JOB}`);
    },
  );
  t.diagnostic(`total ${Date.now() - began} ms`);
});
