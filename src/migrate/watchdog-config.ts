/**
 * Turns the earlier system's `/etc/desktop-streamer/watchdog-config.json` into an Alertmanager
 * configuration that keeps its settings (SMTP server and credentials, recipients, webhook,
 * alert_cooldown), plus the `desktop-streamer alertmanager-config` command that writes it.
 *
 * Secrets (SMTP password, Slack/Discord webhook URLs) never go into alertmanager.yml: the
 * conversion returns them as separate files, referenced from the YAML by path (`*_file` keys).
 */
import { access, chmod, copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { EXIT } from '../exit-codes.ts';

/** Bad watchdog-config.json content (or bad options): names the key, the value and what is allowed. */
export class WatchdogConfigError extends Error {
  override readonly name = 'WatchdogConfigError';
  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly allowed: string,
    options?: { cause?: unknown },
  ) {
    super(`watchdog config: ${key} = ${describe(value)} is not allowed; expected ${allowed}`, options);
  }
}

export interface WatchdogConversionOptions {
  /** Absolute directory where the secret files will live when Alertmanager reads them. */
  secretsDir: string;
  /** Template glob written into `templates:` (relative paths resolve next to alertmanager.yml). */
  templatesGlob?: string;
  /** Alertmanager version the file is for; 0.25 is Debian 12's. Decides which `*_file` keys exist. */
  alertmanagerVersion?: string;
  /** Mentioned in the header comment. */
  sourcePath?: string;
}

export interface SecretFile {
  /** File name inside secretsDir. */
  name: string;
  content: string;
}

export interface WatchdogConversion {
  yaml: string;
  secrets: SecretFile[];
  /** Settings that have no exact Alertmanager equivalent, said in a sentence each. */
  warnings: string[];
}

export const DEFAULT_ALERT_COOLDOWN_SECONDS = 300;
const DEFAULT_ALERTMANAGER_VERSION = '0.25';

interface EmailAlerts {
  smtpServer: string;
  smtpPort: number;
  useTls: boolean;
  from: string;
  to: string;
  username: string | null;
  password: string | null;
}

interface WatchdogSettings {
  alertCooldownSeconds: number;
  email: EmailAlerts | null;
  webhookUrl: URL | null;
  ignoredKeys: string[];
}

/** The YAML text of alertmanager.yml for this watchdog config (secrets: see convertWatchdogConfig). */
export function watchdogToAlertmanager(watchdogJson: unknown, options: WatchdogConversionOptions): string {
  return convertWatchdogConfig(watchdogJson, options).yaml;
}

