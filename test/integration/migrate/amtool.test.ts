/** The converted configuration against the real amtool. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import {
  runAlertmanagerConfigCommand,
  watchdogToAlertmanager,
} from '../../../src/migrate/watchdog-config.ts';
import { README_EXAMPLE, tempDir } from '../../migrate/fixtures.ts';

const run = promisify(execFile);

async function amtoolCheck(configPath: string): Promise<string> {
  const { stdout } = await run('amtool', ['check-config', configPath]);
  return stdout;
}

test('the CLI writes alertmanager.yml, templates and 0600 secrets that real amtool accepts', async (t) => {
  const dir = await tempDir(t);
  const source = join(dir, 'watchdog-config.json');
  await writeFile(source, JSON.stringify(README_EXAMPLE));
  const out = join(dir, 'am');
  const code = await runAlertmanagerConfigCommand(['--watchdog-config', source, '--out', out]);
  assert.equal(code, 0);
  const yaml = await readFile(join(out, 'alertmanager.yml'), 'utf8');
  assert.ok(!yaml.includes('your-app-password'));
  for (const name of ['smtp-password', 'slack-webhook-url']) {
    const info = await stat(join(out, 'secrets', name));
    assert.equal(info.mode & 0o777, 0o600, name);
  }
  assert.equal(await readFile(join(out, 'secrets', 'smtp-password'), 'utf8'), 'your-app-password');
  assert.ok((await readdir(join(out, 'templates'))).includes('desktop-streamer.tmpl'));
  const check = await amtoolCheck(join(out, 'alertmanager.yml'));
  assert.match(check, /SUCCESS/);
  assert.match(check, /1 templates/);
  // Every alert reaches the single receiver that carries every enabled channel.
  const { stdout } = await run('amtool', [
    'config',
    'routes',
    'test',
    `--config.file=${join(out, 'alertmanager.yml')}`,
    'severity=warning',
    'alertname=DesktopStreamerFrameRateLow',
    'kiosk=lobby',
  ]);
  assert.equal(stdout.trim(), 'watchdog');
  // A second run must not clobber the operator's file without --force.
  const quiet = console.error;
  console.error = () => {};
  try {
    assert.equal(await runAlertmanagerConfigCommand(['--watchdog-config', source, '--out', out]), 73);
  } finally {
    console.error = quiet;
  }
  assert.equal(await runAlertmanagerConfigCommand(['--watchdog-config', source, '--out', out, '--force']), 0);
});

test('amtool accepts the conversion of every channel mix, for 0.25', async (t) => {
  const dir = await tempDir(t);
  const variants = [
    {},
    { webhook_alerts: { enabled: true, url: 'https://discord.com/api/webhooks/1/x' } },
    {
      webhook_alerts: { enabled: true, url: 'http://u:p@127.0.0.1:9/hook' },
      email_alerts: README_EXAMPLE.email_alerts,
    },
  ];
  for (const [index, json] of variants.entries()) {
    const path = join(dir, `am-${index}.yml`);
    await writeFile(path, watchdogToAlertmanager(json, { secretsDir: dir }));
    assert.match(await amtoolCheck(path), /SUCCESS/, JSON.stringify(json));
  }
});
