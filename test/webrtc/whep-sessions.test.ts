/**
 * WhepSessions with the real WebRTC stack (node-datachannel), no browser: what happens to the UDP
 * port. The browser cases are in test/e2e/webrtc.e2e.ts.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { createLogger } from '../../src/logger.ts';
import { WhepPortError, WhepSessions } from '../../src/webrtc/whep-sessions.ts';

const OFFER = readFileSync(new URL('../fixtures/chromium-recvonly-offer.sdp', import.meta.url), 'utf8');
const logger = createLogger({ level: 'silent' });

function sessionsOn(udpPort: number): WhepSessions {
  return new WhepSessions({
    udpPort,
    bindAddress: '127.0.0.1',
    iceServers: [],
    maxViewers: 2,
    ssrc: 1234,
    fanout: { add() {}, remove() {}, rtpTimestampAt: () => 0 },
    logger,
    gatherTimeoutMs: 500,
  });
}

async function udpSocket(port = 0): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', resolve);
  });
  return socket;
}

async function freePort(): Promise<number> {
  const socket = await udpSocket();
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

describe('WhepSessions and its UDP port', () => {
  const toStop: WhepSessions[] = [];
  after(() => {
    for (const sessions of toStop) sessions.stop();
  });

  it('binds the port at the first offer (not before), also for offers that arrive together', async () => {
    const port = await freePort();
    const sessions = sessionsOn(port);
    toStop.push(sessions);
    const probe = await udpSocket(port);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const answers = await Promise.all([sessions.open(OFFER), sessions.open(OFFER)]);
    for (const { answer } of answers) assert.match(answer, new RegExp(` ${port} typ host`));
    await assert.rejects(udpSocket(port), /EADDRINUSE/);
  });

  it('answers offers on it, and keeps it after the last session ends', async () => {
    const port = await freePort();
    const sessions = sessionsOn(port);
    toStop.push(sessions);
    const { id, answer } = await sessions.open(OFFER);
    assert.match(answer, new RegExp(`a=candidate:.* 127\\.0\\.0\\.1 ${port} typ host`));
    assert.equal(sessions.close(id), true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await assert.rejects(udpSocket(port), /EADDRINUSE/, 'still ours with no session left');
    const again = await sessions.open(OFFER);
    assert.match(again.answer, new RegExp(` ${port} typ host`));
  });

  it('a port another program holds: offers get WhepPortError (a 503), naming the port and the key', async () => {
    const holder = await udpSocket();
    const port = holder.address().port;
    const sessions = sessionsOn(port);
    toStop.push(sessions);
    await assert.rejects(sessions.open(OFFER), (error: Error) => {
      assert.ok(error instanceof WhepPortError);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}.*webrtc\\.udp_port`));
      return true;
    });
    holder.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(
      (await sessions.open(OFFER)).answer,
      new RegExp(` ${port} typ host`),
      'taken once it is free',
    );
  });
});
