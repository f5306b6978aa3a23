import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The example of the earlier system's README, with channels enabled. */
export const README_EXAMPLE = {
  check_interval: 30,
  max_alerts: 10,
  alert_cooldown: 300,
  auto_recovery: { service_restart: true, stream_restart: true, resource_monitoring: true },
  email_alerts: {
    enabled: true,
    smtp_server: 'smtp.gmail.com',
    smtp_port: 587,
    use_tls: true,
    from_email: 'watchdog@example.com',
    to_email: 'admin@example.com',
    username: 'your-email@gmail.com',
    password: 'your-app-password',
  },
  webhook_alerts: { enabled: true, url: 'https://hooks.slack.com/services/YOUR/WEBHOOK/URL' },
};

export async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ds-am-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
