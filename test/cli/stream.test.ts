import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runStream, STREAM_EXIT } from '../../src/cli/stream.ts';
import { resolveCliToken } from '../../src/cli/token.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { startTestServer, type TestServer } from '../api/helpers.ts';

const TOKEN = 'cli-token-31337';

function io(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env } };
}

describe('desktop-streamer stream (against the real app)', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    server = await startTestServer({ apiToken: TOKEN });
    dir = await mkdtemp(join(tmpdir(), 'ds-cli-stream-'));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('restart with the token from the config file api.token_file', async () => {
    const tokenFile = join(dir, 'api-token');
    await writeFile(tokenFile, `${TOKEN}\n`);
    const configPath = join(dir, 'config.json');
    const port = Number(new URL(server.url).port);
    await writeFile(
      configPath,
      JSON.stringify({ bind_address: '127.0.0.1', port, api: { token_file: tokenFile } }),
    );
    const t = io();
    const code = await runStream(['restart', '--config', configPath], t.io);
    assert.equal(code, STREAM_EXIT.ok, t.err.join('\n'));
    assert.deepEqual(server.supervisor.calls.slice(-1), ['restart']);
    assert.match(t.out[0] ?? '', /^restart: done/);
  });

  it('cleanup reports what was removed', async () => {
    const t = io({ DESKTOP_STREAMER_API_TOKEN: TOKEN });
    assert.equal(await runStream(['cleanup', '--url', server.url], t.io), STREAM_EXIT.ok);
    assert.match(t.out[0] ?? '', /2 file\(s\), 1000000 bytes/);
  });

  it('a wrong token is exit 77 with the server message, never a stack', async () => {
    const t = io({ DESKTOP_STREAMER_API_TOKEN: 'wrong' });
    assert.equal(await runStream(['stop', '--url', server.url], t.io), STREAM_EXIT.noPermission);
    assert.match(t.err.join('\n'), /invalid bearer token/);
    assert.doesNotMatch(t.err.join('\n'), /\n\s+at /);
  });

  it('bad usage is exit 64 naming what is allowed', async () => {
    const t = io();
    assert.equal(await runStream(['explode', '--url', server.url], t.io), STREAM_EXIT.usage);
    assert.match(t.err[0] ?? '', /unknown action "explode"; allowed: start, stop, restart, cleanup/);
  });

  it('an unreachable supervisor is exit 2', async () => {
    const t = io({ DESKTOP_STREAMER_API_TOKEN: TOKEN });
    assert.equal(
      await runStream(['start', '--url', 'http://127.0.0.1:9', '--timeout', '3'], t.io),
      STREAM_EXIT.unreachable,
    );
  });
});

describe('resolveCliToken', () => {
  const files: Record<string, string> = {
    '/creds/api-token': 'from-credential\n',
    '/etc/desktop-streamer/api-token': 'from-etc\n',
  };
  const read = async (file: string) => {
    if (file in files) return files[file]!;
    throw Object.assign(new Error('missing'), { code: 'ENOENT' });
  };
  const config = { api: { ...DEFAULT_CONFIG.api, token: 'from-config' } };
  it('follows the service: env, api.token_file, credential, the unit credential file, api.token', async () => {
    assert.equal(
      (await resolveCliToken({ config, env: { DESKTOP_STREAMER_API_TOKEN: 'e' }, read }))?.token,
      'e',
    );
    assert.equal(
      (await resolveCliToken({ config, env: { CREDENTIALS_DIRECTORY: '/creds' }, read }))?.token,
      'from-credential',
    );
    assert.equal((await resolveCliToken({ config, env: {}, read }))?.token, 'from-etc');
    assert.equal((await resolveCliToken({ config, env: {}, read: async () => '\n' }))?.token, 'from-config');
  });
  it('an unreadable explicit file is an error naming it', async () => {
    await assert.rejects(
      resolveCliToken({ tokenFile: '/nope', config: null, env: {}, read }),
      /\/nope \(ENOENT\)/,
    );
  });
});
