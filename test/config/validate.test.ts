import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText, stripJsonComments } from '../../src/config/load.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { bindAddressIssue, CHECKED_KEYS, formatIssue, validateConfig } from '../../src/config/validate.ts';

/** Every leaf of DEFAULT_CONFIG as a dotted key. */
function leaves(value: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, inner]) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? leaves(inner as Record<string, unknown>, `${prefix}${key}.`)
      : [`${prefix}${key}`],
  );
}

describe('validateConfig', () => {
  it('checks exactly the keys of Config', () => {
    assert.deepEqual([...CHECKED_KEYS].sort(), leaves(DEFAULT_CONFIG as never).sort());
  });

  it('accepts the defaults and an empty object', () => {
    assert.deepEqual(validateConfig({}).errors, []);
    assert.deepEqual(validateConfig(structuredClone(DEFAULT_CONFIG)).errors, []);
  });

  it('names key, value and what is allowed', () => {
    const { errors } = validateConfig({ fps: 0, live_streaming: { max_segments: 'x' } });
    assert.deepEqual(errors.map(formatIssue), [
      '"fps" = 0: must be an integer from 1 to 60',
      '"live_streaming.max_segments" = "x": must be an integer from 2 to 1000',
    ]);
  });

  it('webrtc: port and cap ranges, and ICE servers the bundled stack can use (STUN, TURN over UDP)', () => {
    const ok = validateConfig({
      webrtc: {
        udp_port: 8889,
        max_viewers: 1,
        ice_servers: ['stun:stun.lan:3478', 'turn:u:p@turn.lan:3478?transport=udp'],
      },
    });
    assert.deepEqual(ok.errors, []);
    const bad = (webrtc: Record<string, unknown>) => validateConfig({ webrtc }).errors.map((e) => e.key);
    assert.deepEqual(bad({ udp_port: 0 }), ['webrtc.udp_port']);
    assert.deepEqual(bad({ max_viewers: 1001 }), ['webrtc.max_viewers']);
    assert.deepEqual(bad({ enabled: 'yes' }), ['webrtc.enabled']);
    for (const servers of [
      ['turns:u:p@turn.lan:5349'],
      ['turn:u:p@turn.lan:3478?transport=tcp'],
      ['http://x'],
      'stun:x',
      Array(17).fill('stun:x'),
    ]) {
      assert.deepEqual(
        bad({ ice_servers: servers }),
        ['webrtc.ice_servers'],
        JSON.stringify(servers).slice(0, 60),
      );
    }
  });

  it('refuses __proto__, constructor and prototype keys, at the top and in sections', () => {
    const input = JSON.parse(
      '{"__proto__": {"fps": 99}, "api": {"__proto__": {"public_read": false}}, "constructor": 1}',
    );
    const { config, errors } = validateConfig(input);
    assert.deepEqual(errors.map((e) => e.key).sort(), ['__proto__', 'api.__proto__', 'constructor']);
    assert.equal(Object.getPrototypeOf(config), Object.prototype);
    assert.equal(Object.getPrototypeOf(config.api), Object.prototype);
    assert.equal(({} as Record<string, unknown>).fps, undefined);
  });

  it('warns about unknown keys, including inherited names like toString', () => {
    const { errors, warnings } = validateConfig({ toString: 1, api: { hasOwnProperty: 2 } });
    assert.deepEqual(errors, []);
    assert.deepEqual(warnings, [
      'unknown key "toString" is ignored',
      'unknown key "api.hasOwnProperty" is ignored',
    ]);
  });

  for (const bad of ['999.1.1.1', ':::::', '1.2.3', 'example.com', '']) {
    it(`refuses bind_address "${bad}"`, () => {
      const { errors } = validateConfig({ bind_address: bad });
      assert.deepEqual(
        errors.map((e) => e.key),
        ['bind_address'],
      );
    });
  }
  for (const good of ['0.0.0.0', '::', '127.0.0.1', '::1', 'fe80::1', 'localhost']) {
    it(`accepts bind_address "${good}"`, () =>
      assert.deepEqual(validateConfig({ bind_address: good }).errors, []));
  }
});

describe('bindAddressIssue (check-config)', () => {
  const interfaces = {
    lo: [{ address: '127.0.0.1' }, { address: '::1' }],
    eth0: [{ address: '192.168.1.20' }],
  };
  it('accepts wildcards and addresses of this host', () => {
    for (const address of ['0.0.0.0', '::', '127.0.0.1', '192.168.1.20', '::1']) {
      assert.equal(bindAddressIssue(address, interfaces), null, address);
    }
  });
  it('refuses an address of another host, listing the usable ones', () => {
    const issue = bindAddressIssue('10.9.9.9', interfaces);
    assert.equal(issue?.key, 'bind_address');
    assert.match(issue?.allowed ?? '', /127\.0\.0\.1, ::1, 192\.168\.1\.20/);
  });
});

describe('stripJsonComments', () => {
  it('never changes text inside strings', () => {
    const text = '{"api": {"token": "p@ss,}word", "token_file": null}, "kiosk_name": "a,]b//c/*d*/",}';
    const parsed = JSON.parse(stripJsonComments(text));
    assert.equal(parsed.api.token, 'p@ss,}word');
    assert.equal(parsed.kiosk_name, 'a,]b//c/*d*/');
  });
  it('removes trailing commas before } and ], also across comments', () => {
    assert.deepEqual(JSON.parse(stripJsonComments('{"a": [1, 2, ], // x\n "b": 1, /* y */ }')), {
      a: [1, 2],
      b: 1,
    });
  });
  it('keeps escaped quotes inside strings', () => {
    assert.equal(JSON.parse(stripJsonComments('{"k": "\\",}",}')).k, '",}');
  });
  it('parses a config whose secret holds ",}" unchanged', () => {
    const { config } = parseConfigText('{"api": {"token": "p@ss,}word",},}', '/x.json');
    assert.equal(config.api.token, 'p@ss,}word');
  });
});
