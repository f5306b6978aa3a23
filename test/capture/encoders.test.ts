import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  chooseEncoder,
  demote,
  type EncoderProbe,
  NoEncoderError,
  probeEncoders,
} from '../../src/capture/encoders.ts';
import type { EncoderElement } from '../../src/capture/types.ts';

const probe = (
  elements: EncoderElement[],
  renderNode: string | null = '/dev/dri/renderD128',
): EncoderProbe => ({
  available: new Set(elements),
  renderNode,
});

describe('chooseEncoder', () => {
  it('auto prefers vah264enc, then vaapih264enc, then x264enc, then openh264enc', () => {
    const all = probe(['vah264enc', 'vaapih264enc', 'x264enc', 'openh264enc']);
    assert.equal(chooseEncoder('auto', all).element, 'vah264enc');
    assert.equal(chooseEncoder('auto', probe(['vaapih264enc', 'x264enc'])).element, 'vaapih264enc');
    assert.equal(chooseEncoder('auto', probe(['x264enc', 'openh264enc'])).element, 'x264enc');
    assert.equal(chooseEncoder('auto', probe(['openh264enc'])).element, 'openh264enc');
  });

  it('skips VAAPI without a render node and says why', () => {
    const choice = chooseEncoder('auto', probe(['vah264enc', 'x264enc'], null));
    assert.equal(choice.element, 'x264enc');
    assert.match(choice.reason, /vah264enc needs a \/dev\/dri\/renderD\* node/);
    assert.match(choice.reason, /vaapih264enc not installed/);
  });

  it('an explicit choice is not silently replaced', () => {
    assert.throws(() => chooseEncoder('vaapi', probe(['x264enc'])), NoEncoderError);
    assert.equal(chooseEncoder('x264', probe(['vah264enc', 'x264enc'])).element, 'x264enc');
  });

  it('demotes a failed encoder to the next step, and reports exhaustion', () => {
    const p = probe(['vah264enc', 'vaapih264enc', 'x264enc']);
    assert.equal(demote('auto', p, new Set(['vah264enc']))?.element, 'vaapih264enc');
    assert.equal(demote('auto', p, new Set(['vah264enc', 'vaapih264enc']))?.element, 'x264enc');
    assert.equal(demote('vaapi', p, new Set(['vah264enc', 'vaapih264enc'])), null);
  });
});

describe('probeEncoders', () => {
  it('asks gst-inspect-1.0 --exists for each step and looks for a render node (fake gst-inspect, fake /dev/dri)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-probe-'));
    const fake = join(dir, 'gst-inspect-1.0');
    await writeFile(
      fake,
      '#!/bin/sh\n[ "$1" = --exists ] || exit 2\ncase "$2" in vah264enc|x264enc) exit 0;; *) exit 1;; esac\n',
    );
    await chmod(fake, 0o755);
    await mkdir(join(dir, 'dri'));
    await writeFile(join(dir, 'dri', 'renderD129'), '');
    await writeFile(join(dir, 'dri', 'card0'), '');
    const result = await probeEncoders({ gstInspect: fake, devDri: join(dir, 'dri') });
    assert.deepEqual([...result.available].sort(), ['vah264enc', 'x264enc']);
    assert.equal(result.renderNode, join(dir, 'dri', 'renderD129'));
    assert.equal(chooseEncoder('auto', result).element, 'vah264enc');
  });

  it('finds the real encoders of this machine (x264enc is installed)', async () => {
    const result = await probeEncoders({ devDri: '/nonexistent' });
    assert.ok(result.available.has('x264enc'));
    assert.equal(result.renderNode, null);
    assert.equal(chooseEncoder('auto', result).element, 'x264enc');
  });
});