export function convertWatchdogConfig(
  watchdogJson: unknown,
  options: WatchdogConversionOptions,
): WatchdogConversion {
  const settings = parseWatchdogConfig(watchdogJson);
  const version = parseVersion(options.alertmanagerVersion ?? DEFAULT_ALERTMANAGER_VERSION);
  const hasFileUrls = version.major > 0 || version.minor >= 26;
  if (!options.secretsDir.startsWith('/')) {
    throw new WatchdogConfigError('secretsDir', options.secretsDir, 'an absolute directory path');
  }
  const secretPath = (name: string) => join(options.secretsDir, name);
  const secrets: SecretFile[] = [];
  const warnings: string[] = [];
  const receiver: Record<string, unknown> = { name: 'watchdog' };

  if (settings.email) {
    const { email } = settings;
    const config: Record<string, unknown> = {
      to: email.to,
      from: email.from,
      smarthost: `${email.smtpServer}:${email.smtpPort}`,
      // Port 465 is implicit TLS in Alertmanager; elsewhere use_tls means STARTTLS, required.
      require_tls: email.useTls && email.smtpPort !== 465,
    };
    if (!email.useTls && email.smtpPort === 465) {
      warnings.push(
        'email_alerts.use_tls is false but smtp_port is 465: Alertmanager always uses TLS on 465.',
      );
    }
    if (email.username !== null) config.auth_username = email.username;
    if (email.password !== null) {
      secrets.push({ name: 'smtp-password', content: email.password });
      config.auth_password_file = secretPath('smtp-password');
    }
    Object.assign(config, {
      send_resolved: true,
      headers: { Subject: '{{ template "desktop_streamer.email.subject" . }}' },
      html: '{{ template "desktop_streamer.email.html" . }}',
      text: '{{ template "desktop_streamer.email.text" . }}',
    });
    receiver.email_configs = [config];
  }

  if (settings.webhookUrl) {
    const url = settings.webhookUrl;
    const chat = {
      send_resolved: true,
      title: '{{ template "desktop_streamer.chat.title" . }}',
      text: '{{ template "desktop_streamer.chat.text" . }}',
      color: '{{ template "desktop_streamer.chat.color" . }}',
    };
    switch (classifyWebhook(url)) {
      case 'slack':
        secrets.push({ name: 'slack-webhook-url', content: url.href });
        receiver.slack_configs = [{ api_url_file: secretPath('slack-webhook-url'), ...chat }];
        break;
      case 'discord':
        if (hasFileUrls) {
          secrets.push({ name: 'discord-webhook-url', content: url.href });
          receiver.discord_configs = [
            {
              webhook_url_file: secretPath('discord-webhook-url'),
              send_resolved: true,
              title: chat.title,
              message: '{{ template "desktop_streamer.discord.message" . }}',
            },
          ];
        } else {
          // 0.25's discord_configs has no webhook_url_file: use Discord's Slack-compatible endpoint,
          // whose URL can come from a file.
          secrets.push({ name: 'discord-webhook-url', content: `${url.href.replace(/\/+$/, '')}/slack` });
          receiver.slack_configs = [{ api_url_file: secretPath('discord-webhook-url'), ...chat }];
        }
        break;
      case 'generic':
        receiver.webhook_configs = [genericWebhook(url, hasFileUrls, secretPath, secrets, warnings)];
        break;
    }
  }

  for (const key of settings.ignoredKeys) warnings.push(IGNORED_KEY_NOTES[key] ?? `${key} is not used.`);
  const enabled = Boolean(settings.email || settings.webhookUrl);
  if (!enabled)
    warnings.push('No alert channel is enabled: alerts are routed to a receiver that sends nothing.');

  const cooldown = `${settings.alertCooldownSeconds}s`;
  const config = {
    global: { resolve_timeout: '5m' },
    templates: [options.templatesGlob ?? 'templates/*.tmpl'],
    route: {
      receiver: 'watchdog',
      group_by: ['alertname', 'kiosk'],
      group_wait: '30s',
      // alert_cooldown: a problem (alertname + kiosk) is notified at most once per cooldown,
      // and re-sent after a cooldown while it persists, as the watchdog did.
      group_interval: cooldown,
      repeat_interval: cooldown,
    },
    inhibit_rules: INHIBIT_RULES,
    receivers: [receiver],
  };
  const header = [
    `# Generated by \`desktop-streamer alertmanager-config\`${options.sourcePath ? ` from ${options.sourcePath}` : ''}.`,
    `# For Alertmanager ${version.major}.${version.minor}. Secrets are in ${options.secretsDir} (mode 0600), never here.`,
    '# Every enabled channel of the watchdog receives every alert, as before; see alerting/README.md',
    '# for the severity-based routing of the repository configuration.',
    '',
  ].join('\n');
  return { yaml: header + stringify(config, { lineWidth: 0 }), secrets, warnings };
}

const INHIBIT_RULES = [
  {
    source_matchers: ['alertname="DesktopStreamerDown"'],
    target_matchers: ['alertname!="DesktopStreamerDown"', 'kiosk=~".+"'],
    equal: ['kiosk'],
  },
  {
    source_matchers: ['severity="critical"'],
    target_matchers: ['severity="warning"'],
    equal: ['alertname', 'kiosk'],
  },
  {
    source_matchers: ['alertname=~"DesktopStreamerPipelineFailed|DesktopStreamerStreamInactive"'],
    target_matchers: [
      'alertname=~"DesktopStreamerSegmentLagHigh|DesktopStreamerFrameRateLow|DesktopStreamerScreenFrozen|DesktopStreamerScreenBlank"',
    ],
    equal: ['kiosk'],
  },
];

const IGNORED_KEY_NOTES: Record<string, string> = {
  check_interval:
    'check_interval is not used: Prometheus scrape_interval/evaluation_interval decide how often conditions are checked.',
  max_alerts:
    'max_alerts has no Alertmanager equivalent: grouping by alertname and kiosk with group_interval = alert_cooldown bounds the notifications instead.',
  auto_recovery:
    'auto_recovery is not used: the supervisor restarts the pipeline itself, systemd restarts the supervisor.',
};

function genericWebhook(
  url: URL,
  hasFileUrls: boolean,
  secretPath: (name: string) => string,
  secrets: SecretFile[],
  warnings: string[],
): Record<string, unknown> {
  if (hasFileUrls) {
    secrets.push({ name: 'webhook-url', content: url.href });
    return { url_file: secretPath('webhook-url'), send_resolved: true };
  }
  // 0.25 has no url_file: the URL is written inline, so credentials in it move to basic_auth.
  const bare = new URL(url.href);
  bare.username = '';
  bare.password = '';
  const config: Record<string, unknown> = { url: bare.href, send_resolved: true };
  if (url.username || url.password) {
    const basicAuth: Record<string, string> = { username: decodeURIComponent(url.username) };
    if (url.password) {
      secrets.push({ name: 'webhook-password', content: decodeURIComponent(url.password) });
      basicAuth.password_file = secretPath('webhook-password');
    }
    config.http_config = { basic_auth: basicAuth };
  }
  if (url.search) {
    warnings.push(
      'webhook_alerts.url has a query string and Alertmanager 0.25 has no url_file: it is written into alertmanager.yml as is; if it holds a token, use Alertmanager >= 0.26 (--alertmanager-version 0.26).',
    );
  }
  return config;
}

