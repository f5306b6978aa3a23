/**
 * The pipe on which a pipeline child writes its encoded stream (MEDIA_FD). Node can only hand a
 * child a pipe it made itself, so this is a FIFO (Node has no pipe(2)): made with mkfifo, opened
 * at both ends, and unlinked at once, so nothing is left on disk and a later run never shares it.
 *
 * It is read at one of two cadences, chosen again at every read (`everyFrame`):
 * - every frame as it is made, while a viewer needs that (Low-Latency HLS, WebRTC):
 *   `net.Socket`'s `onread`, one reused buffer and no stream machinery, about half the CPU of a
 *   `'data'` listener on the child's stdio pipe (bench/intake-floor.ts);
 * - otherwise, while the stream is slow enough for it (intake-cadence.ts), drained every
 *   PACED_READ_INTERVAL_MS with `readSync` on the non-blocking read end, which is then out of the
 *   event loop: a fifth of the wake-ups at 15 fps (bench/intake-cadence.ts). The pipeline queues
 *   what the pipe cannot hold meanwhile (pipeline-argv.ts), so its encoder never waits for this reader.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { type OnReadOpts, Socket, type SocketConstructorOpts } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../system/run-command.ts';
import {
  type IntakeCadence,
  nextCadence,
  PACED_READ_INTERVAL_MS,
  PIPE_CAPACITY_BYTES,
  RateMeter,
} from './intake-cadence.ts';

export { PACED_READ_INTERVAL_MS } from './intake-cadence.ts';

export interface MediaFifo {
  /** For the child's stdio: close it here once the child has its copy (`closeWriteEnd`). */
  readonly writeFd: number;
  closeWriteEnd(): void;
  /** Starts reading: every chunk is a fresh Buffer the callee may keep. */
  read(onData: (chunk: Buffer) => void, options?: MediaReadOptions): MediaReader;
  /** Closes both ends (when the child was never started). */
  close(): void;
}

export interface MediaReadOptions {
  /** Asked as the stream is read: false lets it be drained on a timer (intake-cadence.ts). Default: always true. */
  everyFrame?: () => boolean;
  onError?: (error: Error) => void;
  /** epoch ms; default Date.now */
  now?: () => number;
}

export interface MediaReader {
  /** Resolves once the FIFO was read to its end (every write end closed) or destroyed. */
  readonly closed: Promise<void>;
  /** Read what the FIFO holds now, up to its end, not at the next timer: the writer has exited. */
  drain(): void;
  /** Stop reading and close the read end (a grandchild still holds the write end). */
  destroy(): void;
}

/**
 * A directory only this service writes to: systemd's RuntimeDirectory (tmpfs, so a full disk
 * does not stop the stream), else the temp dir.
 */
export function fifoDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.RUNTIME_DIRECTORY?.split(':')[0] || tmpdir();
}

export async function openMediaFifo(dir = fifoDir()): Promise<MediaFifo> {
  const path = join(dir, `.desktop-streamer-media-${process.pid}-${randomBytes(6).toString('hex')}`);
  const made = await runCommand('mkfifo', ['-m', '600', path], { timeoutMs: 5000 });
  if (made.exitCode !== 0) {
    const why = made.failure?.message ?? (made.stderr.trim() || `mkfifo exited with ${made.exitCode}`);
    throw new Error(`cannot make the media FIFO ${path}: ${why}`);
  }
  try {
    // Neither open blocks: the read end is non-blocking, and the write end has its reader.
    const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    let writeFd: number;
    try {
      writeFd = openSync(path, constants.O_WRONLY);
    } catch (error) {
      closeSync(readFd);
      throw error;
    }
    return fifoEnds(readFd, writeFd);
  } finally {
    await unlink(path).catch(() => {});
  }
}

function fifoEnds(readFd: number, writeFd: number): MediaFifo {
  let writeOpen = true;
  let reading = false;
  const closeWriteEnd = () => {
    if (writeOpen) closeSync(writeFd);
    writeOpen = false;
  };
  return {
    writeFd,
    closeWriteEnd,
    read(onData, options = {}) {
      reading = true;
      return startReading(readFd, onData, options);
    },
    close() {
      closeWriteEnd();
      if (!reading) closeSync(readFd);
      reading = true;
    },
  };
}

function startReading(
  readFd: number,
  onData: (chunk: Buffer) => void,
  { everyFrame = () => true, onError, now = Date.now }: MediaReadOptions,
): MediaReader {
  const buffer = Buffer.allocUnsafe(PIPE_CAPACITY_BYTES);
  const rate = new RateMeter(now());
  let pipeWasFull = false;
  const take = (bytes: number) => {
    if (bytes === buffer.length) pipeWasFull = true;
    rate.add(bytes, now());
    onData(Buffer.from(buffer.subarray(0, bytes)));
  };
  // Until the first rate window ends, a fast stream is caught by the pipe filling up.
  let cadence: IntakeCadence = everyFrame() ? 'frame' : 'paced';
  const decide = (): IntakeCadence => {
    cadence = nextCadence(cadence, {
      everyFrame: everyFrame(),
      bytesPerSecond: rate.bytesPerSecond,
      pipeWasFull,
    });
    pipeWasFull = false;
    return cadence;
  };
  let timer: NodeJS.Timeout | null = null;
  const pace = () => {
    timer ??= setInterval(() => {
      drain({ toTheEnd: false });
      if (timer !== null && decide() === 'frame') {
        stopPacing();
        socket.resume();
      }
    }, PACED_READ_INTERVAL_MS);
  };
  const stopPacing = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  const onread: OnReadOpts = {
    buffer,
    callback: (bytes) => {
      take(bytes);
      if (decide() === 'frame') return true;
      pace();
      return false; // Node stops reading the socket: the fd leaves the event loop
    },
  };
  // Node's Socket takes `onread` (documented for net.Socket and net.connect); @types/node
  // declares it for net.connect only. pauseOnCreate: the first read is a paced one or a resume().
  const socketOptions: SocketConstructorOpts & { onread: OnReadOpts; pauseOnCreate: boolean } = {
    fd: readFd,
    readable: true,
    writable: false,
    onread,
    pauseOnCreate: true,
  };
  const socket = new Socket(socketOptions);
  if (onError) socket.on('error', onError);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const destroy = () => {
    stopPacing();
    socket.destroy();
  };
  /**
   * Reads until the pipe is empty or at its end. A read that returns less than the buffer has
   * emptied it (a pipe read takes all it holds, up to the buffer): unless `toTheEnd`, that is
   * where a paced read stops, which spares it the EAGAIN exception of one more read.
   * Paced only: a reading socket sees the end itself.
   */
  function drain({ toTheEnd }: { toTheEnd: boolean }): void {
    if (timer === null) return;
    for (;;) {
      let bytes: number;
      try {
        bytes = readSync(readFd, buffer);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return;
        onError?.(error as Error);
        destroy();
        return;
      }
      if (bytes === 0) {
        destroy(); // every write end is closed
        return;
      }
      take(bytes);
      if (bytes < buffer.length && !toTheEnd) return;
    }
  }
  if (cadence === 'frame') socket.resume();
  else pace();
  return { closed, drain: () => drain({ toTheEnd: true }), destroy };
}
