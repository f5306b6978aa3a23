import assert from 'node:assert/strict';
import { once } from 'node:events';
import { closeSync, writeSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fifoDir, openMediaFifo } from '../../src/pipeline/media-fifo.ts';

describe('media FIFO', () => {
  it('hands every byte written to its write end to the reader, each chunk a buffer of its own', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-fifo-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const fifo = await openMediaFifo(dir);
    assert.deepEqual(await readdir(dir), [], 'nothing left on disk');
    const chunks: Buffer[] = [];
    const socket = fifo.read((chunk) => chunks.push(chunk));
    // A second fd on the write end, as a child would have after spawn.
    writeSync(fifo.writeFd, 'first ');
    await new Promise((r) => setTimeout(r, 50));
    writeSync(fifo.writeFd, 'second');
    fifo.closeWriteEnd();
    await once(socket, 'close');
    assert.equal(Buffer.concat(chunks).toString(), 'first second');
    assert.equal(chunks[0]?.toString(), 'first ', 'the first chunk was not overwritten by the next read');
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
