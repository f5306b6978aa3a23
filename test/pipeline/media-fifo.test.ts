import assert from 'node:assert/strict';
import { closeSync, writeSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fifoDir, openMediaFifo, PACED_READ_INTERVAL_MS } from '../../src/pipeline/media-fifo.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function fifoIn(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'ds-fifo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return openMediaFifo(dir);
}

describe('media FIFO', () => {
  it('hands every byte written to its write end to the reader, each chunk a buffer of its own', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-fifo-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const fifo = await openMediaFifo(dir);
    assert.deepEqual(await readdir(dir), [], 'nothing left on disk');
    const chunks: Buffer[] = [];
    const reader = fifo.read((chunk) => chunks.push(chunk));
    // A second fd on the write end, as a child would have after spawn.
    writeSync(fifo.writeFd, 'first ');
    await new Promise((r) => setTimeout(r, 50));
    writeSync(fifo.writeFd, 'second');
    fifo.closeWriteEnd();
    await reader.closed;
    assert.equal(Buffer.concat(chunks).toString(), 'first second');
    assert.equal(chunks[0]?.toString(), 'first ', 'the first chunk was not overwritten by the next read');
  });

  it('while nobody needs each frame, reads on a timer only, everything the pipe holds at once', async (t) => {
    const fifo = await fifoIn(t);
    const chunks: Buffer[] = [];
    const reader = fifo.read((chunk) => chunks.push(chunk), { everyFrame: () => false });
    t.after(() => reader.destroy());
    writeSync(fifo.writeFd, 'one ');
    await sleep(20);
    writeSync(fifo.writeFd, 'two');
    await sleep(PACED_READ_INTERVAL_MS / 3);
    assert.equal(chunks.length, 0, 'nothing read before the timer');
    await sleep(PACED_READ_INTERVAL_MS);
    assert.deepEqual(
      chunks.map((c) => c.toString()),
      ['one two'],
    );
    // A full pipe takes more than one read; the chunks stay whole and in order.
    const full = Buffer.alloc(64 * 1024, 'x');
    full.write('start');
    writeSync(fifo.writeFd, full);
    await sleep(PACED_READ_INTERVAL_MS * 1.5);
    assert.equal(Buffer.concat(chunks.slice(1)).toString(), full.toString());
    fifo.closeWriteEnd();
    await reader.closed; // the end of the stream, seen by a paced read
  });

  it('drain() reads at once, up to the end of the stream, without waiting for the timer', async (t) => {
    const fifo = await fifoIn(t);
    const chunks: Buffer[] = [];
    const reader = fifo.read((chunk) => chunks.push(chunk), { everyFrame: () => false });
    writeSync(fifo.writeFd, 'last frames');
    fifo.closeWriteEnd();
    reader.drain();
    assert.equal(Buffer.concat(chunks).toString(), 'last frames');
    let closed = false;
    void reader.closed.then(() => {
      closed = true;
    });
    await sleep(20);
    assert.ok(closed, 'closed long before a paced read');
  });

  it('follows the demand: a read per write while every frame is wanted, the timer when not', async (t) => {
    const fifo = await fifoIn(t);
    const chunks: Buffer[] = [];
    let everyFrame = false;
    let clock = 0; // the stream's rate is measured over windows of a second
    const reader = fifo.read((chunk) => chunks.push(chunk), {
      everyFrame: () => everyFrame,
      now: () => clock,
    });
    t.after(() => reader.destroy());
    everyFrame = true; // a low-latency viewer came: the next paced read is the last
    await sleep(PACED_READ_INTERVAL_MS * 1.5);
    for (const word of ['a', 'b', 'c']) {
      writeSync(fifo.writeFd, word);
      const before = Date.now();
      while (chunks.at(-1)?.toString() !== word && Date.now() - before < 2000) await sleep(5);
      // Well before the next paced read could have come.
      assert.ok(
        Date.now() - before < PACED_READ_INTERVAL_MS / 2,
        `"${word}" read ${Date.now() - before} ms after it was written`,
      );
    }
    assert.deepEqual(
      chunks.map((c) => c.toString()),
      ['a', 'b', 'c'],
    );
    everyFrame = false; // it left: after one more read (ending a slow second), the timer again
    clock += 1000;
    writeSync(fifo.writeFd, 'd');
    await sleep(30);
    writeSync(fifo.writeFd, 'e');
    await sleep(20);
    writeSync(fifo.writeFd, 'f');
    await sleep(30);
    assert.deepEqual(
      chunks.map((c) => c.toString()),
      ['a', 'b', 'c', 'd'],
    );
    await sleep(PACED_READ_INTERVAL_MS * 1.2);
    assert.deepEqual(
      chunks.map((c) => c.toString()),
      ['a', 'b', 'c', 'd', 'ef'],
    );
  });

  it('a stream faster than a timer can carry is read frame by frame: a full pipe switches at once', async (t) => {
    const fifo = await fifoIn(t);
    const chunks: Buffer[] = [];
    const reader = fifo.read((chunk) => chunks.push(chunk), { everyFrame: () => false });
    t.after(() => reader.destroy());
    writeSync(fifo.writeFd, Buffer.alloc(64 * 1024, 'k')); // the pipe is full: its writer would wait
    await sleep(PACED_READ_INTERVAL_MS * 1.2); // the first paced read has taken it; the next is ≈ 270 ms away
    assert.equal(Buffer.concat(chunks).length, 64 * 1024);
    writeSync(fifo.writeFd, 'next frame');
    const before = Date.now();
    while (chunks.at(-1)?.toString() !== 'next frame' && Date.now() - before < 2000) await sleep(5);
    assert.ok(
      Date.now() - before < PACED_READ_INTERVAL_MS / 2,
      `read ${Date.now() - before} ms after it was written`,
    );
  });

  it('names the path and the reason when it cannot be made', async () => {
    await assert.rejects(openMediaFifo('/nonexistent-dir'), (error: Error) => {
      assert.match(
        error.message,
        /cannot make the media FIFO \/nonexistent-dir\/\.desktop-streamer-media-\d+-[0-9a-f]+: /,
      );
      assert.match(error.message, /No such file or directory/);
      return true;
    });
  });

  it('close() before any read closes both ends', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-fifo-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const fifo = await openMediaFifo(dir);
    fifo.close();
    assert.throws(() => closeSync(fifo.writeFd), { code: 'EBADF' });
  });

  it("lives in systemd's RuntimeDirectory (the first of several) when there is one", () => {
    assert.equal(
      fifoDir({ RUNTIME_DIRECTORY: '/run/desktop-streamer:/run/desktop-streamer/hls' }),
      '/run/desktop-streamer',
    );
    assert.equal(fifoDir({}), tmpdir());
  });
});
