/**
 * parseVideoOffer against a REAL offer (Debian's Chromium, a recvonly video transceiver, saved
 * as test/fixtures/chromium-recvonly-offer.sdp) and against crafted offers for every refusal.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { MAX_OFFER_BYTES, OfferError, parseVideoOffer } from '../../src/webrtc/offer.ts';

/**
 * `pc.addTransceiver('video', { direction: 'recvonly' }); (await pc.createOffer()).sdp` in
 * Chromium 156 (headless, launched as test/helpers/browser.ts does), CRLF line endings as sent.
 */
const CHROMIUM_OFFER = readFileSync(
  new URL('../fixtures/chromium-recvonly-offer.sdp', import.meta.url),
  'utf8',
);

const SESSION = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0'];

interface Codec {
  pt: number;
  name?: string;
  fmtp?: string;
}

/** One media section (lines without line endings). */
function media(options: {
  kind?: string;
  port?: number;
  mid?: string | null;
  direction?: string | null;
  codecs: Codec[];
  formats?: number[];
}): string[] {
  const formats = options.formats ?? options.codecs.map((codec) => codec.pt);
  return [
    `m=${options.kind ?? 'video'} ${options.port ?? 9} UDP/TLS/RTP/SAVPF ${formats.join(' ')}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=ice-ufrag:abcd',
    'a=ice-pwd:abcdefghijklmnopqrstuvwx',
    'a=setup:actpass',
    ...(options.mid === null ? [] : [`a=mid:${options.mid ?? '0'}`]),
    ...(options.direction === null ? [] : [`a=${options.direction ?? 'recvonly'}`]),
    'a=rtcp-mux',
    ...options.codecs.flatMap((codec) => [
      `a=rtpmap:${codec.pt} ${codec.name ?? 'H264'}/90000`,
      `a=rtcp-fb:${codec.pt} nack pli`,
      ...(codec.fmtp === undefined ? [] : [`a=fmtp:${codec.pt} ${codec.fmtp}`]),
    ]),
  ];
}

const sdp = (...sections: string[][]): string => `${[...SESSION, ...sections.flat()].join('\r\n')}\r\n`;

const h264 = (pt: number, profile: string, mode = 1): Codec => ({
  pt,
  fmtp: `level-asymmetry-allowed=1;packetization-mode=${mode};profile-level-id=${profile}`,
});

/** Asserts that parsing throws an OfferError whose message matches every pattern. */
function refused(offer: string, ...patterns: RegExp[]): OfferError {
  let caught: unknown;
  try {
    parseVideoOffer(offer);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof OfferError, `an OfferError, got ${String(caught)}`);
  assert.equal(caught.name, 'OfferError');
  for (const pattern of patterns) assert.match(caught.message, pattern);
  return caught;
}

describe('parseVideoOffer on a real Chromium offer', () => {
  test('the fixture is a whole Chromium offer (CRLF, one recvonly video section, H.264 in several profiles)', () => {
    assert.ok(CHROMIUM_OFFER.startsWith('v=0\r\n'));
    assert.ok(CHROMIUM_OFFER.endsWith('\r\n'));
    assert.equal(CHROMIUM_OFFER.match(/^m=/gm)?.length, 1);
    assert.match(CHROMIUM_OFFER, /^a=recvonly\r$/m);
    assert.match(CHROMIUM_OFFER, /profile-level-id=42e01f/);
    assert.match(CHROMIUM_OFFER, /profile-level-id=42001f/);
    assert.match(CHROMIUM_OFFER, /profile-level-id=4d001f/);
    assert.ok(Buffer.byteLength(CHROMIUM_OFFER) < MAX_OFFER_BYTES);
  });

  test('mid 0 and the constrained-baseline (42e01f) payload type in packetization mode 1, fmtp echoed', () => {
    assert.deepEqual(parseVideoOffer(CHROMIUM_OFFER), {
      mid: '0',
      payloadType: 108,
      fmtp: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
    });
    // Cross-check against the fixture's own lines: that payload type is H.264 in this section.
    assert.match(CHROMIUM_OFFER, /^m=video 9 \S+ (\d+ )*108( \d+)*\r$/m);
    assert.match(CHROMIUM_OFFER, /^a=rtpmap:108 H264\/90000\r$/m);
  });

  test('the same offer with LF line endings gives the same result', () => {
    const lf = CHROMIUM_OFFER.replaceAll('\r\n', '\n');
    assert.ok(!lf.includes('\r'));
    assert.deepEqual(parseVideoOffer(lf), parseVideoOffer(CHROMIUM_OFFER));
  });

  test('sendrecv is accepted; sendonly and inactive are refused, naming the direction', () => {
    assert.equal(parseVideoOffer(CHROMIUM_OFFER.replace('a=recvonly', 'a=sendrecv')).payloadType, 108);
    refused(CHROMIUM_OFFER.replace('a=recvonly', 'a=sendonly'), /sendonly/, /recvonly/);
    refused(CHROMIUM_OFFER.replace('a=recvonly', 'a=inactive'), /inactive/);
  });

  test('without its H.264 lines (VP8, VP9, AV1 only) it is refused, naming H.264 and packetization-mode=1', () => {
    const withoutH264 = CHROMIUM_OFFER.replace(/^a=rtpmap:\d+ H264\/90000\r\n/gm, '');
    assert.ok(!withoutH264.includes('H264'));
    refused(withoutH264, /H\.264/, /packetization-mode=1/);
  });

  test('with only packetization-mode=0 left it is refused', () => {
    const modeZero = CHROMIUM_OFFER.replaceAll('packetization-mode=1', 'packetization-mode=0');
    refused(modeZero, /packetization-mode=1/);
  });

  test('without 42e01f, the next in preference: 42001f (payload type 102)', () => {
    const withoutConstrained = CHROMIUM_OFFER.replace(/^a=rtpmap:108 H264\/90000\r\n/m, '');
    assert.equal(parseVideoOffer(withoutConstrained).payloadType, 102);
  });
});

describe('parseVideoOffer on crafted offers', () => {
  test('an audio-only offer is refused, naming m=video', () => {
    const audio = media({ kind: 'audio', codecs: [{ pt: 111, name: 'opus', fmtp: 'minptime=10' }] });
    refused(sdp(audio), /m=video/);
  });

  test('an audio section before the video section is skipped', () => {
    const audio = media({ kind: 'audio', mid: 'a0', codecs: [{ pt: 111, name: 'opus' }] });
    const video = media({ mid: 'v1', codecs: [h264(102, '42e01f')] });
    assert.deepEqual(parseVideoOffer(sdp(audio, video)), {
      mid: 'v1',
      payloadType: 102,
      fmtp: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
    });
  });

  test('a video section with port 0 (rejected/stopped) is ignored: the next video section is used', () => {
    const stopped = media({ port: 0, mid: '0', codecs: [h264(100, '42e01f')] });
    const live = media({ mid: '1', codecs: [h264(102, '42e01f')] });
    assert.deepEqual(
      { ...parseVideoOffer(sdp(stopped, live)), fmtp: '' },
      { mid: '1', payloadType: 102, fmtp: '' },
    );
    refused(sdp(stopped), /m=video/);
  });

  test('a video section without a direction attribute is sendrecv: accepted', () => {
    assert.equal(
      parseVideoOffer(sdp(media({ direction: null, codecs: [h264(96, '42e01f')] }))).payloadType,
      96,
    );
  });

  test('sendonly and inactive video sections are refused', () => {
    for (const direction of ['sendonly', 'inactive']) {
      refused(sdp(media({ direction, codecs: [h264(96, '42e01f')] })), new RegExp(direction));
    }
  });

  test('only VP8, or only packetization-mode=0, or H.264 without any fmtp: refused', () => {
    refused(sdp(media({ codecs: [{ pt: 96, name: 'VP8' }] })), /H\.264/);
    refused(sdp(media({ codecs: [h264(102, '42e01f', 0), h264(104, '4d001f', 0)] })), /packetization-mode=1/);
    refused(sdp(media({ codecs: [{ pt: 102 }] })), /packetization-mode=1/);
  });

  test('an H.264 rtpmap whose payload type is not in the m= line does not count', () => {
    const video = media({ codecs: [h264(102, '42e01f'), { pt: 96, name: 'VP8' }], formats: [96] });
    refused(sdp(video), /H\.264/);
  });

  test('an offer above MAX_OFFER_BYTES is refused, naming its size and the limit', () => {
    const valid = sdp(media({ codecs: [h264(102, '42e01f')] }));
    const filler = (bytes: number): string =>
      `a=x-filler:${'x'.repeat(bytes - 'a=x-filler:'.length - 2)}\r\n`;
    const exact = valid + filler(MAX_OFFER_BYTES - Buffer.byteLength(valid));
    assert.equal(Buffer.byteLength(exact), MAX_OFFER_BYTES);
    assert.equal(parseVideoOffer(exact).payloadType, 102, 'exactly the limit is accepted');
    const over = `${exact}a\r\n`;
    const size = Buffer.byteLength(over);
    refused(over, new RegExp(`\\b${size}\\b`), new RegExp(`\\b${MAX_OFFER_BYTES}\\b`));
  });

  test('the size limit counts UTF-8 bytes, not characters', () => {
    const valid = sdp(media({ codecs: [h264(102, '42e01f')] }));
    const room = MAX_OFFER_BYTES - Buffer.byteLength(valid);
    const wide = `${valid}a=x:${'é'.repeat(Math.ceil(room / 2))}\r\n`;
    assert.ok(wide.length <= MAX_OFFER_BYTES, 'fewer characters than the limit');
    refused(wide, new RegExp(`\\b${Buffer.byteLength(wide)}\\b`));
  });

  test('an offer that does not start with v=0 is refused', () => {
    const valid = sdp(media({ codecs: [h264(102, '42e01f')] }));
    for (const offer of [
      '',
      'hello',
      valid.replace('v=0', 'v=1'),
      ` ${valid}`,
      valid.slice(5),
      '{"sdp":"v=0"}',
    ]) {
      refused(offer, /v=0/);
    }
  });

  test('a video section without a=mid, or with an invalid one, is refused naming a=mid', () => {
    refused(sdp(media({ mid: null, codecs: [h264(102, '42e01f')] })), /a=mid/);
    for (const mid of ['', 'two words', 'x'.repeat(33), 'semi;colon', '<script>']) {
      refused(sdp(media({ mid, codecs: [h264(102, '42e01f')] })), /a=mid/);
    }
  });

  test('valid mids: digits, names, Firefox-style, 32 characters', () => {
    for (const mid of ['0', 'video', 'sdparta_0', 'a.b-c', 'x'.repeat(32)]) {
      assert.equal(parseVideoOffer(sdp(media({ mid, codecs: [h264(102, '42e01f')] }))).mid, mid);
    }
  });

  test("the mid is the video section's, not another section's", () => {
    const audio = media({ kind: 'audio', mid: 'audio', codecs: [{ pt: 111, name: 'opus' }] });
    const video = media({ mid: 'video', codecs: [h264(102, '42e01f')] });
    assert.equal(parseVideoOffer(sdp(audio, video)).mid, 'video');
    const videoWithoutMid = media({ mid: null, codecs: [h264(102, '42e01f')] });
    refused(sdp(audio, videoWithoutMid), /a=mid/);
  });

  test('profile preference: 42e01f is chosen over 4d001f and 64001f wherever it is offered', () => {
    for (const codecs of [
      [h264(100, '4d001f'), h264(101, '64001f'), h264(102, '42e01f')],
      [h264(101, '64001f'), h264(102, '42e01f'), h264(100, '4d001f')],
      [h264(102, '42e01f'), h264(100, '4d001f')],
    ]) {
      const offer = parseVideoOffer(sdp(media({ codecs })));
      assert.equal(offer.payloadType, 102, codecs.map((codec) => codec.fmtp).join(' | '));
      assert.match(offer.fmtp, /profile-level-id=42e01f/);
    }
  });

  test('42e01f in packetization-mode=0 only does not count: the pm=1 format is chosen', () => {
    const codecs = [h264(102, '42e01f', 0), h264(104, '4d001f', 1)];
    assert.equal(parseVideoOffer(sdp(media({ codecs }))).payloadType, 104);
  });

  test('without 42e01f, the first packetization-mode=1 format among equals is chosen', () => {
    const unknown = [h264(120, '7a001f'), h264(121, '58001f')];
    assert.equal(parseVideoOffer(sdp(media({ codecs: unknown }))).payloadType, 120);
    const same = [h264(121, '4d0028'), h264(120, '4d001f')];
    assert.equal(parseVideoOffer(sdp(media({ codecs: same }))).payloadType, 121);
    const noProfile = [
      { pt: 125, fmtp: 'packetization-mode=1' },
      { pt: 126, fmtp: 'packetization-mode=1;level-asymmetry-allowed=1' },
    ];
    assert.equal(parseVideoOffer(sdp(media({ codecs: noProfile }))).payloadType, 125);
    const mainFirst = [h264(100, '4d001f'), h264(101, '64001f')];
    assert.equal(parseVideoOffer(sdp(media({ codecs: mainFirst }))).payloadType, 100);
  });

  test('rtpmap and profile-level-id are matched case-insensitively; spaces after ";" are allowed', () => {
    const codecs = [
      h264(100, '4d001f'),
      {
        pt: 102,
        name: 'h264',
        fmtp: 'level-asymmetry-allowed=1; packetization-mode=1; profile-level-id=42E01F',
      },
    ];
    assert.equal(parseVideoOffer(sdp(media({ codecs }))).payloadType, 102);
  });

  test('packetization-mode=10 or a lookalike parameter is not packetization-mode=1', () => {
    refused(sdp(media({ codecs: [{ pt: 102, fmtp: 'packetization-mode=10;profile-level-id=42e01f' }] })));
    refused(sdp(media({ codecs: [{ pt: 102, fmtp: 'x-packetization-mode=1;profile-level-id=42e01f' }] })));
  });

  test('CRLF, LF and mixed line endings give the same result', () => {
    const crlf = sdp(
      media({ kind: 'audio', mid: 'a', codecs: [{ pt: 111, name: 'opus' }] }),
      media({ mid: 'v', codecs: [h264(100, '4d001f'), h264(102, '42e01f')] }),
    );
    const lf = crlf.replaceAll('\r\n', '\n');
    const mixed = crlf
      .split('\r\n')
      .map((line, i) => (i % 2 === 0 ? `${line}\r\n` : `${line}\n`))
      .join('');
    const expected = {
      mid: 'v',
      payloadType: 102,
      fmtp: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
    };
    for (const offer of [crlf, lf, mixed, crlf.trimEnd(), lf.trimEnd()]) {
      assert.deepEqual(parseVideoOffer(offer), expected);
    }
  });

  test('OfferError is an Error named OfferError', () => {
    const error = refused('nope', /v=0/);
    assert.ok(error instanceof Error);
    assert.match(String(error), /^OfferError: /);
  });
});
