import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDemand, LOW_LATENCY_LINGER_MS } from '../../src/media/frame-demand.ts';

describe('FrameDemand', () => {
  it('wants no frame at once with no viewer, or with plain-HLS viewers only', () => {
    assert.equal(new FrameDemand({ now: () => 1000 }).everyFrame(), false);
  });

  it('wants every frame for a while after a Low-Latency HLS request', () => {
    let now = 50_000;
    const demand = new FrameDemand({ now: () => now });
    demand.noteLowLatencyRequest();
    now += LOW_LATENCY_LINGER_MS - 1;
    assert.equal(demand.everyFrame(), true);
    now += 1;
    assert.equal(demand.everyFrame(), false, 'the low-latency client has gone');
  });

  it('wants every frame while a WebRTC viewer is connected', () => {
    let viewers = 1;
    const demand = new FrameDemand({ now: () => 0, realtimeViewers: () => viewers });
    assert.equal(demand.everyFrame(), true);
    viewers = 0;
    assert.equal(demand.everyFrame(), false);
  });
});
