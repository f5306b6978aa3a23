/** Where the HLS output lives under output_dir (see publisher.ts for the layout). */
import path from 'node:path';
import { PLAYLIST_FILE_NAME } from './playlist.ts';
import { STATE_FILE_NAME } from './state-file.ts';

export const PUBLIC_DIR_NAME = 'desktop';

export interface HlsPaths {
  outputDir: string;
  publicDir: string;
  playlistPath: string;
  statePath: string;
}

export function hlsPaths(outputDir: string): HlsPaths {
  const root = path.resolve(outputDir);
  const publicDir = path.join(root, PUBLIC_DIR_NAME);
  return {
    outputDir: root,
    publicDir,
    playlistPath: path.join(publicDir, PLAYLIST_FILE_NAME),
    statePath: path.join(root, STATE_FILE_NAME),
  };
}
