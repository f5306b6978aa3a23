/**
 * alerting/alertmanager.yml checked with the real amtool (Alertmanager 0.25): syntax, the
 * routing table per severity and receiver, explicit send_resolved, no inline secrets, and
 * templates that render.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);
const REPO = new URL('../../..', import.meta.url).pathname;
const CONFIG = join(REPO, 'alerting/alertmanager.yml');

async function receiversFor(labels: Record<string, string>): Promise<string> {
  const args = Object.entries(labels).map(([name, value]) => `${name}=${value}`);
  const { stdout } = await run('amtool', ['config', 'routes', 'test', `--config.file=${CONFIG}`, ...args]);
  return stdout.trim();
}

test('amtool check-config accepts alerting/alertmanager.yml with its templates', async () => {
  const { stdout } = await run('amtool', ['check-config', CONFIG]);
  assert.match(stdout, /SUCCESS/);
  assert.match(stdout, /4 receivers/);
  assert.match(stdout, /3 inhibit rules/);
});

test('routing: critical → email, chat, webhook; warning → chat, webhook; info → webhook; the watchdog → heartbeat only', async () => {
  const table: [Record<string, string>, string][] = [
    [{ severity: 'info', alertname: 'DesktopStreamerWatchdog' }, 'heartbeat'],
    [
      { severity: 'critical', alertname: 'DesktopStreamerStreamInactive', kiosk: 'lobby' },
      'email,chat,webhook',
    ],
    [{ severity: 'critical', alertname: 'DesktopStreamerNotificationsFailing' }, 'email,chat,webhook'],
    [{ severity: 'warning', alertname: 'DesktopStreamerFrameRateLow', kiosk: 'lobby' }, 'chat,webhook'],
    [{ severity: 'info', alertname: 'DesktopStreamerSomething', kiosk: 'lobby' }, 'webhook'],
    // no (or an unknown) severity still reaches someone
    [{ alertname: 'Unlabelled' }, 'webhook'],
    [{ severity: 'page', alertname: 'Odd' }, 'webhook'],
  ];
  for (const [labels, expected] of table) {
    assert.equal(await receiversFor(labels), expected, JSON.stringify(labels));
  }
  // amtool's own assertion form, as an operator would use it after editing the routes.
  await run('amtool', [
    'config',
    'routes',
    'test',
    `--config.file=${CONFIG}`,
    '--verify.receivers=chat,webhook',
    'severity=warning',
  ]);
  await assert.rejects(
    run('amtool', [
      'config',
      'routes',
      'test',
      `--config.file=${CONFIG}`,
      '--verify.receivers=email',
      'severity=warning',
    ]),
  );
});

test('groups by alertname and kiosk; cooldown mapping; send_resolved set explicitly on every integration', async () => {
  const config = parse(await readFile(CONFIG, 'utf8'));
  assert.deepEqual(config.route.group_by, ['alertname', 'kiosk']);
  assert.equal(config.route.group_interval, '5m'); // alert_cooldown 300 s
  let integrations = 0;
  for (const receiver of config.receivers) {
    for (const [key, list] of Object.entries(receiver)) {
      if (!key.endsWith('_configs')) continue;
      for (const integration of list as Record<string, unknown>[]) {
        integrations++;
        assert.equal(integration.send_resolved, true, `${receiver.name}.${key}: send_resolved`);
      }
    }
  }
  assert.equal(integrations, 4); // email, Slack, Discord (Slack-compatible), webhook
});

test('no secret is inline: passwords and secret URLs come from files', async () => {
  const text = await readFile(CONFIG, 'utf8');
  const config = parse(text);
  const inlineSecretKeys = [
    'auth_password',
    'auth_secret',
    'api_url',
    'webhook_url',
    'password',
    'credentials',
  ];
  const walk = (node: unknown, path: string) => {
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      assert.ok(!inlineSecretKeys.includes(key), `${path}.${key} is an inline secret; use ${key}_file`);
      walk(value, `${path}.${key}`);
    }
  };
  walk(config, '');
  const [email] = config.receivers.find((r: { name: string }) => r.name === 'email').email_configs;
  assert.ok(email.auth_password_file.startsWith('/'));
  assert.equal(email.require_tls, true);
  for (const slack of config.receivers.find((r: { name: string }) => r.name === 'chat').slack_configs) {
    assert.ok(slack.api_url_file.startsWith('/'));
  }
});

test('every template renders with amtool', async () => {
  const templates = await readFile(join(REPO, 'alerting/templates/desktop-streamer.tmpl'), 'utf8');
  const names = [...templates.matchAll(/define "([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(names.includes('desktop_streamer.email.html'));
  for (const name of names.filter((n) => /email|chat|discord/.test(n))) {
    const { stdout } = await run(
      'amtool',
      [
        'template',
        'render',
        '--template.glob=templates/*.tmpl',
        `--template.text={{ template "${name}" . }}`,
      ],
      { cwd: join(REPO, 'alerting') },
    );
    assert.ok(stdout.trim().length > 0, `${name} rendered empty`);
    assert.doesNotMatch(stdout, /<no value>/, name);
  }
});
