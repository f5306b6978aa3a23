/**
 * A bare test page with hls.js from the npm package, served on loopback: for e2e tests that drive
 * hls.js directly (every error visible) rather than through /player.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const HLS_JS = new URL('../../node_modules/hls.js/dist/hls.min.js', import.meta.url);

/** Serves `html` at / and hls.js at /hls.min.js; anything else is a 404. */
export async function serveHlsPage(html: string): Promise<{ server: Server; url: string }> {
  const script = await readFile(HLS_JS);
  const server = createServer((request, response) => {
    if (request.url === '/')
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    else if (request.url === '/hls.min.js')
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}
