import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runStatus, STATUS_EXIT, type StatusIo, statusUrlFor } from '../../src/cli/status.ts';
import { hlsSnapshot, startTestServer, supervisorSnapshot, type TestServer } from '../api/helpers.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function captureIo(env: NodeJS.ProcessEnv = {}): StatusIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), env };
}

async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

describe('statusUrlFor', () => {
  it('reaches a wildcard bind address on loopback and brackets IPv6 literals', () => {
    assert.equal(statusUrlFor({ bind_address: '0.0.0.0', port: 8888 }), 'http://127.0.0.1:8888');
    assert.equal(statusUrlFor({ bind_address: '::', port: 9000 }), 'http://[::1]:9000');
    assert.equal(statusUrlFor({ bind_address: '192.168.1.20', port: 8080 }), 'http://192.168.1.20:8080');
    assert.equal(statusUrlFor({ bind_address: 'fd00::5', port: 8888 }), 'http://[fd00::5]:8888');
    assert.equal(statusUrlFor({ bind_address: 'kiosk.local', port: 80 }), 'http://kiosk.local:80');
  });
});

describe('desktop-streamer status', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('without --url, finds the supervisor at the address of its config file (--config or $DESKTOP_STREAMER_CONFIG)', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'status-config-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const configPath = path.join(dir, 'config.json');
    const { port } = new URL(server.url);
    await writeFile(configPath, `// the kiosk's config\n{ "bind_address": "0.0.0.0", "port": ${port} }\n`);
    const byFlag = captureIo();
    assert.equal(
      await runStatus(['--config', configPath], byFlag),
      STATUS_EXIT.healthy,
      byFlag.stderr.join('\n'),
    );
    assert.match(byFlag.stdout.join('\n'), new RegExp(`at http://127\\.0\\.0\\.1:${port}: HEALTHY`));
    const byEnv = captureIo({ DESKTOP_STREAMER_CONFIG: configPath });
    assert.equal(await runStatus([], byEnv), STATUS_EXIT.healthy, byEnv.stderr.join('\n'));
  });

  it('an unreadable config file is named, and the default address is tried', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'status-config-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const configPath = path.join(dir, 'config.json');
    await writeFile(configPath, '{ "port": "eighty" }');
    const io = captureIo();
    await runStatus(['--config', configPath, '--timeout', '2'], io);
    const stderr = io.stderr.join('\n');
    assert.match(stderr, /port/);
    assert.match(stderr, /trying http:\/\/127\.0\.0\.1:8888/);
  });

  it('healthy → exit 0 and a compact summary', async () => {
    const io = captureIo();
    const code = await runStatus(['--url', server.url], io);
    const text = io.stdout.join('\n');
    assert.equal(code, STATUS_EXIT.healthy, text + io.stderr.join('\n'));
    assert.match(text, /: HEALTHY$/m);
    assert.match(text, /pipeline\s+streaming · GStreamer PLAYING/);
    assert.match(text, /stream\s+segments arriving · lag 0\.0 s · 7 files \(3\.3 MB\) · playlist ok/);
    assert.match(text, /capture\s+DUMMY1 1280x720\+1920\+0 · x264enc/);
    assert.match(text, /restarts\s+2 · last 2 min ago: manual/);
    assert.match(text, /errors\s+1 recent \/ 3 total · last: Internal data stream error\./);
    assert.match(text, /system\s+CPU [\d.]+ % · memory [\d.]+ % · disk [\d.]+ %/);
    assert.ok(io.stdout.length <= 10, 'compact');
  });

  it('unhealthy → exit 1, says STALLED', async () => {
    server.hls.current = hlsSnapshot({ lastSegmentAt: Date.now() - 120_000 });
    server.supervisor.current = supervisorSnapshot({ state: 'backoff', gstState: 'NULL' });
    try {
      const io = captureIo();
      assert.equal(await runStatus(['--url', `${server.url}/`], io), STATUS_EXIT.unhealthy);
      const text = io.stdout.join('\n');
      assert.match(text, /UNHEALTHY/);
      assert.match(text, /STALLED/);
      assert.match(text, /lag 11[89]\.\d s/);
    } finally {
      server.hls.current = hlsSnapshot();
      server.supervisor.current = supervisorSnapshot();
    }
  });

  it('--json prints the status and details', async () => {
    const io = captureIo();
    assert.equal(await runStatus(['--url', server.url, '--json'], io), 0);
    const report = JSON.parse(io.stdout.join('\n'));
    assert.equal(report.reachable, true);
    assert.equal(report.healthy, true);
    assert.equal(report.status.stream.segment_count, 7);
    assert.equal(report.detailed.supervisor.state, 'streaming');
  });

  it('unreachable → exit 2', async () => {
    const url = await closedPortUrl();
    const io = captureIo();
    assert.equal(await runStatus(['--url', url, '--timeout', '2'], io), STATUS_EXIT.unreachable);
    assert.match(io.stderr.join('\n'), /UNREACHABLE \(ECONNREFUSED\)/);
    const json = captureIo();
    assert.equal(await runStatus(['--url', url, '--json'], json), STATUS_EXIT.unreachable);
    assert.equal(JSON.parse(json.stdout.join('\n')).reachable, false);
  });

  it('something that is not a desktop-streamer → exit 2', async () => {
    const other = http.createServer((_req, res) => res.end('hello'));
    other.listen(0, '127.0.0.1');
    await once(other, 'listening');
    try {
      const io = captureIo();
      const { port } = other.address() as AddressInfo;
      assert.equal(await runStatus(['--url', `http://127.0.0.1:${port}`], io), STATUS_EXIT.unreachable);
      assert.match(io.stderr.join('\n'), /not a desktop-streamer/);
    } finally {
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('bad usage → 64 with a message naming the option', async () => {
    const io = captureIo();
    assert.equal(await runStatus(['--url', 'ftp://x'], io), STATUS_EXIT.usage);
    assert.match(io.stderr[0] ?? '', /--url must be an http\(s\) URL, got "ftp:\/\/x"/);
    assert.equal(await runStatus(['--bogus'], captureIo()), STATUS_EXIT.usage);
    assert.equal(await runStatus(['--timeout', 'soon'], captureIo()), STATUS_EXIT.usage);
  });

  it('the desktop-streamer-monitor bin runs it (real process, exit code)', async () => {
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', path.join(repoRoot, 'src/cli/monitor.ts'), '--url', server.url],
        { cwd: repoRoot, timeout: 30_000 },
        (error, stdout) => resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout }),
      );
    });
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /HEALTHY/);
  });
});

describe('desktop-streamer status with api.public_read=false', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      apiToken: 'read-token-91',
      config: { api: { token: null, token_file: null, public_read: false } },
    });
  });
  after(() => server.close());

  it('without a token → exit 2 explaining that a token is needed', async () => {
    const io = captureIo();
    assert.equal(await runStatus(['--url', server.url], io), STATUS_EXIT.unreachable);
    assert.match(io.stderr.join('\n'), /token is needed/);
  });

  it('with DESKTOP_STREAMER_API_TOKEN → works', async () => {
    const io = captureIo({ DESKTOP_STREAMER_API_TOKEN: 'read-token-91' });
    assert.equal(await runStatus(['--url', server.url], io), STATUS_EXIT.healthy);
  });
});
