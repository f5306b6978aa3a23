import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { BusEvent } from '../../src/pipeline/bus-parser.ts';
import { type ChildExit, PipelineChild } from '../../src/pipeline/child.ts';
import { openMediaFifo } from '../../src/pipeline/media-fifo.ts';

const logger = pino({ level: 'silent' });
const CHILDREN = new URL('../fixtures/children/', import.meta.url).pathname;

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function child(command: string, argv: string[]) {
  const exits: ChildExit[] = [];
  const events: BusEvent[] = [];
  const pipeline = new PipelineChild({
    command,
    argv,
    logger,
    onEvent: (event) => events.push(event),
    onExit: (exit) => exits.push(exit),
  });
  return { pipeline, exits, events };
}

describe('PipelineChild (real processes)', () => {
  it('a command that cannot be spawned is one exit, not two (node emits error, then close)', async () => {
    const { pipeline, exits } = child('/nonexistent/gst-launch-1.0', []);
    await pipeline.start();
    const exit = await pipeline.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(exits.length, 1);
    assert.deepEqual(exit, { code: null, signal: null, requested: true });
  });

  it('reports the exit status once, after the output that came before it', async () => {
    const { pipeline, exits, events } = child('sh', [
      '-c',
      'echo "ERROR: from element /GstPipeline:pipeline0/GstXImageSrc:ximagesrc0: Could not open X display for reading"; exit 3',
    ]);
    await pipeline.start();
    const deadline = Date.now() + 10_000;
    while (exits.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(exits.length, 1);
    assert.equal(exits[0]?.code, 3);
    assert.equal(exits[0]?.requested, false);
    assert.ok(events.length > 0, 'the line before the exit was parsed before onExit');
  });

  it('hands what the pipeline writes on fd 5 to onMedia, all of it before the exit', async () => {
    const media: Buffer[] = [];
    let bytesAtExit: number | null = null;
    const pipeline = new PipelineChild({
      command: 'sh',
      argv: ['-c', 'printf "ts bytes" >&5; printf " and more" >&5; exit 0'],
      logger,
      onEvent: () => {},
      onExit: () => {
        bytesAtExit = Buffer.concat(media).length;
      },
      onMedia: (chunk) => media.push(chunk),
    });
    await pipeline.start();
    const exit = await pipeline.exited();
    assert.equal(Buffer.concat(media).toString(), 'ts bytes and more');
    assert.equal(exit?.code, 0);
    assert.equal(bytesAtExit, 'ts bytes and more'.length, 'every byte was read when onExit ran');
  });

  it('read on a timer (nobody needs each frame), the exit still comes at once, with every byte', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-child-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const endedAtFile = join(dir, 'ended-at');
    const media: Buffer[] = [];
    let bytesAtExit: number | null = null;
    let exitReportedAt = 0;
    const pipeline = new PipelineChild({
      command: 'sh',
      // It ends about a third of the way between two paced reads (333 ms apart from the start).
      argv: ['-c', `printf "frames" >&5; sleep 0.45; printf " last" >&5; date +%s%3N > ${endedAtFile}`],
      logger,
      onEvent: () => {},
      onExit: () => {
        exitReportedAt = Date.now();
        bytesAtExit = Buffer.concat(media).length;
      },
      onMedia: (chunk) => media.push(chunk),
      everyFrame: () => false,
    });
    await pipeline.start();
    assert.equal((await pipeline.exited())?.code, 0);
    assert.equal(bytesAtExit, 'frames last'.length, 'every byte was read when onExit ran');
    const endedAt = Number(await readFile(endedAtFile, 'utf8'));
    const waited = exitReportedAt - endedAt;
    // Not at the next paced read (≈ 200 ms later) nor after MEDIA_DRAIN_MS (500 ms).
    assert.ok(waited < 150, `the exit was reported ${waited} ms after the process ended`);
  });

  it('reads the stream from a FIFO that is gone from disk once the child runs', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-fifo-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const media: Buffer[] = [];
    let entriesWhileRunning: string[] | null = null;
    const pipeline = new PipelineChild({
      command: 'sh',
      argv: ['-c', 'printf "%s" "$(readlink /proc/$$/fd/5)" >&5'],
      logger,
      onEvent: () => {},
      onExit: () => {},
      onMedia: (chunk) => media.push(chunk),
      openMediaFifo: async () => {
        const fifo = await openMediaFifo(dir);
        entriesWhileRunning = await readdir(dir);
        return fifo;
      },
    });
    await pipeline.start();
    await pipeline.exited();
    assert.deepEqual(entriesWhileRunning, [], 'unlinked as soon as both ends were open');
    assert.match(
      Buffer.concat(media).toString(),
      /\/\.desktop-streamer-media-\d+-[0-9a-f]+ \(deleted\)$/,
      "the child's fd 5 was the unlinked FIFO",
    );
  });

  it('falls back to a plain pipe when no FIFO can be made, and says so', async () => {
    const media: Buffer[] = [];
    const warnings: string[] = [];
    const warnLogger = pino(
      { level: 'warn' },
      { write: (line: string) => warnings.push(JSON.parse(line).msg as string) },
    );
    const pipeline = new PipelineChild({
      command: 'sh',
      argv: ['-c', 'printf "still streams" >&5'],
      logger: warnLogger,
      onEvent: () => {},
      onExit: () => {},
      onMedia: (chunk) => media.push(chunk),
      openMediaFifo: () => Promise.reject(new Error('mkfifo: Read-only file system')),
    });
    await pipeline.start();
    await pipeline.exited();
    assert.equal(Buffer.concat(media).toString(), 'still streams');
    assert.deepEqual(warnings, ['reading the stream from a plain pipe instead']);
  });

  it('reports an exit soon even while a grandchild keeps the FIFO open, with what came before', async (t) => {
    const exits: ChildExit[] = [];
    const media: Buffer[] = [];
    const pipeline = new PipelineChild({
      command: 'sh',
      // The grandchild keeps fd 5 (the FIFO's write end) but not stdout/stderr.
      argv: ['-c', 'sleep 30 >/dev/null 2>&1 & printf "frame" >&5; exit 1'],
      logger,
      onEvent: () => {},
      onExit: (exit) => exits.push(exit),
      onMedia: (chunk) => media.push(chunk),
    });
    await pipeline.start();
    const pid = pipeline.pid!;
    t.after(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {}
    });
    const startedAt = Date.now();
    await pipeline.exited();
    assert.ok(Date.now() - startedAt < 3000, `the exit came ${Date.now() - startedAt} ms after the start`);
    assert.equal(exits[0]?.code, 1);
    assert.equal(Buffer.concat(media).toString(), 'frame');
  });

  it('stop() gives up waiting after SIGKILL + 2 s when the exit never shows (pipes held by a grandchild)', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-child-'));
    const pidFile = join(dir, 'grandchild.pid');
    let grandchild: number | null = null;
    t.after(async () => {
      if (grandchild !== null && !isGone(grandchild)) process.kill(grandchild, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });
    const exits: ChildExit[] = [];
    const stopTimeoutMs = 300;
    const pipeline = new PipelineChild({
      command: join(CHILDREN, 'leaves-grandchild.sh'),
      argv: [],
      logger,
      env: { FAKE_GRANDCHILD_PIDFILE: pidFile },
      stopTimeoutMs,
      onEvent: () => {},
      onExit: (exit) => exits.push(exit),
      onMedia: () => {},
    });
    await pipeline.start();
    const pid = pipeline.pid!;
    await until('the grandchild runs', async () => {
      grandchild = Number(await readFile(pidFile, 'utf8').catch(() => '')) || null;
      return grandchild !== null;
    });
    const startedAt = Date.now();
    const exit = await pipeline.stop();
    const tookMs = Date.now() - startedAt;
    assert.equal(exit, null, 'no exit to report');
    assert.ok(
      tookMs >= stopTimeoutMs + 2000 - 50,
      `waited ${tookMs} ms: the SIGINT grace, then 2 s after SIGKILL`,
    );
    assert.ok(tookMs < stopTimeoutMs + 2000 + 1500, `stop() took ${tookMs} ms`);
    assert.ok(isGone(pid), 'the pipeline process itself was killed');
    assert.ok(!isGone(grandchild!), 'its pipes are still held open, so no close came');
    assert.equal(exits.length, 0);
    // Once the pipes close, the exit is still reported, once, as requested.
    process.kill(grandchild!, 'SIGKILL');
    await until('the late exit', () => exits.length > 0);
    assert.equal(exits.length, 1);
    assert.equal(exits[0]?.requested, true);
    assert.equal(exits[0]?.signal, 'SIGKILL');
  });
});