type WebhookKind = 'slack' | 'discord' | 'generic';

function classifyWebhook(url: URL): WebhookKind {
  const host = url.hostname.toLowerCase();
  if (host === 'hooks.slack.com') return 'slack';
  if (/^(?:(?:ptb|canary)\.)?discord(?:app)?\.com$/.test(host) && url.pathname.startsWith('/api/webhooks/')) {
    return 'discord';
  }
  return 'generic';
}

// ---------- parsing the watchdog config ----------

const EMAIL_RE = /^[^\s@,]+@[^\s@,]+$/;

function parseWatchdogConfig(json: unknown): WatchdogSettings {
  const root = object(json, '(root)');
  const alertCooldownSeconds =
    root.alert_cooldown === undefined
      ? DEFAULT_ALERT_COOLDOWN_SECONDS
      : positiveInteger(root.alert_cooldown, 'alert_cooldown', 'a whole number of seconds ≥ 1');
  const ignoredKeys = ['check_interval', 'max_alerts', 'auto_recovery'].filter((key) => key in root);
  return {
    alertCooldownSeconds,
    email: root.email_alerts === undefined ? null : parseEmail(root.email_alerts),
    webhookUrl: root.webhook_alerts === undefined ? null : parseWebhook(root.webhook_alerts),
    ignoredKeys,
  };
}

function parseEmail(value: unknown): EmailAlerts | null {
  const email = object(value, 'email_alerts');
  if (!enabled(email, 'email_alerts')) return null;
  const smtpServer = string(email.smtp_server, 'email_alerts.smtp_server', 'an SMTP host name');
  if (!/^[A-Za-z0-9.-]+$|^\[[0-9a-fA-F:.]+\]$/.test(smtpServer)) {
    throw new WatchdogConfigError(
      'email_alerts.smtp_server',
      smtpServer,
      'a host name or IP address, without port',
    );
  }
  const smtpPort =
    email.smtp_port === undefined
      ? 587
      : positiveInteger(email.smtp_port, 'email_alerts.smtp_port', 'a port 1–65535');
  if (smtpPort > 65535) throw new WatchdogConfigError('email_alerts.smtp_port', smtpPort, 'a port 1–65535');
  const useTls = email.use_tls === undefined ? true : boolean(email.use_tls, 'email_alerts.use_tls');
  const from = string(email.from_email, 'email_alerts.from_email', 'an e-mail address');
  if (!EMAIL_RE.test(from))
    throw new WatchdogConfigError('email_alerts.from_email', from, 'an e-mail address');
  const to = string(email.to_email, 'email_alerts.to_email', 'one or more comma-separated e-mail addresses');
  const recipients = to.split(',').map((address) => address.trim());
  if (recipients.some((address) => !EMAIL_RE.test(address))) {
    throw new WatchdogConfigError(
      'email_alerts.to_email',
      to,
      'one or more comma-separated e-mail addresses',
    );
  }
  const username = optionalString(email.username, 'email_alerts.username');
  const password = optionalString(email.password, 'email_alerts.password');
  if (password !== null && username === null) {
    throw new WatchdogConfigError(
      'email_alerts.username',
      email.username,
      'a user name when a password is set',
    );
  }
  return { smtpServer, smtpPort, useTls, from, to: recipients.join(', '), username, password };
}

function parseWebhook(value: unknown): URL | null {
  const webhook = object(value, 'webhook_alerts');
  if (!enabled(webhook, 'webhook_alerts')) return null;
  const text = string(webhook.url, 'webhook_alerts.url', 'an http:// or https:// URL');
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new WatchdogConfigError('webhook_alerts.url', text, 'an http:// or https:// URL', { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WatchdogConfigError('webhook_alerts.url', text, 'an http:// or https:// URL');
  }
  return url;
}

function enabled(section: Record<string, unknown>, key: string): boolean {
  return section.enabled === undefined ? false : boolean(section.enabled, `${key}.enabled`);
}

function object(value: unknown, key: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WatchdogConfigError(key, value, 'a JSON object');
  }
  return value as Record<string, unknown>;
}

