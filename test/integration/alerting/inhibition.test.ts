/**
 * The inhibit rules of alerting/alertmanager.yml, exercised on a real prometheus-alertmanager:
 * alerts are posted to its API and we read back which ones it mutes and which reach the webhook.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { startAlertmanager, startHttpSink, tempDir, waitFor } from '../../alerting/servers.ts';

const REPO = new URL('../../..', import.meta.url).pathname;

interface ApiAlert {
  labels: Record<string, string>;
  status: { state: string; inhibitedBy: string[] };
}

const alert = (labels: Record<string, string>) => ({
  labels: { job: 'desktop-streamer', ...labels },
  annotations: { summary: 's', description: 'd', runbook_url: 'alerting/runbooks.md#x' },
});

test('Down mutes its own kiosk only, critical mutes warning of the same alert, failed stream mutes its symptoms', async (t) => {
  const dir = await tempDir('ds-inhibit-');
  t.after(() => dir.remove());
  const http = await startHttpSink();
  t.after(() => http.stop());

  // The repository config, with every receiver replaced by one local webhook.
  const config = parse(await readFile(join(REPO, 'alerting/alertmanager.yml'), 'utf8'));
  config.templates = [join(REPO, 'alerting/templates/*.tmpl')];
  config.route = {
    receiver: 'sink',
    group_by: ['alertname', 'kiosk'],
    group_wait: '1s',
    group_interval: '1s',
  };
  config.receivers = [
    { name: 'sink', webhook_configs: [{ url: `${http.url}/webhook`, send_resolved: true }] },
  ];
  const configPath = join(dir.path, 'alertmanager.yml');
  await writeFile(configPath, stringify(config));
  const alertmanager = await startAlertmanager(configPath, join(dir.path, 'data'));
  t.after(() => alertmanager.stop());

  const posted = [
    alert({ alertname: 'DesktopStreamerDown', severity: 'critical', kiosk: 'lobby', instance: 'a:8888' }),
    alert({
      alertname: 'DesktopStreamerHostHighCpu',
      severity: 'warning',
      kiosk: 'lobby',
      instance: 'a:8888',
    }),
    alert({
      alertname: 'DesktopStreamerHostHighCpu',
      severity: 'warning',
      kiosk: 'hall',
      instance: 'b:8888',
    }),
    alert({ alertname: 'DesktopStreamerDiskFilling', severity: 'warning', kiosk: 'hall', mountpoint: '/' }),
    alert({ alertname: 'DesktopStreamerDiskFilling', severity: 'critical', kiosk: 'hall', mountpoint: '/' }),
    alert({ alertname: 'DesktopStreamerStreamInactive', severity: 'critical', kiosk: 'foyer' }),
    alert({ alertname: 'DesktopStreamerFrameRateLow', severity: 'warning', kiosk: 'foyer' }),
    // "no target at all" (no kiosk label) must not mute alerts that have no kiosk either
    alert({ alertname: 'DesktopStreamerDown', severity: 'critical' }),
    {
      ...alert({
        alertname: 'DesktopStreamerNotificationsFailing',
        severity: 'critical',
        integration: 'email',
      }),
    },
  ];
  const response = await fetch(`${alertmanager.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(posted),
  });
  assert.equal(response.status, 200, await response.text());

  const key = (labels: Record<string, string>) =>
    `${labels.alertname}/${labels.severity}/${labels.kiosk ?? labels.integration ?? '-'}`;
  const states = await waitFor(
    'Alertmanager to process the alerts',
    async () => {
      const alerts = (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as ApiAlert[];
      return alerts.length === posted.length && alerts.every((a) => a.status.state !== 'unprocessed')
        ? alerts
        : null;
    },
    15_000,
  );
  const muted = states
    .filter((a) => a.status.state === 'suppressed')
    .map((a) => key(a.labels))
    .sort();
  assert.deepEqual(muted, [
    'DesktopStreamerDiskFilling/warning/hall',
    'DesktopStreamerFrameRateLow/warning/foyer',
    'DesktopStreamerHostHighCpu/warning/lobby',
  ]);

  // And what is muted is never delivered; everything else is.
  await waitFor('six notifications', () => http.requests.length >= 6, 15_000);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const delivered = http.requests
    .flatMap((request) => (request.body as { alerts: { labels: Record<string, string> }[] }).alerts)
    .map((a) => key(a.labels))
    .sort();
  assert.deepEqual(delivered, [
    'DesktopStreamerDiskFilling/critical/hall',
    'DesktopStreamerDown/critical/-',
    'DesktopStreamerDown/critical/lobby',
    'DesktopStreamerHostHighCpu/warning/hall',
    'DesktopStreamerNotificationsFailing/critical/email',
    'DesktopStreamerStreamInactive/critical/foyer',
  ]);
});
