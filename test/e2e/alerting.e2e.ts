/**
 * Alerting end to end, with real servers on loopback:
 *   the real supervisor on the virtual two-monitor rig (test/helpers/stack.ts)
 *   → Debian's prometheus (scrape + evaluation every 1 s) with the REAL rule files of alerting/rules
 *   → Debian's prometheus-alertmanager with alerting/alertmanager.yml and its templates
 *   → an SMTP server (STARTTLS + AUTH) and an HTTP receiver standing in for Slack, Discord and the webhook.
 *
 * The configurations are the repository's own, changed only where a test must: loopback addresses
 * and ports, temp secret files, 1 s intervals, and group_wait/group_interval of 1 s/2 s instead of
 * 30 s/5 m. The rules' `for:` durations are the real ones (StreamInactive: 5 segment durations + 1 m).
 *
 * Fault: POST /api/stream/stop (the pipeline stops for good). Fix: POST /api/stream/start.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { metricNamesIn, SELF_MONITORING_METRICS } from '../alerting/rule-metrics.ts';
import {
  type Daemon,
  freePort,
  type HttpSink,
  promQuery,
  type SmtpSink,
  startAlertmanager,
  startHttpSink,
  startPrometheus,
  startSmtpSink,
  tempDir,
  waitFor,
} from '../alerting/servers.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const REPO = new URL('../..', import.meta.url).pathname;
const KIOSK = 'e2e-kiosk';
const API_TOKEN = 'e2e-control-token';
const SMTP = { user: 'alerts@example.org', password: 'smtp-secret-e2e' };
const WEBHOOK_TOKEN = 'webhook-bearer-e2e';
const ALERT = 'DesktopStreamerStreamInactive';

interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface WebhookPayload {
  status: string;
  alerts: WebhookAlert[];
}
interface SlackPayload {
  attachments: { title: string; text: string; color: string }[];
}

/** alerting/alertmanager.yml, pointed at the local receivers with short timings. */
async function alertmanagerConfig(dir: string, smtp: SmtpSink, http: HttpSink): Promise<string> {
  const config = parse(await readFile(join(REPO, 'alerting/alertmanager.yml'), 'utf8'));
  const secret = async (name: string, content: string) => {
    const path = join(dir, name);
    await writeFile(path, content, { mode: 0o600 });
    return path;
  };
  config.templates = [join(REPO, 'alerting/templates/*.tmpl')];
  Object.assign(config.route, { group_wait: '1s', group_interval: '2s', repeat_interval: '1h' });
  for (const route of config.route.routes) if (route.repeat_interval) route.repeat_interval = '1h';
  const receiver = (name: string) => config.receivers.find((r: { name: string }) => r.name === name);
  const [email] = receiver('email').email_configs;
  Object.assign(email, {
    smarthost: `127.0.0.1:${smtp.port}`,
    auth_username: SMTP.user,
    auth_password_file: await secret('smtp-password', SMTP.password),
    tls_config: { ca_file: smtp.certFile },
  });
  const [slack, discord] = receiver('chat').slack_configs;
  slack.api_url_file = await secret('slack-url', `${http.url}/slack/services/T0/B0/x`);
  discord.api_url_file = await secret('discord-url', `${http.url}/discord/api/webhooks/1/y/slack`);
  const [webhook] = receiver('webhook').webhook_configs;
  webhook.url = `${http.url}/webhook`;
  webhook.http_config.authorization.credentials_file = await secret('webhook-token', WEBHOOK_TOKEN);
  // The dead man's switch, as an operator enables it (the commented example in alertmanager.yml).
  receiver('heartbeat').webhook_configs = [{ url: `${http.url}/heartbeat`, send_resolved: false }];
  const path = join(dir, 'alertmanager.yml');
  await writeFile(path, stringify(config));
  return path;
}

/** prometheus/prometheus.yml, with 1 s intervals and the kiosk, itself and Alertmanager on loopback. */
async function prometheusConfig(
  dir: string,
  stack: Stack,
  alertmanager: Daemon,
  prometheusPort: number,
): Promise<string> {
  const config = parse(await readFile(join(REPO, 'prometheus/prometheus.yml'), 'utf8'));
  const targets = join(dir, 'kiosks.yml');
  await writeFile(targets, stringify([{ targets: [`127.0.0.1:${stack.port}`], labels: { kiosk: KIOSK } }]));
  config.global.scrape_interval = '1s';
  config.global.evaluation_interval = '1s';
  config.rule_files = [join(REPO, 'alerting/rules/*.yml')];
  const amHost = new URL(alertmanager.url).host;
  config.alerting.alertmanagers = [{ static_configs: [{ targets: [amHost] }] }];
  for (const job of config.scrape_configs) {
    job.scrape_interval = '1s';
    job.scrape_timeout = '1s';
    if (job.job_name === 'desktop-streamer')
      job.file_sd_configs = [{ files: [targets], refresh_interval: '1s' }];
    if (job.job_name === 'prometheus') job.static_configs = [{ targets: [`127.0.0.1:${prometheusPort}`] }];
    if (job.job_name === 'alertmanager') job.static_configs = [{ targets: [amHost] }];
  }
  const path = join(dir, 'prometheus.yml');
  await writeFile(path, stringify(config));
  return path;
}

