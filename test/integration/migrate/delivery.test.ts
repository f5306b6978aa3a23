/**
 * The converted watchdog configuration really delivers: a real Alertmanager reads the generated
 * alertmanager.yml and its secret files (SMTP password, webhook password) and sends an alert by
 * email (STARTTLS + AUTH) and to the webhook.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { convertWatchdogConfig } from '../../../src/migrate/watchdog-config.ts';
import { startAlertmanager, startHttpSink, startSmtpSink, tempDir, waitFor } from '../../alerting/servers.ts';

const REPO = new URL('../../..', import.meta.url).pathname;

test('a converted watchdog-config.json delivers by email and webhook through a real Alertmanager', async (t) => {
  const dir = await tempDir('ds-watchdog-delivery-');
  t.after(() => dir.remove());
  const smtp = await startSmtpSink(dir.path, { user: 'watchdog@example.com', password: 'app-password-1' });
  t.after(() => smtp.stop());
  const http = await startHttpSink();
  t.after(() => http.stop());

  const webhook = new URL(`${http.url}/hook`);
  webhook.username = 'ops';
  webhook.password = 'hook-pass';
  const { yaml, secrets } = convertWatchdogConfig(
    {
      alert_cooldown: 300,
      email_alerts: {
        enabled: true,
        smtp_server: '127.0.0.1',
        smtp_port: smtp.port,
        use_tls: true,
        from_email: 'watchdog@example.com',
        to_email: 'admin@example.com, second@example.com',
        username: 'watchdog@example.com',
        password: 'app-password-1',
      },
      webhook_alerts: { enabled: true, url: webhook.href },
    },
    { secretsDir: dir.path, templatesGlob: join(REPO, 'alerting/templates/*.tmpl') },
  );
  for (const secret of secrets) await writeFile(join(dir.path, secret.name), secret.content, { mode: 0o600 });
  const configPath = join(dir.path, 'alertmanager.yml');
  // group_wait 30s is the converted value; shorten it only, so the test is quick.
  await writeFile(configPath, yaml.replace('group_wait: 30s', 'group_wait: 1s'));
  const alertmanager = await startAlertmanager(configPath, join(dir.path, 'data'), {
    SSL_CERT_FILE: smtp.certFile,
  });
  t.after(() => alertmanager.stop());

  const response = await fetch(`${alertmanager.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      {
        labels: {
          alertname: 'DesktopStreamerPipelineFailed',
          severity: 'critical',
          kiosk: 'lobby',
          instance: 'a:8888',
        },
        annotations: {
          summary: 'The pipeline gave up restarting and stays down.',
          description: 'Kiosk lobby (a:8888) exceeded max_restarts.',
          runbook_url: 'alerting/runbooks.md#desktopstreamerpipelinefailed',
        },
      },
    ]),
  });
  assert.equal(response.status, 200);

  const mail = await waitFor('the email', () => smtp.mails[0], 20_000);
  assert.equal(mail.subject, '[FIRING:1] CRITICAL DesktopStreamerPipelineFailed on kiosk lobby');
  assert.ok(mail.secure, 'STARTTLS was not used');
  assert.equal(mail.user, 'watchdog@example.com');
  assert.deepEqual(mail.to.sort(), ['admin@example.com', 'second@example.com']);
  assert.ok(mail.body.includes('http://a:8888/player'));

  const hook = await waitFor('the webhook', () => http.requests.find((r) => r.path === '/hook'), 20_000);
  assert.equal(hook.authorization, `Basic ${Buffer.from('ops:hook-pass').toString('base64')}`);
  const payload = hook.body as { alerts: { labels: Record<string, string> }[] };
  assert.equal(payload.alerts[0]?.labels.alertname, 'DesktopStreamerPipelineFailed');
});
