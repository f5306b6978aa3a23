/**
 * One gst-launch-1.0 process: spawned in its own process group (so a crash or hang never takes the
 * supervisor down, and a terminal's Ctrl-C reaches the supervisor only), its output parsed into bus
 * events, stopped with SIGINT (EOS thanks to -e) and then SIGKILL after a timeout.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../logger.ts';
import { type BusEvent, parseBusLine } from './bus-parser.ts';
import { type MediaFifo, type MediaReader, openMediaFifo } from './media-fifo.ts';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when stop() asked for it. */
  requested: boolean;
}

export interface PipelineChildOptions {
  argv: string[];
  logger: Logger;
  onEvent: (event: BusEvent) => void;
  onExit: (exit: ChildExit) => void;
  /** gst-launch-1.0 by default; tests pass fake children. */
  command?: string;
  env?: NodeJS.ProcessEnv;
  /** SIGINT → SIGKILL grace period. */
  stopTimeoutMs?: number;
  /** Readers of the picture tap's fds 3 (grey thumbnails) and 4 (JPEGs); see pipeline-argv.ts. */
  pictureTap?: { gray: (chunk: Buffer) => void; jpeg: (chunk: Buffer) => void };
  /** Reader of the encoded stream the pipeline writes on fd 5 (MEDIA_FD in pipeline-argv.ts). */
  onMedia?: (chunk: Buffer) => void;
  /** Whether a viewer needs each frame at once (FrameDemand); when not, the FIFO is drained on a timer. */
  everyFrame?: () => boolean;
  /** Where that stream flows: a FIFO by default (see media-fifo.ts); tests pass failing ones. */
  openMediaFifo?: () => Promise<MediaFifo>;
}

/**
 * A healthy pipeline finishes its EOS in well under a second; one blocked on a frozen X server
 * never will, and every second here delays the slate.
 */
const DEFAULT_STOP_TIMEOUT_MS = 2000;
/** How long a SIGKILLed pipeline may take to be gone before the supervisor stops waiting. */
const KILL_WAIT_MS = 2000;
/**
 * After the process is gone, how long its media FIFO may stay open (a grandchild that inherited
 * it) before the exit is reported without the rest.
 */
const MEDIA_DRAIN_MS = 500;

