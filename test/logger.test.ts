import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, LoggerConfigError, LogRing } from '../src/logger.ts';

function capture() {
  const chunks: string[] = [];
  return { chunks, destination: { write: (chunk: string) => void chunks.push(chunk) } };
}

/** Occurrences of `"key":` in one raw JSON line (JSON.parse would hide a duplicate). */
const countKey = (line: string, key: string) => line.split(`"${key}":`).length - 1;

describe('createLogger', () => {
  it('a child of a child writes each binding once, the innermost value winning', () => {
    const { chunks, destination } = capture();
    const logger = createLogger({ destination, format: 'json' });
    const grandchild = logger.child({ kiosk: 'lobby', module: 'a' }).child({ module: 'b' });
    grandchild.info({ reason: 'x' }, 'hello');
    grandchild.child({ module: 'c', part: 1 }).warn('deeper');
    const [first, second] = chunks;
    assert.ok(first && second);
    assert.equal(countKey(first, 'module'), 1, first);
    assert.equal(countKey(first, 'service'), 1, first);
    assert.deepEqual(
      [JSON.parse(first).module, JSON.parse(first).kiosk, JSON.parse(first).reason],
      ['b', 'lobby', 'x'],
    );
    assert.equal(countKey(second, 'module'), 1, second);
    assert.equal(JSON.parse(second).module, 'c');
    assert.equal(JSON.parse(second).part, 1);
  });

  it('bindings stay redacted through the deduplication', () => {
    const { chunks, destination } = capture();
    const logger = createLogger({ destination, format: 'json' });
    logger.child({ module: 'a', token: 's3cret' }).child({ module: 'b' }).info('x');
    assert.ok(!chunks[0]?.includes('s3cret'), chunks[0]);
    assert.equal(JSON.parse(chunks[0] ?? '{}').token, '[redacted]');
  });

  it('pretty: one readable line per record; the ring still gets the JSON record', () => {
    const { chunks, destination } = capture();
    const ring = new LogRing(10);
    const logger = createLogger({ destination, format: 'pretty', ring });
    logger.child({ module: 'pipeline' }).warn({ attempt: 2 }, 'restarting');
    assert.equal(chunks.length, 1);
    assert.match(chunks[0] ?? '', /^\d\d:\d\d:\d\d\.\d{3} WARN {2}pipeline: restarting attempt=2\n$/);
    assert.equal(ring.lines()[0]?.module, 'pipeline');
    assert.equal(ring.lines()[0]?.record.attempt, 2);
  });

  it('LOG_FORMAT chooses the format; anything else is refused naming the value and what is allowed', (t) => {
    const saved = process.env.LOG_FORMAT;
    t.after(() => {
      if (saved === undefined) delete process.env.LOG_FORMAT;
      else process.env.LOG_FORMAT = saved;
    });
    const { chunks, destination } = capture();
    process.env.LOG_FORMAT = 'pretty';
    createLogger({ destination }).info('hi');
    assert.match(chunks[0] ?? '', / INFO {2}hi\n$/);
    process.env.LOG_FORMAT = 'json';
    createLogger({ destination }).info('hi');
    assert.equal(JSON.parse(chunks[1] ?? '{}').msg, 'hi');
    process.env.LOG_FORMAT = 'yaml';
    assert.throws(
      () => createLogger({ destination }),
      (error: unknown) =>
        error instanceof LoggerConfigError &&
        error.message === 'LOG_FORMAT "yaml" is not allowed: use "json" or "pretty"',
    );
  });

  it('without LOG_FORMAT, a given destination gets JSON', (t) => {
    const saved = process.env.LOG_FORMAT;
    delete process.env.LOG_FORMAT;
    t.after(() => {
      if (saved !== undefined) process.env.LOG_FORMAT = saved;
    });
    const { chunks, destination } = capture();
    createLogger({ destination }).info('hi');
    assert.equal(JSON.parse(chunks[0] ?? '{}').msg, 'hi');
  });
});
