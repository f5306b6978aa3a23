/**
 * A Low-Latency HLS media playlist as a player reads it (pure): segments with their parts, the
 * open (partial) segment at the end, discontinuities, PROGRAM-DATE-TIME, the preload hint.
 */

export interface LlPart {
  uri: string;
  duration: number;
  independent: boolean;
}

export interface LlSegment {
  sequence: number;
  /** null for the open segment (only parts listed yet). */
  uri: string | null;
  duration: number | null;
  discontinuity: boolean;
  programDateMs: number | null;
  parts: LlPart[];
}

export interface LlPlaylist {
  mediaSequence: number;
  discontinuitySequence: number;
  targetDuration: number;
  partTarget: number | null;
  canBlockReload: boolean;
  preloadHint: string | null;
  segments: LlSegment[];
}

export function parseLlPlaylist(text: string): LlPlaylist {
  const playlist: LlPlaylist = {
    mediaSequence: 0,
    discontinuitySequence: 0,
    targetDuration: 0,
    partTarget: null,
    canBlockReload: false,
    preloadHint: null,
    segments: [],
  };
  let pending: LlSegment | null = null;
  const current = (): LlSegment => {
    pending ??= {
      sequence: playlist.mediaSequence + playlist.segments.length,
      uri: null,
      duration: null,
      discontinuity: false,
      programDateMs: null,
      parts: [],
    };
    return pending;
  };
  const attr = (line: string, name: string): string | null => {
    const match = new RegExp(`(?:^|[:,])${name}=("[^"]*"|[^,]*)`).exec(line);
    return match ? match[1]!.replace(/^"|"$/g, '') : null;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line === '#EXTM3U') continue;
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) playlist.mediaSequence = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-DISCONTINUITY-SEQUENCE:'))
      playlist.discontinuitySequence = Number(line.slice(30));
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) playlist.targetDuration = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-PART-INF:')) playlist.partTarget = Number(attr(line, 'PART-TARGET'));
    else if (line.startsWith('#EXT-X-SERVER-CONTROL:'))
      playlist.canBlockReload = attr(line, 'CAN-BLOCK-RELOAD') === 'YES';
    else if (line === '#EXT-X-DISCONTINUITY') current().discontinuity = true;
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:'))
      current().programDateMs = Date.parse(line.slice(25));
    else if (line.startsWith('#EXT-X-PART:'))
      current().parts.push({
        uri: attr(line, 'URI') ?? '',
        duration: Number(attr(line, 'DURATION')),
        independent: attr(line, 'INDEPENDENT') === 'YES',
      });
    else if (line.startsWith('#EXTINF:')) current().duration = Number.parseFloat(line.slice(8));
    else if (line.startsWith('#EXT-X-PRELOAD-HINT:')) playlist.preloadHint = attr(line, 'URI');
    else if (!line.startsWith('#')) {
      const segment = current();
      segment.uri = line;
      playlist.segments.push(segment);
      pending = null;
    }
  }
  if (pending !== null && (pending as LlSegment).parts.length > 0) playlist.segments.push(pending);
  return playlist;
}

/** Where a blocking reload asks next (RFC 8216bis §6.2.5.2): the part after the last one listed. */
export function nextReload(playlist: LlPlaylist): { msn: number; part: number } {
  const last = playlist.segments.at(-1);
  if (!last) return { msn: playlist.mediaSequence, part: 0 };
  if (last.uri === null) return { msn: last.sequence, part: last.parts.length };
  return { msn: last.sequence + 1, part: 0 };
}

/** Every piece of media a player can fetch, oldest first: parts where listed, else whole segments. */
export function mediaUris(playlist: LlPlaylist): string[] {
  return playlist.segments.flatMap((segment) =>
    segment.parts.length > 0 ? segment.parts.map((part) => part.uri) : segment.uri ? [segment.uri] : [],
  );
}
