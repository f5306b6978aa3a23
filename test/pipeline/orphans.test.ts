import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { isOurPipeline, killOrphanPipeline, OUTPUT_DIR_ENV } from '../../src/pipeline/orphans.ts';

const logger = pino({ level: 'silent' });
const GST = '/usr/bin/gst-launch-1.0\0-e\0-m\0videotestsrc\0';

describe('isOurPipeline', () => {
  it('a gst-launch-1.0 whose environment names our output dir', () => {
    assert.equal(isOurPipeline(GST, `PATH=/bin\0${OUTPUT_DIR_ENV}=/var/hls\0`, '/var/hls'), true);
  });
  it('not another output dir, not a prefix of it, not another program', () => {
    assert.equal(isOurPipeline(GST, `${OUTPUT_DIR_ENV}=/var/hls2\0`, '/var/hls'), false);
    assert.equal(isOurPipeline(GST, `${OUTPUT_DIR_ENV}=/var\0`, '/var/hls'), false);
    assert.equal(isOurPipeline('/usr/bin/bash\0', `${OUTPUT_DIR_ENV}=/var/hls\0`, '/var/hls'), false);
    assert.equal(isOurPipeline('', '', '/var/hls'), false, 'a process that is gone');
  });
});

describe('killOrphanPipeline (real processes)', () => {
  function gst(env: NodeJS.ProcessEnv) {
    const child = spawn('gst-launch-1.0', ['-q', 'videotestsrc', 'is-live=true', '!', 'fakesink'], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, ...env },
    });
    return child;
  }

  it('stops the pipeline of the pid file when it is ours, and leaves a stranger alone', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-orphans-'));
    const ours = gst({ [OUTPUT_DIR_ENV]: dir });
    const stranger = gst({ [OUTPUT_DIR_ENV]: `${dir}-other` });
    t.after(async () => {
      for (const child of [ours, stranger]) if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });
    const exited = new Promise((resolve) => ours.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 300)); // exec'd: /proc shows gst-launch-1.0

    await writeFile(join(dir, '.pipeline.pid'), `${stranger.pid}\n`);
    assert.equal(await killOrphanPipeline(dir, logger), null);
    assert.equal(stranger.exitCode, null, 'not ours: untouched');

    await writeFile(join(dir, '.pipeline.pid'), `${ours.pid}\n`);
    assert.equal(await killOrphanPipeline(dir, logger), ours.pid);
    await exited;
    assert.equal(await killOrphanPipeline(dir, logger), null, 'the pid file is gone');
  });
});
