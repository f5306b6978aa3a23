/**
 * The pipe on which a pipeline child writes its encoded stream (MEDIA_FD), read with
 * `net.Socket`'s `onread`: one reused buffer and no stream machinery, about half the CPU of a
 * `'data'` listener on the child's stdio pipe (bench/intake-floor.ts). Node can only hand it a
 * pipe it made itself, so this is a FIFO (Node has no pipe(2)): made with mkfifo, opened at both
 * ends, and unlinked at once, so nothing is left on disk and a later run never shares it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { type OnReadOpts, Socket, type SocketConstructorOpts } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../system/run-command.ts';

export interface MediaFifo {
  /** For the child's stdio: close it here once the child has its copy (`closeWriteEnd`). */
  readonly writeFd: number;
  closeWriteEnd(): void;
  /** Starts reading: every chunk is a fresh Buffer the callee may keep. */
  read(onData: (chunk: Buffer) => void): Socket;
  /** Closes both ends (when the child was never started). */
  close(): void;
}

/** One read takes what a pipe holds at most. */
const READ_BUFFER_BYTES = 64 * 1024;

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
    read(onData) {
      reading = true;
      const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      const onread: OnReadOpts = {
        buffer,
        callback: (bytes) => {
          onData(Buffer.from(buffer.subarray(0, bytes)));
          return true;
        },
      };
      // Node's Socket takes `onread` (documented for net.Socket and net.connect); @types/node
      // declares it for net.connect only.
      const options: SocketConstructorOpts & { onread: OnReadOpts } = {
        fd: readFd,
        readable: true,
        writable: false,
        onread,
      };
      return new Socket(options);
    },
    close() {
      closeWriteEnd();
      if (!reading) closeSync(readFd);
      reading = true;
    },
  };
}
