import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentClients } from '../../src/api/recent-clients.ts';

describe('RecentClients', () => {
  it('counts each client once while it was seen within the window', () => {
    const clients = new RecentClients({ windowMs: 10_000, maxClients: 100 });
    clients.seen('a', 0);
    clients.seen('a', 2_000);
    clients.seen('b', 5_000);
    assert.equal(clients.count(5_000), 2);
    assert.equal(clients.count(12_000), 1, 'a was last seen at 2 s: gone at 12 s');
    assert.equal(clients.count(15_000), 0);
  });

  it('a client seen again stays (its last sighting counts, not its first)', () => {
    const clients = new RecentClients({ windowMs: 10_000, maxClients: 100 });
    clients.seen('a', 0);
    clients.seen('b', 1_000);
    clients.seen('a', 9_000);
    assert.equal(clients.count(10_500), 2);
    assert.equal(clients.count(11_500), 1, 'b was last seen at 1 s');
    assert.equal(clients.count(18_000), 1);
  });

  it('never holds more than maxClients (a client inventing names evicts the oldest)', () => {
    const clients = new RecentClients({ windowMs: 10_000, maxClients: 3 });
    for (let i = 0; i < 1000; i++) clients.seen(`ua-${i}`, 100);
    assert.equal(clients.count(100), 3);
  });
});
