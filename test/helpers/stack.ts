/**
 * The whole system for end-to-end tests: the real supervisor (`desktop-streamer run`, as a child
 * process, exactly as systemd starts it) capturing the virtual two-monitor rig, on an ephemeral port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Config } from '../../src/config/schema.ts';
import { type Rig, startRig } from './rig.ts';

const REPO = new URL('../..', import.meta.url).pathname;

export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface Stack {
  baseUrl: string;
  port: number;
  display: string;
  outputDir: string;
  configPath: string;
  rig: Rig;
  /** Every JSON log line of the supervisor so far. */
  logs: LogRecord[];
  /** pid of the current gst-launch-1.0 child (from the supervisor's log), null before the first. */
  pipelinePid(): number | null;
  /** Resolves with the first log record matching, waiting up to timeoutMs. */
  waitForLog(predicate: (record: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  /** Polls the public playlist until `predicate` holds. */
  waitForPlaylist(predicate: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  /** The supervisor process (to SIGKILL it in a test). */
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Merged over the defaults by the supervisor, one level deep: a section may be given in part. */
  config?: { [K in keyof Config]?: Config[K] extends object ? Partial<Config[K]> : Config[K] } & Record<
    string,
    unknown
  >;
  rig?: Rig;
  env?: NodeJS.ProcessEnv;
  /** Reuse an output dir (supervisor restart tests). */
  outputDir?: string;
  /** Run the built JavaScript (`npm run build` first), as the installed service does; default: the TypeScript sources under tsx. */
  built?: boolean;
  /** Extra node flags, e.g. `--cpu-prof` for a benchmark. */
  nodeArgs?: string[];
  /** Limit of open files (soft and hard) from the process's start, as systemd's LimitNOFILE sets it (via prlimit, which execs node: same pid). */
  openFilesLimit?: number;
  /** Another checkout to run (a benchmark's baseline, e.g. a `git worktree` of an older commit). */
  repo?: string;
}

/** A UDP port nobody has bound right now (the kernel's pick). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const rig = options.rig ?? (await startRig());
  const ownsRig = !options.rig;
  const dir = await mkdtemp(join(tmpdir(), 'ds-stack-'));
  const outputDir = options.outputDir ?? join(dir, 'hls');
  const configPath = join(dir, 'config.json');
  const config = {
    output_dir: outputDir,
    port: 0,
    bind_address: '127.0.0.1',
    ...options.config,
    // Stacks run side by side: each its own WebRTC UDP port.
    webrtc: { udp_port: await freeUdpPort(), ...options.config?.webrtc },
  };
  await writeFile(configPath, JSON.stringify(config, null, 2));

  const logs: LogRecord[] = [];
  const waiters = new Set<(record: LogRecord) => void>();
  const limit = options.openFilesLimit;
  const child = spawn(
    limit === undefined ? process.execPath : 'prlimit',
    [
      ...(limit === undefined ? [] : [`--nofile=${limit}:${limit}`, process.execPath]),
      ...(options.nodeArgs ?? []),
      ...(options.built ? ['dist/cli/index.js'] : ['--import', 'tsx', 'src/cli/index.ts']),
      'run',
      '--config',
      configPath,
    ],
    {
      cwd: options.repo ?? REPO,
      env: { ...process.env, DISPLAY: rig.display, LOG_LEVEL: 'debug', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let record: LogRecord;
    try {
      record = JSON.parse(line) as LogRecord;
    } catch {
      return;
    }
    logs.push(record);
    for (const waiter of waiters) waiter(record);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForLog = (predicate: (record: LogRecord) => boolean, timeoutMs = 30_000): Promise<LogRecord> => {
    const seen = logs.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no matching supervisor log line within ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      const waiter = (record: LogRecord) => {
        if (!predicate(record)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(record);
      };
      waiters.add(waiter);
      void exited.then((code) => {
        if (!waiters.has(waiter)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        reject(new Error(`supervisor exited (${code}) before the expected log line; stderr: ${stderr}`));
      });
    });
  };

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    if (ownsRig) await rig.stop();
    await rm(dir, { recursive: true, force: true });
  };

  let serving: LogRecord;
  try {
    serving = await waitForLog((r) => r.msg === 'serving HLS, API and metrics', 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const port = serving.port as number;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    port,
    display: rig.display,
    outputDir,
    configPath,
    rig,
    logs,
    process: child,
    pipelinePid: () => {
      const started = logs.filter((r) => r.msg === 'pipeline process started').at(-1);
      return typeof started?.pid === 'number' ? started.pid : null;
    },
    waitForLog,
    waitForPlaylist: async (predicate, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        const response = await fetch(`${baseUrl}/hls/desktop/playlist.m3u8`).catch(() => null);
        if (response?.ok) {
          last = await response.text();
          if (predicate(last)) return last;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`playlist condition not met within ${timeoutMs} ms; last playlist:\n${last}`);
    },
    stop,
  };
}

/** Media sequence and segment URIs of a playlist text. */
export function parsePlaylist(text: string): {
  mediaSequence: number;
  discontinuitySequence: number;
  segments: string[];
  discontinuities: number;
} {
  const number = (tag: string) => Number(new RegExp(`#${tag}:(\\d+)`).exec(text)?.[1] ?? 0);
  return {
    mediaSequence: number('EXT-X-MEDIA-SEQUENCE'),
    discontinuitySequence: number('EXT-X-DISCONTINUITY-SEQUENCE'),
    segments: text.split('\n').filter((line) => line !== '' && !line.startsWith('#')),
    discontinuities: (text.match(/#EXT-X-DISCONTINUITY\n/g) ?? []).length,
  };
}

export interface PlaylistEntry {
  sequence: number;
  uri: string;
  /** An EXT-X-DISCONTINUITY precedes it. */
  discontinuity: boolean;
}

/** Every segment of a playlist with its media sequence number and whether a discontinuity precedes it. */
export function playlistEntries(text: string): PlaylistEntry[] {
  let sequence = parsePlaylist(text).mediaSequence;
  let discontinuity = false;
  const entries: PlaylistEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (line !== '' && !line.startsWith('#')) {
      entries.push({ sequence: sequence++, uri: line, discontinuity });
      discontinuity = false;
    }
  }
  return entries;
}