export function describeExit(exit: Pick<ChildExit, 'code' | 'signal'>): string {
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exited with status ${exit.code}`;
}

export class PipelineChild {
  readonly #options: PipelineChildOptions;
  readonly #log: Logger;
  #process: ChildProcess | null = null;
  #exited: Promise<ChildExit> | null = null;
  #stopRequested = false;

  constructor(options: PipelineChildOptions) {
    this.#options = options;
    this.#log = options.logger;
  }

  get pid(): number | null {
    return this.#process?.pid ?? null;
  }

  /** Spawns the pipeline; resolves once it runs (or failed to: onExit tells). */
  async start(): Promise<void> {
    const command = this.#options.command ?? 'gst-launch-1.0';
    const { pictureTap: tap, onMedia } = this.#options;
    const fifo = onMedia ? await this.#openMediaFifo() : null;
    let child: ChildProcess;
    try {
      child = spawn(command, this.#options.argv, {
        detached: true, // its own process group, so a stop reaches gst-launch's helpers too
        stdio: [
          'ignore',
          'pipe',
          'pipe',
          tap ? 'pipe' : 'ignore',
          tap ? 'pipe' : 'ignore',
          fifo ? fifo.writeFd : onMedia ? 'pipe' : 'ignore',
        ],
        env: { ...process.env, ...this.#options.env },
      });
    } catch (error) {
      fifo?.close();
      throw error;
    }
    fifo?.closeWriteEnd(); // the child has its copy: the FIFO ends when the child's does
    this.#process = child;
    if (tap) {
      child.stdio[3]?.on('data', (chunk: Buffer) => tap.gray(chunk));
      child.stdio[4]?.on('data', (chunk: Buffer) => tap.jpeg(chunk));
    }
    let media: MediaReader | null = null;
    if (fifo && onMedia)
      media = fifo.read(onMedia, {
        ...(this.#options.everyFrame && { everyFrame: this.#options.everyFrame }),
        onError: (error) => this.#log.warn({ err: error.message }, 'reading the pipeline stream failed'),
      });
    else if (onMedia)
      (child.stdio as unknown as Array<NodeJS.ReadableStream | null>)[5]?.on('data', (chunk: Buffer) =>
        onMedia(chunk),
      );
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      lines.on('line', (line) => this.#onLine(line));
    }
    // 'close' (not 'exit') so that the last lines, which say why it ended, are parsed first; and
    // the media FIFO read to its end, so every frame the run sent is in before onExit.
    // A command that cannot be spawned emits 'error' and then 'close' too: one exit only.
    const mediaRead = media ? this.#drained(media, child) : Promise.resolve();
    this.#exited = new Promise<ChildExit>((resolve) => {
      let exit: ChildExit | null = null;
      const settle = async (code: number | null, signal: NodeJS.Signals | null) => {
        await mediaRead;
        exit ??= this.#finish(code, signal);
        resolve(exit);
      };
      child.once('error', (error) => {
        this.#log.error({ err: error.message }, 'pipeline process failed to run');
        if (child.pid === undefined) void settle(null, null);
      });
      child.once('close', (code, signal) => void settle(code, signal));
    });
    this.#log.info({ pid: child.pid, command }, 'pipeline process started');
  }

  /** The media FIFO, or null (with a warning) to fall back to a stdio pipe: it costs more CPU, but streams. */
  async #openMediaFifo(): Promise<MediaFifo | null> {
    try {
      return await (this.#options.openMediaFifo ?? openMediaFifo)();
    } catch (error) {
      this.#log.warn({ err: (error as Error).message }, 'reading the stream from a plain pipe instead');
      return null;
    }
  }

  /** Resolves when the FIFO is read to its end, or MEDIA_DRAIN_MS after the process is gone. */
  async #drained(media: MediaReader, child: ChildProcess): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    child.once('exit', () => {
      media.drain(); // its last bytes now, not at the next paced read
      timer = setTimeout(() => media.destroy(), MEDIA_DRAIN_MS);
    });
    await media.closed;
    clearTimeout(timer);
  }

  #onLine(line: string): void {
    const event = parseBusLine(line);
    if (event) this.#options.onEvent(event);
    else if (/^(ERROR|WARNING|XIO|X Error|\(gst-launch)/.test(line))
      this.#log.debug({ line }, 'pipeline output');
  }

  #finish(code: number | null, signal: NodeJS.Signals | null): ChildExit {
    const exit: ChildExit = { code, signal, requested: this.#stopRequested };
    this.#options.onExit(exit);
    return exit;
  }

  /** SIGINT (EOS) to the process group, SIGKILL after the timeout. Resolves when the process is gone. */
  async stop(): Promise<ChildExit | null> {
    if (!this.#process || !this.#exited) return null;
    this.#stopRequested = true;
    const pid = this.#process.pid;
    if (pid === undefined) return this.#exited;
    this.#signalGroup(pid, 'SIGCONT'); // a SIGSTOPped pipeline cannot act on SIGINT
    this.#signalGroup(pid, 'SIGINT');
    const timeoutMs = this.#options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#log.warn({ pid, timeoutMs }, 'pipeline did not stop on SIGINT; sending SIGKILL');
        this.#signalGroup(pid, 'SIGKILL');
        resolve();
      }, timeoutMs);
    });
    const exit = await Promise.race([this.#exited, killed.then(() => this.#boundedExit(pid))]);
    clearTimeout(timer);
    return exit;
  }

  /**
   * After SIGKILL the exit comes at once — unless the process is stuck in the kernel (a GPU
   * hang, a dead NFS mount) or something else still holds its pipes. Waiting for ever would stall
   * the supervisor: after KILL_WAIT_MS it goes on without it (null), and says so.
   */
  async #boundedExit(pid: number): Promise<ChildExit | null> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), KILL_WAIT_MS);
    });
    const exit = await Promise.race([this.#exited!, gaveUp]);
    clearTimeout(timer);
    if (exit === null)
      this.#log.error({ pid, waitedMs: KILL_WAIT_MS }, 'pipeline did not exit after SIGKILL; abandoning it');
    return exit;
  }

  /** SIGKILL the whole group now (hung pipeline). */
  kill(): void {
    const pid = this.#process?.pid;
    if (pid !== undefined) this.#signalGroup(pid, 'SIGKILL');
  }

  #signalGroup(pid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(-pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  /** Resolves with the exit once the process is gone. */
  exited(): Promise<ChildExit> | null {
    return this.#exited;
  }
}
