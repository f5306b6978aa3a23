/**
 * A booted systemd box (test/helpers/systemd-box.sh) for the e2e test of the shipped units: exec
 * inside, HTTP to its loopback services from the host, teardown. The box has its own network
 * namespace, so the host reaches its ports through a small forwarder: a node process in the box's
 * network namespace (but the host's filesystem) that accepts on a unix socket under /tmp and
 * connects to 127.0.0.1:PORT inside.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ExecaError, execa } from 'execa';

const SCRIPT = fileURLToPath(new URL('./systemd-box.sh', import.meta.url));
const CREATE_TIMEOUT_MS = 15 * 60_000;
const BOOT_TIMEOUT_MS = 90_000;

export class BoxError extends Error {
  override name = 'BoxError';
}

/** Why a box cannot be built on this machine, or null when it can be tried. */
export function boxUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'systemd-nspawn needs root';
  for (const tool of ['systemd-nspawn', 'mmdebstrap', 'nsenter']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      return `${tool} is not installed (scripts/install-deps.sh --all installs it)`;
    }
  }
  if (!existsSync('/sys/fs/cgroup/cpu/cgroup.procs') && !existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    return 'no cgroup filesystem at /sys/fs/cgroup';
  }
  return null;
}

/** Builds the cached base rootfs (minutes the first time, then nothing); returns its path. */
export async function createRootfs(): Promise<string> {
  try {
    const result = await execa(SCRIPT, ['create'], { timeout: CREATE_TIMEOUT_MS, stdin: 'ignore' });
    return result.stdout.trim();
  } catch (error) {
    const detail =
      error instanceof ExecaError ? (error.stderr || error.shortMessage).slice(-2000) : String(error);
    throw new BoxError(`systemd-box.sh create failed: ${detail}`, { cause: error });
  }
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface HttpResult {
  status: number;
  body: Buffer;
  text(): string;
}

export interface Box {
  name: string;
  /** Host path of the box's / . */
  root: string;
  /** Runs a command inside the box (all its namespaces); never throws on a non-zero exit. */
  exec(args: string[], options?: { env?: Record<string, string>; timeoutMs?: number }): Promise<ExecResult>;
  /** `systemctl show -p …` of a unit, as a record. */
  show(unit: string, properties: string[]): Promise<Record<string, string>>;
  /** HTTP to 127.0.0.1:port inside the box, from the host. */
  http(
    port: number,
    urlPath: string,
    options?: { method?: string; headers?: Record<string, string> },
  ): Promise<HttpResult>;
  /** The host's view of the box's cgroup directory for `unit` in controller `controller` (cgroup v1). */
  cgroupDir(controller: string, unit: string): string;
  stop(): Promise<void>;
}

// Runs in the box's network namespace: one unix socket per port, piped to 127.0.0.1:port there.
const FORWARDER = `
const net = require('node:net');
const fs = require('node:fs');
const [dir, ...ports] = process.argv.slice(1);
for (const port of ports) {
  const file = dir + '/' + port + '.sock';
  fs.rmSync(file, { force: true });
  net.createServer((client) => {
    const upstream = net.connect(Number(port), '127.0.0.1');
    client.pipe(upstream).pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  }).listen(file);
}
process.stdout.write('ready\\n');
`;

async function run(args: string[], timeoutMs: number): Promise<ExecResult> {
  const result = await execa(SCRIPT, args, { timeout: timeoutMs, stdin: 'ignore', reject: false });
  if (result.timedOut) throw new BoxError(`systemd-box.sh ${args.join(' ')} timed out after ${timeoutMs} ms`);
  return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode ?? -1 };
}

/**
 * Boots box `name` with `project` bound read-only at /opt/project and the given extra
 * systemd-nspawn arguments; forwards `ports` of the box's loopback to the host.
 */
