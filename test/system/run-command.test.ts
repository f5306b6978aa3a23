import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeFailure, runCommand } from '../../src/system/run-command.ts';

test('runCommand: stdout and exit 0 of a command that succeeds, with the extra env', async () => {
  const result = await runCommand('sh', ['-c', 'printf "%s" "$GREETING"'], {
    timeoutMs: 10_000,
    env: { GREETING: 'hello' },
  });
  assert.deepEqual(result, { exitCode: 0, signal: null, stdout: 'hello', stderr: '', failure: null });
});

test('runCommand: a non-zero exit is a result, its stderr the description', async () => {
  const result = await runCommand('sh', ['-c', 'echo "no display :7" >&2; exit 3'], { timeoutMs: 10_000 });
  assert.equal(result.exitCode, 3);
  assert.equal(result.failure, null);
  assert.equal(describeFailure('sh', result), 'no display :7');
  const silent = await runCommand('false', [], { timeoutMs: 10_000 });
  assert.equal(describeFailure('false', silent), 'false exited with status 1');
});

test('runCommand: a missing program and a timeout are failures with a code, never a rejection', async () => {
  const missing = await runCommand('no-such-program-here', [], { timeoutMs: 10_000 });
  assert.equal(missing.exitCode, null);
  assert.equal(missing.failure?.code, 'ENOENT');
  const slow = await runCommand('sleep', ['30'], { timeoutMs: 100 });
  assert.equal(slow.failure?.code, 'TIMEOUT');
  assert.equal(slow.signal, 'SIGKILL');
  assert.equal(describeFailure('sleep', slow), 'sleep timed out after 100 ms');
});
