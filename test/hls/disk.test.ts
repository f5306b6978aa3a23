import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  ensureWritableDir,
  HlsOutputError,
  TEMP_FILE_PATTERN,
  tempFileNameFor,
  unlinkOurs,
  writeFileAtomic,
} from '../../src/hls/disk.ts';
import { SEGMENT_NAME_PATTERN } from '../../src/hls/playlist.ts';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hls-disk-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('temp names of both atomically written files are recognised as ours, nothing else is', () => {
  for (const target of ['/x/desktop/playlist.m3u8', '/x/.state.json']) {
    assert.match(path.basename(tempFileNameFor(target)), TEMP_FILE_PATTERN);
    assert.equal(path.dirname(tempFileNameFor(target)), path.dirname(target));
  }
  for (const name of ['playlist.m3u8', '.playlist.m3u8.tmp', '.notes.txt.0123456789ab.tmp', 'x.tmp']) {
    assert.doesNotMatch(name, TEMP_FILE_PATTERN);
  }
});

test('writeFileAtomic replaces the file and leaves no temp file', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'playlist.m3u8');
  await writeFileAtomic(file, 'one');
  await writeFileAtomic(file, 'two');
  assert.equal(await readFile(file, 'utf8'), 'two');
  assert.deepEqual(await readdir(dir), ['playlist.m3u8']);
  await mkdir(path.join(dir, 'blocked'));
  await assert.rejects(writeFileAtomic(path.join(dir, 'blocked'), 'x'));
  assert.deepEqual((await readdir(dir)).sort(), ['blocked', 'playlist.m3u8'], 'temp removed after a failure');
});

test('unlinkOurs deletes only regular files with our names', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'seg-000000001.ts'), '12345');
  await writeFile(path.join(dir, 'notes.txt'), 'foreign');
  await writeFile(path.join(dir, 'target'), 'foreign target');
  await symlink(path.join(dir, 'target'), path.join(dir, 'seg-000000002.ts'));
  await mkdir(path.join(dir, 'seg-000000003.ts'));
  assert.equal(await unlinkOurs(dir, 'notes.txt', SEGMENT_NAME_PATTERN), 0);
  assert.equal(await unlinkOurs(dir, '../seg-000000001.ts', SEGMENT_NAME_PATTERN), 0);
  assert.equal(await unlinkOurs(dir, 'seg-000000002.ts', SEGMENT_NAME_PATTERN), 0, 'a symlink is not ours');
  assert.equal(await unlinkOurs(dir, 'seg-000000003.ts', SEGMENT_NAME_PATTERN), 0, 'a directory is not ours');
  assert.equal(await unlinkOurs(dir, 'seg-000000004.ts', SEGMENT_NAME_PATTERN), 0, 'missing');
  assert.equal(await unlinkOurs(dir, 'seg-000000001.ts', SEGMENT_NAME_PATTERN), 5);
  assert.deepEqual((await readdir(dir)).sort(), [
    'notes.txt',
    'seg-000000002.ts',
    'seg-000000003.ts',
    'target',
  ]);
  assert.ok(existsSync(path.join(dir, 'target')));
});

test('ensureWritableDir creates the dir or throws HlsOutputError with the path and cause', async (t) => {
  const dir = await tempDir(t);
  await ensureWritableDir(path.join(dir, 'a', 'b'));
  assert.ok(existsSync(path.join(dir, 'a', 'b')));
  await writeFile(path.join(dir, 'file'), 'x');
  await assert.rejects(ensureWritableDir(path.join(dir, 'file', 'sub')), (error: unknown) => {
    assert.ok(error instanceof HlsOutputError);
    assert.equal(error.path, path.join(dir, 'file', 'sub'));
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENOTDIR');
    return true;
  });
});
