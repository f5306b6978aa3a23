/**
 * The HTTP server around the Koa app, with the limits a LAN-facing server needs so that no client
 * can take the supervisor down: a connection cap with headroom for the supervisor's own files and
 * children, per-client caps, header/request/keep-alive/idle timeouts, and pipelined requests
 * answered one at a time per connection (the next one only once the previous answer was handed to
 * the socket and the socket drained), with a bounded pipelining depth.
 *
 * Under pressure, the way nginx drains reusable connections, a new connection first evicts
 * connections that make no progress (idle ones, then ones whose client stopped reading) before it
 * is refused.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';

export interface HttpLimits {
  /** Connections open at once; further ones evict a stalled connection or are refused. */
  maxConnections: number;
  /** Connections open at once from one client address. */
  maxConnectionsPerClient: number;
  /** Requests a connection may have parsed but not yet answered; more closes the connection. */
  maxPipelinedRequests: number;
  /** Time to receive a request's headers. */
  headersTimeoutMs: number;
  /** Time to receive a whole request (headers and body). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept after an answer. */
  keepAliveTimeoutMs: number;
  /** A connection with no byte read or written for this long is closed (also a client that stopped reading). */
  idleTimeoutMs: number;
  /** How often the header and request timeouts are checked. */
  timeoutCheckIntervalMs: number;
}

/** File descriptors left to the supervisor itself (segments, state, logs, its children's pipes). */
export const FD_HEADROOM = 256;

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxConnections: 512,
  maxConnectionsPerClient: 128,
  maxPipelinedRequests: 8,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  timeoutCheckIntervalMs: 1_000,
};

/** The soft RLIMIT_NOFILE of this process from /proc/self/limits text, or null. Pure. */
export function parseOpenFilesLimit(limitsText: string): number | null {
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(limitsText);
  if (!match) return null;
  return match[1] === 'unlimited' ? null : Number(match[1]);
}

/** The connection cap: the wanted one, lowered so FD_HEADROOM descriptors always stay free. Pure. */
export function connectionCap(wanted: number, openFilesLimit: number | null): number {
  if (openFilesLimit === null) return wanted;
  return Math.max(16, Math.min(wanted, openFilesLimit - FD_HEADROOM));
}

function readOpenFilesLimit(): number | null {
  try {
    return parseOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null;
  }
}

interface Connection {
  socket: Socket;
  client: string;
  openedAt: number;
  /** Parsed requests not yet answered; the head one is being handled. */
  queue: [http.IncomingMessage, http.ServerResponse][];
  waitingForDrain: boolean;
}

export interface HttpServerStats {
  connections: number;
  /** Connections closed to make room (idle or not reading) since start. */
  evicted: number;
  /** Connections refused at the cap with nothing to evict. */
  refused: number;
  /** Connections closed for exceeding the pipelining depth. */
  pipeliningViolations: number;
}

export interface LimitedServer {
  server: http.Server;
  limits: HttpLimits;
  stats(): HttpServerStats;
}

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** An http.Server running `handler` under `limits` (defaults: DEFAULT_HTTP_LIMITS, capped by the fd limit). */
export function createLimitedServer(
  handler: RequestHandler,
  limits: Partial<HttpLimits> = {},
): LimitedServer {
  const wanted = { ...DEFAULT_HTTP_LIMITS, ...limits };
  const effective: HttpLimits = {
    ...wanted,
    maxConnections: connectionCap(wanted.maxConnections, readOpenFilesLimit()),
  };
  const connections = new Map<Socket, Connection>();
  const perClient = new Map<string, number>();
  const counters = { evicted: 0, refused: 0, pipeliningViolations: 0 };

  const server = http.createServer(
    {
      headersTimeout: effective.headersTimeoutMs,
      requestTimeout: effective.requestTimeoutMs,
      keepAliveTimeout: effective.keepAliveTimeoutMs,
      connectionsCheckingInterval: effective.timeoutCheckIntervalMs,
    },
    (req, res) => {
      // Requests Node still parses from a chunk that arrived before the socket was closed.
      if (req.socket.destroyed) return;
      const connection = connections.get(req.socket);
      if (connection === undefined) {
        handler(req, res);
        return;
      }
      if (connection.queue.length >= effective.maxPipelinedRequests) {
        // A client that pipelines this deep without reading is not a player: close it.
        counters.pipeliningViolations += 1;
        connection.queue.length = 0;
        req.socket.destroy();
        return;
      }
      connection.queue.push([req, res]);
      if (connection.queue.length === 1 && !connection.waitingForDrain) runNext(connection);
    },
  );
  // No byte either way for this long: closed (Node destroys the socket when no 'timeout' listener answers).
  server.timeout = effective.idleTimeoutMs;
  server.maxHeadersCount = 100;

  function runNext(connection: Connection): void {
    const head = connection.queue[0];
    if (head === undefined || connection.socket.destroyed) return;
    const [req, res] = head;
    let done = false;
    const finished = () => {
      if (done) return;
      done = true;
      connection.queue.shift();
      if (connection.socket.destroyed) {
        connection.queue.length = 0;
        return;
      }
      // Answer the next pipelined request only once the client took the previous answer.
      if (connection.socket.writableNeedDrain) {
        connection.waitingForDrain = true;
        connection.socket.once('drain', () => {
          connection.waitingForDrain = false;
          runNext(connection);
        });
      } else {
        runNext(connection);
      }
    };
    res.once('finish', finished);
    res.once('close', finished);
    handler(req, res);
  }

  /** Closes stalled connections to make room: idle ones first, then ones whose client stopped reading. */
  function evict(candidates: Iterable<Connection>): boolean {
    let idle: Connection | null = null;
    let stalled: Connection | null = null;
    for (const connection of candidates) {
      if (connection.queue.length === 0 && !connection.waitingForDrain) {
        if (idle === null || connection.openedAt < idle.openedAt) idle = connection;
      } else if (connection.socket.writableNeedDrain || connection.waitingForDrain) {
        if (stalled === null || connection.openedAt < stalled.openedAt) stalled = connection;
      }
    }
    const victim = idle ?? stalled;
    if (victim === null) return false;
    counters.evicted += 1;
    forget(victim);
    victim.socket.destroy();
    return true;
  }

  function forget(connection: Connection): void {
    if (!connections.delete(connection.socket)) return;
    const left = (perClient.get(connection.client) ?? 1) - 1;
    if (left <= 0) perClient.delete(connection.client);
    else perClient.set(connection.client, left);
  }

  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? 'unknown';
    if ((perClient.get(client) ?? 0) >= effective.maxConnectionsPerClient) {
      const own = [...connections.values()].filter((c) => c.client === client);
      if (!evict(own)) {
        counters.refused += 1;
        socket.destroy();
        return;
      }
    }
    if (connections.size >= effective.maxConnections && !evict(connections.values())) {
      counters.refused += 1;
      socket.destroy();
      return;
    }
    const connection: Connection = {
      socket,
      client,
      openedAt: Date.now(),
      queue: [],
      waitingForDrain: false,
    };
    connections.set(socket, connection);
    perClient.set(client, (perClient.get(client) ?? 0) + 1);
    socket.once('close', () => forget(connection));
  });

  return {
    server,
    limits: effective,
    stats: () => ({ connections: connections.size, ...counters }),
  };
}
