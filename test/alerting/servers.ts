/**
 * Real servers on loopback for alerting tests: Debian's prometheus and prometheus-alertmanager
 * on free ports with temp storage, an SMTP server (STARTTLS + AUTH, the smtp-server package)
 * and a plain HTTP receiver standing in for Slack, Discord and a generic webhook.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SMTPServer } from 'smtp-server';

const run = promisify(execFile);

export async function freePort(): Promise<number> {
  const server = createNetServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const result = await probe();
      if (result) return result;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

// ---------- a daemon child process ----------

export interface Daemon {
  url: string;
  process: ChildProcess;
  /** Last lines of its stderr, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

async function startDaemon(
  command: string,
  args: string[],
  url: string,
  readyPath: string,
  env: NodeJS.ProcessEnv = {},
): Promise<Daemon> {
  const child = spawn(command, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    await waitFor(
      `${command} to be ready`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${command} exited ${child.exitCode}: ${stderr}`);
        return (await fetch(`${url}${readyPath}`).catch(() => null))?.ok;
      },
      30_000,
    );
  } catch (error) {
    await stop();
    throw new Error(`${command} did not start: ${stderr}`, { cause: error });
  }
  return { url, process: child, log: () => stderr, stop };
}

/**
 * `port`: when the config must name it beforehand (Prometheus scraping itself).
 * `extraArgs`: further flags, e.g. --web.enable-remote-write-receiver.
 */
export async function startPrometheus(
  configFile: string,
  storageDir: string,
  port?: number,
  extraArgs: string[] = [],
): Promise<Daemon> {
  port ??= await freePort();
  return startDaemon(
    '/usr/bin/prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${storageDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...extraArgs,
    ],
    `http://127.0.0.1:${port}`,
    '/-/ready',
  );
}

/** `env`: e.g. SSL_CERT_FILE, so Go trusts a test CA for TLS without a tls_config in the file. */
export async function startAlertmanager(
  configFile: string,
  storageDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<Daemon> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return startDaemon(
    '/usr/bin/prometheus-alertmanager',
    [
      `--config.file=${configFile}`,
      `--storage.path=${storageDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    url,
    '/-/ready',
    env,
  );
}

/** Instant query against a running Prometheus; returns the result vector. */
export async function promQuery(
  prometheusUrl: string,
  query: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as { status: string; data: { result: [] }; error?: string };
  if (body.status !== 'success') throw new Error(`query ${query}: ${body.error}`);
  return body.data.result;
}

// ---------- SMTP ----------

export interface ReceivedMail {
  at: number;
  from: string;
  to: string[];
  subject: string;
  /** Decoded text of every part (text and HTML), for searching. */
  body: string;
  raw: string;
  secure: boolean;
  user: string | undefined;
}

export interface SmtpSink {
  port: number;
  /** PEM of the self-signed certificate, for Alertmanager's tls_config.ca_file. */
  certFile: string;
  mails: ReceivedMail[];
  stop(): Promise<void>;
}

/** Decodes quoted-printable bodies (Alertmanager sends its parts that way). */
export function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => `%${hex}`);
  try {
    return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/gi, '%25'));
  } catch {
    return bytes;
  }
}

export async function startSmtpSink(
  dir: string,
  credentials: { user: string; password: string },
): Promise<SmtpSink> {
  const keyFile = join(dir, 'smtp-key.pem');
  const certFile = join(dir, 'smtp-cert.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    key: await readFile(keyFile),
    cert: await readFile(certFile),
    authMethods: ['PLAIN', 'LOGIN'],
    // Alertmanager with require_tls must upgrade with STARTTLS before it may authenticate.
    allowInsecureAuth: false,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.user && auth.password === credentials.password) {
        callback(null, { user: auth.username });
      } else {
        callback(new Error('invalid credentials'));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const headerEnd = raw.indexOf('\r\n\r\n');
        const headers = raw.slice(0, headerEnd).replace(/\r\n[ \t]+/g, ' ');
        mails.push({
          at: Date.now(),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: /^Subject: (.*)$/im.exec(headers)?.[1] ?? '',
          body: decodeQuotedPrintable(raw.slice(headerEnd + 4)),
          raw,
          secure: session.secure,
          user: session.user as string | undefined,
        });
        callback();
      });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('no SMTP port');
  return {
    port: address.port,
    certFile,
    mails,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ---------- HTTP receiver for Slack, Discord and webhook payloads ----------

export interface ReceivedRequest {
  at: number;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

export interface HttpSink {
  url: string;
  requests: ReceivedRequest[];
  stop(): Promise<void>;
}

export async function startHttpSink(): Promise<HttpSink> {
  const requests: ReceivedRequest[] = [];
  const server: Server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body: unknown = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = Buffer.concat(chunks).toString('utf8');
      }
      requests.push({
        at: Date.now(),
        path: request.url ?? '',
        authorization: request.headers.authorization,
        body,
      });
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no HTTP port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