export async function bootBox(
  name: string,
  options: { project: string; nspawnArgs?: string[]; ports: number[] },
): Promise<Box> {
  const boot = await execa(SCRIPT, ['boot', name, ...(options.nspawnArgs ?? [])], {
    timeout: BOOT_TIMEOUT_MS,
    stdin: 'ignore',
    reject: false,
    env: { DS_BOX_PROJECT: options.project },
  });
  const stopSync = () => {
    spawnSync(SCRIPT, ['stop', name], { stdio: 'ignore', timeout: 60_000 });
  };
  if (boot.exitCode !== 0) {
    stopSync();
    throw new BoxError(`systemd-box.sh boot ${name} failed: ${boot.stderr || boot.stdout}`);
  }
  process.once('exit', stopSync);
  const root = (await run(['root', name], 10_000)).stdout.trim();
  const pid = (await run(['pid', name], 10_000)).stdout.trim();

  const socketDir = mkdtempSync(path.join(tmpdir(), `ds-box-${name}-`));
  const forwarder: ChildProcess = spawn(
    'nsenter',
    ['-t', pid, '-n', process.execPath, '-e', FORWARDER, socketDir, ...options.ports.map(String)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    forwarder.once('error', reject);
    forwarder.once('exit', (code) => reject(new BoxError(`the port forwarder exited with ${code}`)));
    forwarder.stdout!.once('data', () => resolve());
  });

  let stopped = false;
  const box: Box = {
    name,
    root,
    async exec(args, execOptions = {}) {
      const env = Object.entries(execOptions.env ?? {}).map(([k, v]) => `${k}=${v}`);
      return run(
        ['exec', name, ...(env.length > 0 ? ['env', ...env] : []), ...args],
        execOptions.timeoutMs ?? 60_000,
      );
    },
    async show(unit, properties) {
      const result = await box.exec(['systemctl', 'show', unit, ...properties.map((p) => `--property=${p}`)]);
      const record: Record<string, string> = {};
      for (const line of result.stdout.split('\n')) {
        const at = line.indexOf('=');
        if (at > 0) record[line.slice(0, at)] = line.slice(at + 1);
      }
      return record;
    },
    http(port, urlPath, httpOptions = {}) {
      return new Promise((resolve, reject) => {
        const req = request(
          {
            socketPath: path.join(socketDir, `${port}.sock`),
            path: urlPath,
            method: httpOptions.method ?? 'GET',
            headers: { host: `127.0.0.1:${port}`, ...httpOptions.headers },
            timeout: 10_000,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              const body = Buffer.concat(chunks);
              resolve({ status: res.statusCode ?? 0, body, text: () => body.toString('utf8') });
            });
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new BoxError(`HTTP ${urlPath} on box port ${port} timed out`)));
        req.on('error', reject);
        req.end();
      });
    },
    cgroupDir(controller, unit) {
      return `/sys/fs/cgroup/${controller}/ds-box/${name}/system.slice/${unit}`;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      forwarder.kill('SIGTERM');
      process.removeListener('exit', stopSync);
      await run(['stop', name], 90_000);
      rmSync(socketDir, { recursive: true, force: true });
    },
  };
  return box;
}

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(options.intervalMs ?? 500);
  }
  throw new BoxError(
    `timed out after ${options.timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
  );
}

/**
 * The argv of a desktop entry's Exec= value (the Desktop Entry Specification's quoting: arguments
 * with reserved characters in double quotes, \\ escapes inside them). Field codes are not expected.
 */
export function desktopExecArgv(exec: string): string[] {
  const args: string[] = [];
  let current = '';
  let quoted = false;
  let inArg = false;
  for (let i = 0; i < exec.length; i++) {
    const ch = exec[i]!;
    if (quoted) {
      if (ch === '\\' && i + 1 < exec.length) current += exec[++i];
      else if (ch === '"') quoted = false;
      else current += ch;
    } else if (ch === '"') {
      quoted = true;
      inArg = true;
    } else if (ch === ' ') {
      if (inArg) args.push(current);
      current = '';
      inArg = false;
    } else {
      current += ch;
      inArg = true;
    }
  }
  if (quoted) throw new BoxError(`unterminated quote in Exec=${exec}`);
  if (inArg) args.push(current);
  return args;
}
