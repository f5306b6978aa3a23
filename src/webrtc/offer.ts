/**
 * What the supervisor needs from a WHEP offer (an SDP offer from a browser that wants to receive
 * the stream) and why an offer is refused. Only what the answer depends on is read: the video
 * media section's mid and the payload type the viewer gave H.264 in packetization mode 1.
 * Pure: no I/O.
 */

/** Far above any browser's offer (Chromium's is ≈ 6 KB with every codec); also the API's body limit. */
export const MAX_OFFER_BYTES = 16 * 1024;

export class OfferError extends Error {
  override name = 'OfferError';
}

export interface VideoOffer {
  /** `a=mid` of the video media section the answer sends on. */
  mid: string;
  /** The viewer's payload type for H.264, packetization-mode=1. */
  payloadType: number;
  /** The `a=fmtp` parameters of that payload type, echoed in the answer. */
  fmtp: string;
}

interface MediaSection {
  kind: string;
  port: number;
  formats: string[];
  attributes: string[];
}

/**
 * Profiles in order of preference: the stream is whatever the encoder makes (x264: High, VAAPI:
 * Main/High), and every browser's H.264 decoder takes any of them, but the negotiated profile is
 * what a browser picks its decoder by, so constrained baseline (the one all of them offer) first.
 */
const PROFILE_PREFERENCE = ['42e0', '4200', '4d00', '6400', 'f400'];

export function parseVideoOffer(sdp: string): VideoOffer {
  if (Buffer.byteLength(sdp) > MAX_OFFER_BYTES) {
    throw new OfferError(
      `the offer is ${Buffer.byteLength(sdp)} bytes; at most ${MAX_OFFER_BYTES} are accepted`,
    );
  }
  const lines = sdp.split(/\r?\n/).filter((line) => line.length > 0);
  if (lines[0] !== 'v=0') throw new OfferError('not an SDP offer: it must start with "v=0"');
  const video = mediaSections(lines).find((media) => media.kind === 'video' && media.port !== 0);
  if (!video)
    throw new OfferError('the offer has no video media section (m=video): add a recvonly video transceiver');
  const direction =
    video.attributes.find((a) => /^(sendrecv|sendonly|recvonly|inactive)$/.test(a)) ?? 'sendrecv';
  if (direction === 'sendonly' || direction === 'inactive') {
    throw new OfferError(
      `the video media section is ${direction}: this endpoint only sends video (use recvonly)`,
    );
  }
  const mid = attributeValues(video, 'mid')[0];
  if (!mid || !/^[\w.-]{1,32}$/.test(mid)) throw new OfferError('the video media section has no valid a=mid');
  const h264 = h264Formats(video);
  if (h264.length === 0) {
    throw new OfferError('the offer has no H.264 with packetization-mode=1 in its video media section');
  }
  const rank = (fmtp: string): number => {
    const profile = /profile-level-id=([0-9a-f]{4})/i.exec(fmtp)?.[1]?.toLowerCase() ?? '';
    const index = PROFILE_PREFERENCE.indexOf(profile);
    return index === -1 ? PROFILE_PREFERENCE.length : index;
  };
  const best = [...h264].sort((a, b) => rank(a.fmtp) - rank(b.fmtp))[0]!;
  return { mid, payloadType: best.payloadType, fmtp: best.fmtp };
}

function mediaSections(lines: string[]): MediaSection[] {
  const sections: MediaSection[] = [];
  for (const line of lines) {
    const media = /^m=(\w+) (\d+)(?:\/\d+)? \S+ ?(.*)$/.exec(line);
    if (media) {
      sections.push({
        kind: media[1]!,
        port: Number(media[2]),
        formats: media[3]!.split(' '),
        attributes: [],
      });
    } else if (line.startsWith('a=')) {
      sections.at(-1)?.attributes.push(line.slice(2));
    }
  }
  return sections;
}

function attributeValues(media: MediaSection, name: string): string[] {
  const prefix = `${name}:`;
  return media.attributes.filter((a) => a.startsWith(prefix)).map((a) => a.slice(prefix.length).trim());
}

function h264Formats(media: MediaSection): { payloadType: number; fmtp: string }[] {
  const fmtps = new Map<string, string>();
  for (const value of attributeValues(media, 'fmtp')) {
    const space = value.indexOf(' ');
    if (space > 0) fmtps.set(value.slice(0, space), value.slice(space + 1).trim());
  }
  const formats: { payloadType: number; fmtp: string }[] = [];
  for (const value of attributeValues(media, 'rtpmap')) {
    const rtpmap = /^(\d{1,3}) H264\/90000$/i.exec(value);
    if (!rtpmap || !media.formats.includes(rtpmap[1]!)) continue;
    const payloadType = Number(rtpmap[1]);
    const fmtp = fmtps.get(rtpmap[1]!) ?? '';
    if (payloadType > 127 || !/(^|;)\s*packetization-mode=1(;|$)/.test(fmtp)) continue;
    formats.push({ payloadType, fmtp });
  }
  return formats;
}
