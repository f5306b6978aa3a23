import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import {
  convertWatchdogConfig,
  runAlertmanagerConfigCommand,
  WatchdogConfigError,
  watchdogToAlertmanager,
} from '../../src/migrate/watchdog-config.ts';
import { README_EXAMPLE, tempDir } from './fixtures.ts';

test('the README example keeps its SMTP, recipients, cooldown and Slack webhook, secrets in files only', () => {
  const { yaml, secrets, warnings } = convertWatchdogConfig(README_EXAMPLE, {
    secretsDir: '/etc/alertmanager/s',
  });
  const config = parse(yaml);
  assert.equal(config.route.group_interval, '300s');
  assert.equal(config.route.repeat_interval, '300s');
  assert.deepEqual(config.route.group_by, ['alertname', 'kiosk']);
  const [receiver] = config.receivers;
  assert.equal(receiver.name, config.route.receiver);
  const [email] = receiver.email_configs;
  assert.equal(email.smarthost, 'smtp.gmail.com:587');
  assert.equal(email.require_tls, true);
  assert.equal(email.from, 'watchdog@example.com');
  assert.equal(email.to, 'admin@example.com');
  assert.equal(email.auth_username, 'your-email@gmail.com');
  assert.equal(email.auth_password_file, '/etc/alertmanager/s/smtp-password');
  assert.equal(email.send_resolved, true);
  const [slack] = receiver.slack_configs;
  assert.equal(slack.api_url_file, '/etc/alertmanager/s/slack-webhook-url');
  assert.equal(slack.send_resolved, true);
  assert.deepEqual(secrets, [
    { name: 'smtp-password', content: 'your-app-password' },
    { name: 'slack-webhook-url', content: 'https://hooks.slack.com/services/YOUR/WEBHOOK/URL' },
  ]);
  assert.ok(!yaml.includes('your-app-password'), 'password inline');
  assert.ok(!yaml.includes('hooks.slack.com'), 'webhook URL inline');
  assert.equal(warnings.length, 3, warnings.join('\n')); // check_interval, max_alerts, auto_recovery
  assert.match(warnings.join('\n'), /max_alerts/);
});

test('a Discord URL becomes the Slack-compatible endpoint on 0.25 and native discord_configs on 0.26', () => {
  const json = { webhook_alerts: { enabled: true, url: 'https://discord.com/api/webhooks/123/abc' } };
  const old = convertWatchdogConfig(json, { secretsDir: '/s' });
  assert.equal(parse(old.yaml).receivers[0].slack_configs[0].api_url_file, '/s/discord-webhook-url');
  assert.deepEqual(old.secrets, [
    { name: 'discord-webhook-url', content: 'https://discord.com/api/webhooks/123/abc/slack' },
  ]);
  const current = convertWatchdogConfig(json, { secretsDir: '/s', alertmanagerVersion: '0.27.0' });
  const discord = parse(current.yaml).receivers[0].discord_configs[0];
  assert.equal(discord.webhook_url_file, '/s/discord-webhook-url');
  assert.equal(discord.send_resolved, true);
  assert.deepEqual(current.secrets, [
    { name: 'discord-webhook-url', content: 'https://discord.com/api/webhooks/123/abc' },
  ]);
});

test('any other URL becomes a webhook; credentials in it move to basic_auth with a password file', () => {
  const json = { webhook_alerts: { enabled: true, url: 'https://ops:s3cret@hooks.example.org/alert' } };
  const { yaml, secrets } = convertWatchdogConfig(json, { secretsDir: '/s' });
  const webhook = parse(yaml).receivers[0].webhook_configs[0];
  assert.equal(webhook.url, 'https://hooks.example.org/alert');
  assert.equal(webhook.send_resolved, true);
  assert.deepEqual(webhook.http_config, {
    basic_auth: { username: 'ops', password_file: '/s/webhook-password' },
  });
  assert.deepEqual(secrets, [{ name: 'webhook-password', content: 's3cret' }]);
  assert.ok(!yaml.includes('s3cret'));
  const newer = convertWatchdogConfig(json, { secretsDir: '/s', alertmanagerVersion: '0.26' });
  assert.equal(parse(newer.yaml).receivers[0].webhook_configs[0].url_file, '/s/webhook-url');
});