function webhookAlerts(http: HttpSink, status: 'firing' | 'resolved') {
  return http.requests.filter((request) => {
    if (request.path !== '/webhook') return false;
    const payload = request.body as WebhookPayload;
    return payload.alerts.some((alert) => alert.labels.alertname === ALERT && alert.status === status);
  });
}

function slackMessages(http: HttpSink, prefix: string, status: 'FIRING' | 'RESOLVED') {
  return http.requests.filter(
    (request) =>
      request.path.startsWith(prefix) &&
      (request.body as SlackPayload).attachments?.some(
        (a) => a.title.includes(ALERT) && a.title.includes(status),
      ),
  );
}

function mails(smtp: SmtpSink, status: 'FIRING' | 'RESOLVED') {
  return smtp.mails.filter((mail) => mail.subject.includes(ALERT) && mail.subject.includes(status));
}

async function control(stack: Stack, action: 'stop' | 'start'): Promise<void> {
  const response = await fetch(`${stack.baseUrl}/api/stream/${action}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${API_TOKEN}` },
  });
  assert.ok(response.ok, `POST /api/stream/${action}: ${response.status} ${await response.text()}`);
}

test('a stopped stream reaches email, Slack, Discord and the webhook, and so does its resolution', {
  timeout: 300_000,
}, async (t) => {
  const dir = await tempDir('ds-alerting-e2e-');
  t.after(() => dir.remove());
  const smtp = await startSmtpSink(dir.path, SMTP);
  t.after(() => smtp.stop());
  const http = await startHttpSink();
  t.after(() => http.stop());

  const stack = await startStack({
    config: {
      kiosk_name: KIOSK,
      api: { token: API_TOKEN, token_file: null, public_read: true },
      // An amdgpu card from the fixture tree, so the GPU series the rules read exist too.
      sysfs_root: join(REPO, 'test/fixtures/sysfs'),
    },
  });
  t.after(() => stack.stop());

  const alertmanager = await startAlertmanager(
    await alertmanagerConfig(dir.path, smtp, http),
    join(dir.path, 'am-data'),
  );
  t.after(() => alertmanager.stop());
  // Prometheus scrapes itself: its own port must be known before it starts.
  const prometheusPort = await freePort();
  const prometheusConfigPath = await prometheusConfig(dir.path, stack, alertmanager, prometheusPort);
  const prometheus = await startPrometheus(prometheusConfigPath, join(dir.path, 'prom-data'), prometheusPort);
  t.after(() => prometheus.stop());

  // Healthy first: the kiosk is scraped and publishes segments.
  await waitFor(
    'the kiosk to be scraped and streaming',
    async () =>
      (
        await promQuery(
          prometheus.url,
          `time() - desktop_streamer_hls_last_segment_timestamp_seconds{kiosk="${KIOSK}"} < 5`,
        )
      ).length === 1,
    90_000,
  );

  await t.test('the self-monitoring series the rules read exist in the real scrapes', async () => {
    await waitFor(
      'alertmanager and prometheus self-scrapes',
      async () => (await promQuery(prometheus.url, 'up{job=~"prometheus|alertmanager"} == 1')).length === 2,
      30_000,
    );
    for (const name of SELF_MONITORING_METRICS) {
      const found = await promQuery(prometheus.url, `count({__name__="${name}"})`);
      assert.equal(found.length, 1, `${name} is not in any real scrape`);
    }
  });

  await t.test('every series the rules read exists in the real scrapes', async () => {
    const used = new Set<string>();
    for (const file of ['desktop-streamer.rules.yml', 'desktop-streamer.alerts.yml']) {
      const doc = parse(await readFile(join(REPO, 'alerting/rules', file), 'utf8')) as {
        groups: { rules: { expr: string }[] }[];
      };
      for (const rule of doc.groups.flatMap((group) => group.rules)) {
        for (const name of metricNamesIn(rule.expr)) if (!name.includes(':')) used.add(name);
      }
    }
    const missing: string[] = [];
    for (const name of used) {
      if ((await promQuery(prometheus.url, `count({__name__="${name}"})`)).length === 0) missing.push(name);
    }
    assert.deepEqual(missing, [], 'series used by rules but absent from the real scrapes');
  });

  const faultAt = Date.now();
  await control(stack, 'stop');

  const firingWebhook = await waitFor('the firing webhook', () => webhookAlerts(http, 'firing')[0], 180_000);
  const firingMail = await waitFor('the firing email', () => mails(smtp, 'FIRING')[0], 30_000);
  const firingSlack = await waitFor(
    'the firing Slack message',
    () => slackMessages(http, '/slack/', 'FIRING')[0],
    30_000,
  );
  const firingDiscord = await waitFor(
    'the firing Discord message',
    () => slackMessages(http, '/discord/', 'FIRING')[0],
    30_000,
  );

  const payload = firingWebhook.body as WebhookPayload;
  const alert = payload.alerts.find((a) => a.labels.alertname === ALERT)!;
  assert.equal(alert.labels.severity, 'critical');
  assert.equal(alert.labels.kiosk, KIOSK);
  assert.equal(alert.labels.instance, `127.0.0.1:${stack.port}`);
  assert.match(alert.annotations.runbook_url ?? '', /^https?:\/\/\S+#desktopstreamerstreaminactive$/);
  assert.match(
    alert.annotations.description ?? '',
    new RegExp(`Kiosk ${KIOSK} \\(127\\.0\\.0\\.1:${stack.port}\\)`),
  );
  assert.equal(firingWebhook.authorization, `Bearer ${WEBHOOK_TOKEN}`);

  assert.equal(firingMail.subject, `[FIRING:1] CRITICAL ${ALERT} on kiosk ${KIOSK}`);
  assert.ok(firingMail.secure, 'mail delivered without STARTTLS');
  assert.equal(firingMail.user, SMTP.user);
  assert.deepEqual(firingMail.to, ['kiosk-oncall@example.org']);
  for (const expected of [
    `http://127.0.0.1:${stack.port}/player`,
    `http://127.0.0.1:${stack.port}/api/snapshot.jpg`,
    `http://127.0.0.1:${stack.port}/api/health/detailed`,
    `${alert.annotations.runbook_url}`,
    'has published no HLS segment for',
  ]) {
    assert.ok(firingMail.body.includes(expected), `email lacks ${expected}`);
  }
  assert.match(firingMail.raw, /Content-Type: text\/html/i);
  assert.match(firingMail.raw, /Content-Type: text\/plain/i);
  for (const chat of [firingSlack, firingDiscord]) {
    const [attachment] = (chat.body as SlackPayload).attachments;
    assert.equal(attachment?.color, 'danger');
    assert.ok(attachment?.title.includes(`on ${KIOSK}`), attachment?.title);
    assert.ok(attachment?.text.includes(`Kiosk ${KIOSK} (127.0.0.1:${stack.port})`), attachment?.text);
    assert.ok(attachment?.text.includes(`http://127.0.0.1:${stack.port}/player`), attachment?.text);
  }

  const fixAt = Date.now();
  await control(stack, 'start');
  const resolvedWebhook = await waitFor(
    'the resolved webhook',
    () => webhookAlerts(http, 'resolved')[0],
    120_000,
  );
  const resolvedMail = await waitFor('the resolved email', () => mails(smtp, 'RESOLVED')[0], 30_000);
  await waitFor('the resolved Slack message', () => slackMessages(http, '/slack/', 'RESOLVED')[0], 30_000);
  await waitFor(
    'the resolved Discord message',
    () => slackMessages(http, '/discord/', 'RESOLVED')[0],
    30_000,
  );
  assert.equal((resolvedWebhook.body as WebhookPayload).status, 'resolved');
  assert.equal(resolvedMail.subject, `[RESOLVED] CRITICAL ${ALERT} on kiosk ${KIOSK}`);

  // The rules evaluated against the real series without a single failure.
  const failures = await promQuery(prometheus.url, 'sum(prometheus_rule_evaluation_failures_total)');
  assert.equal(failures[0]?.value[1], '0', 'rule evaluation failures');
  // Nothing but the injected fault alerted (no false positives from the real kiosk).
  const others = http.requests
    .filter((request) => request.path === '/webhook')
    .flatMap((request) => (request.body as WebhookPayload).alerts)
    .filter((a) => a.labels.alertname !== ALERT);
  assert.deepEqual(
    others.map((a) => a.labels.alertname),
    [],
  );
  // The dead man's switch reached its own receiver (and, above, no other).
  const heartbeats = http.requests
    .filter((request) => request.path === '/heartbeat')
    .flatMap((request) => (request.body as WebhookPayload).alerts.map((a) => a.labels.alertname));
  assert.ok(heartbeats.length > 0, 'no heartbeat delivered');
  assert.deepEqual([...new Set(heartbeats)], ['DesktopStreamerWatchdog']);

  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  const report = [
    `fault → webhook ${seconds(firingWebhook.at - faultAt)} s, email ${seconds(firingMail.at - faultAt)} s,`,
    `Slack ${seconds(firingSlack.at - faultAt)} s, Discord ${seconds(firingDiscord.at - faultAt)} s;`,
    `fix → resolved webhook ${seconds(resolvedWebhook.at - fixAt)} s, resolved email ${seconds(resolvedMail.at - fixAt)} s`,
  ].join(' ');
  t.diagnostic(report);
  console.log(`alerting e2e: ${report}`);
});
