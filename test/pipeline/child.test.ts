import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { BusEvent } from '../../src/pipeline/bus-parser.ts';
import { type ChildExit, PipelineChild } from '../../src/pipeline/child.ts';

const logger = pino({ level: 'silent' });

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
    pipeline.start();
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
    pipeline.start();
    const deadline = Date.now() + 10_000;
    while (exits.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(exits.length, 1);
    assert.equal(exits[0]?.code, 3);
    assert.equal(exits[0]?.requested, false);
    assert.ok(events.length > 0, 'the line before the exit was parsed before onExit');
  });
});