test('disabled channels are left out, and nothing enabled still gives a valid config', () => {
  const { yaml, warnings } = convertWatchdogConfig(
    { alert_cooldown: 120, email_alerts: { ...README_EXAMPLE.email_alerts, enabled: false } },
    { secretsDir: '/s' },
  );
  const config = parse(yaml);
  assert.deepEqual(config.receivers, [{ name: 'watchdog' }]);
  assert.equal(config.route.group_interval, '120s');
  assert.match(warnings.join('\n'), /No alert channel is enabled/);
});

test('port 465 means implicit TLS: require_tls (STARTTLS) is off', () => {
  const json = { email_alerts: { ...README_EXAMPLE.email_alerts, smtp_port: 465 } };
  assert.equal(
    parse(watchdogToAlertmanager(json, { secretsDir: '/s' })).receivers[0].email_configs[0].require_tls,
    false,
  );
});

test('bad input is rejected naming the key, the value and what is allowed', () => {
  const cases: [unknown, string, RegExp][] = [
    [[], '(root)', /a JSON object/],
    [{ alert_cooldown: -5 }, 'alert_cooldown', /-5.*whole number of seconds/],
    [{ alert_cooldown: '300' }, 'alert_cooldown', /"300"/],
    [
      { email_alerts: { ...README_EXAMPLE.email_alerts, smtp_port: 70000 } },
      'email_alerts.smtp_port',
      /70000.*1–65535/,
    ],
    [
      { email_alerts: { ...README_EXAMPLE.email_alerts, to_email: 'admin' } },
      'email_alerts.to_email',
      /"admin"/,
    ],
    [
      { email_alerts: { ...README_EXAMPLE.email_alerts, enabled: 'yes' } },
      'email_alerts.enabled',
      /true or false/,
    ],
    [
      { email_alerts: { ...README_EXAMPLE.email_alerts, username: '' } },
      'email_alerts.username',
      /password is set/,
    ],
    [
      { email_alerts: { ...README_EXAMPLE.email_alerts, smtp_server: 'smtp:25' } },
      'email_alerts.smtp_server',
      /without port/,
    ],
    [
      { webhook_alerts: { enabled: true, url: 'ftp://x/y' } },
      'webhook_alerts.url',
      /http:\/\/ or https:\/\//,
    ],
    [{ webhook_alerts: { enabled: true } }, 'webhook_alerts.url', /\(missing\)/],
  ];
  for (const [json, key, message] of cases) {
    assert.throws(
      () => convertWatchdogConfig(json, { secretsDir: '/s' }),
      (error: unknown) => {
        assert.ok(error instanceof WatchdogConfigError, String(error));
        assert.equal(error.key, key);
        assert.match(error.message, new RegExp(key.replace(/[.()]/g, '\\$&')));
        assert.match(error.message, message);
        return true;
      },
    );
  }
  assert.throws(() => convertWatchdogConfig({}, { secretsDir: 'relative' }), /secretsDir/);
  assert.throws(
    () => convertWatchdogConfig({}, { secretsDir: '/s', alertmanagerVersion: 'new' }),
    /alertmanagerVersion/,
  );
});

test('the CLI exits 65 naming the bad key, 66 for a missing file', async (t) => {
  const dir = await tempDir(t);
  const source = join(dir, 'bad.json');
  await writeFile(source, JSON.stringify({ alert_cooldown: 0 }));
  const errors: string[] = [];
  const original = console.error;
  console.error = (message: string) => errors.push(message);
  try {
    assert.equal(
      await runAlertmanagerConfigCommand(['--watchdog-config', source, '--out', join(dir, 'o')]),
      65,
    );
    assert.equal(await runAlertmanagerConfigCommand(['--watchdog-config', join(dir, 'none.json')]), 66);
  } finally {
    console.error = original;
  }
  assert.match(errors[0] ?? '', /alert_cooldown = 0/);
});
