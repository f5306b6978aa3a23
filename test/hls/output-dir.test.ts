import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { moveFile, writeFileAtomic } from '../../src/hls/disk.ts';
import { claimOutputDir, MARKER_FILE_NAME, OutputDirError, refusalReason } from '../../src/hls/output-dir.ts';

describe('refusalReason', () => {
  for (const dir of [
    '/',
    '/etc',
    '/etc/hls',
    '/usr/share/x',
    '/home',
    '/home/kiosk',
    '/root',
    '/var',
    '/var/lib',
    '/tmp',
    '/proc/1',
    '/run/user/1000',
    '/srv/../etc',
  ]) {
    it(`refuses ${dir}`, () => assert.notEqual(refusalReason(dir, '/home/kiosk'), null));
  }
  it('refuses $HOME wherever it is', () =>
    assert.match(refusalReason('/data/me', '/data/me') ?? '', /home directory/));
  for (const dir of ['/tmp/hls', '/var/lib/desktop-streamer/hls', '/home/kiosk/hls', '/srv/stream']) {
    it(`accepts ${dir}`, () => assert.equal(refusalReason(dir, '/home/kiosk'), null));
  }
});

describe('claimOutputDir (real files)', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'ds-outdir-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('creates a new dir and marks it', async () => {
    const dir = path.join(root, 'new', 'hls');
    await claimOutputDir(dir, {});
    assert.ok(existsSync(path.join(dir, MARKER_FILE_NAME)));
    await claimOutputDir(dir, {}); // claimed already: fine
  });

  it('adopts a dir of an earlier version (only our entries) and marks it', async () => {
    const dir = path.join(root, 'old');
    await mkdir(path.join(dir, 'desktop'), { recursive: true });
    await writeFile(path.join(dir, '.state.json'), '{}');
    await claimOutputDir(dir, {});
    assert.ok(existsSync(path.join(dir, MARKER_FILE_NAME)));
  });

  it('refuses a dir holding foreign files, naming key, value and the files', async () => {
    const dir = path.join(root, 'foreign');
    await mkdir(path.join(dir, 'desktop'), { recursive: true });
    await writeFile(path.join(dir, 'thesis.pdf'), 'mine');
    await assert.rejects(claimOutputDir(dir, {}), (error: unknown) => {
      assert.ok(error instanceof OutputDirError);
      assert.match(
        error.message,
        /^output_dir ".*foreign": holds files desktop-streamer did not make \(thesis\.pdf\)/,
      );
      return true;
    });
    assert.ok(!existsSync(path.join(dir, MARKER_FILE_NAME)));
  });

  it('refuses a symlink to a system directory and a symlinked desktop/ inside', async () => {
    const link = path.join(root, 'to-etc');
    await symlink('/etc', link);
    await assert.rejects(claimOutputDir(link, {}), /leads to \/etc, which is a system directory/);
    const dir = path.join(root, 'linked-public');
    await mkdir(path.join(root, 'elsewhere'));
    await mkdir(dir);
    await symlink(path.join(root, 'elsewhere'), path.join(dir, 'desktop'));
    await assert.rejects(claimOutputDir(dir, {}), /desktop is a symlink/);
  });

  it('refuses $HOME with the message an operator needs', async () => {
    await assert.rejects(
      claimOutputDir(root, { HOME: root }),
      /^OutputDirError: output_dir ".*": is a home directory; allowed: /,
    );
  });
});

describe('no symlink is followed inside output_dir', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'ds-nofollow-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('writeFileAtomic and moveFile replace a symlink, never write through it', async () => {
    const target = path.join(root, 'outside.txt');
    await writeFile(target, 'foreign');
    const playlist = path.join(root, 'playlist.m3u8');
    await symlink(target, playlist);
    await writeFileAtomic(playlist, '#EXTM3U\n');
    assert.equal(await readFile(target, 'utf8'), 'foreign');
    assert.equal(await readFile(playlist, 'utf8'), '#EXTM3U\n');
    const segment = path.join(root, 'seg-000000001.ts');
    await symlink(target, segment);
    const source = path.join(root, 'source.ts');
    await writeFile(source, 'video');
    await moveFile(source, segment);
    assert.equal(await readFile(target, 'utf8'), 'foreign');
  });
});