function string(value: unknown, key: string, allowed: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new WatchdogConfigError(key, value, allowed);
  return value.trim();
}

function optionalString(value: unknown, key: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new WatchdogConfigError(key, value, 'a string');
  return value;
}

function boolean(value: unknown, key: string): boolean {
  if (typeof value !== 'boolean') throw new WatchdogConfigError(key, value, 'true or false');
  return value;
}

function positiveInteger(value: unknown, key: string, allowed: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new WatchdogConfigError(key, value, allowed);
  }
  return value;
}

function parseVersion(text: string): { major: number; minor: number } {
  const match = /^v?(\d+)\.(\d+)(?:\.\d+)?$/.exec(text);
  if (!match) throw new WatchdogConfigError('alertmanagerVersion', text, 'a version like 0.25 or 0.27.0');
  return { major: Number(match[1]), minor: Number(match[2]) };
}

function describe(value: unknown): string {
  if (value === undefined) return '(missing)';
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

// ---------- the CLI command ----------

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

const TEMPLATES_DIR = fileURLToPath(new URL('../../alerting/templates/', import.meta.url));

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      'watchdog-config': { type: 'string', default: '/etc/desktop-streamer/watchdog-config.json' },
      out: { type: 'string', default: 'alertmanager' },
      'secrets-dir': { type: 'string' },
      'alertmanager-version': { type: 'string', default: DEFAULT_ALERTMANAGER_VERSION },
      force: { type: 'boolean', default: false },
    },
  });
}

/**
 * `desktop-streamer alertmanager-config [--watchdog-config PATH] [--out DIR]
 *  [--secrets-dir DIR] [--alertmanager-version X.Y] [--force]`
 * Writes DIR/alertmanager.yml, DIR/templates/*.tmpl and the secret files (0600) into
 * DIR/secrets (or --secrets-dir), then tells how to check and install them. An existing
 * alertmanager.yml is operator-owned: it is only replaced with --force (exit 73 otherwise).
 */
export async function runAlertmanagerConfigCommand(argv: string[]): Promise<number> {
  // Unknown or incomplete options throw; the CLI prints the message and exits 64.
  const { values } = parseOptions(argv);
  const sourcePath = values['watchdog-config'];
  const outDir = resolve(values.out);
  const secretsDir = resolve(values['secrets-dir'] ?? join(outDir, 'secrets'));

  let json: unknown;
  try {
    json = JSON.parse(await readFile(sourcePath, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    console.error(`alertmanager-config: cannot read ${sourcePath}: ${(error as Error).message}`);
    return code === undefined ? EXIT.dataErr : EXIT.noInput;
  }

  let conversion: WatchdogConversion;
  try {
    conversion = convertWatchdogConfig(json, {
      secretsDir,
      sourcePath,
      alertmanagerVersion: values['alertmanager-version'],
    });
  } catch (error) {
    if (error instanceof WatchdogConfigError) {
      console.error(`alertmanager-config: ${sourcePath}: ${error.message}`);
      return EXIT.dataErr;
    }
    throw error;
  }

  const target = join(outDir, 'alertmanager.yml');
  if (!values.force && (await exists(target))) {
    console.error(`alertmanager-config: ${target} exists (operator-owned); pass --force to replace it`);
    return EXIT.cantCreate;
  }

  try {
    await mkdir(join(outDir, 'templates'), { recursive: true });
    for (const name of (await readdir(TEMPLATES_DIR)).filter((file) => file.endsWith('.tmpl'))) {
      await copyFile(join(TEMPLATES_DIR, name), join(outDir, 'templates', name));
    }
    if (conversion.secrets.length > 0) {
      await mkdir(secretsDir, { recursive: true, mode: 0o700 });
      for (const secret of conversion.secrets) {
        const path = join(secretsDir, secret.name);
        await writeFile(path, secret.content, { mode: 0o600 });
        await chmod(path, 0o600); // an existing file keeps its old mode with writeFile
      }
    }
    await writeFile(target, conversion.yaml, { mode: 0o644 });
  } catch (error) {
    console.error(`alertmanager-config: cannot write into ${outDir}: ${(error as Error).message}`);
    return EXIT.cantCreate;
  }

  for (const warning of conversion.warnings) console.error(`warning: ${warning}`);
  console.log(`wrote ${join(outDir, 'alertmanager.yml')} and ${join(outDir, 'templates')}/`);
  for (const secret of conversion.secrets) console.log(`wrote ${join(secretsDir, secret.name)} (mode 0600)`);
  if (conversion.secrets.length > 0) {
    console.log(`make the secrets readable by Alertmanager's user: chown -R prometheus: ${secretsDir}`);
  }
  console.log(`check it with: amtool check-config ${target}`);
  return EXIT.ok;
}
