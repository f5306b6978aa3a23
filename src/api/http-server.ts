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
  /**
   * Connections open at once from one client address. 127.0.0.1 and ::1 are exempt (see
   * isLoopbackAddress): behind a local reverse proxy every viewer arrives from there.
   */
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

/**
 * 2048 connections: 500 plain-HLS and 100 LL-HLS viewers (two connections each while a blocking
 * reload waits) fit with room to spare; an idle keep-alive connection costs a few KB.
 */
export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxConnections: 2048,
  maxConnectionsPerClient: 128,
  maxPipelinedRequests: 8,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  timeoutCheckIntervalMs: 1_000,
};

/**
 * 127.0.0.1 and ::1 (also IPv4-mapped): where a local reverse proxy (nginx, a CDN's origin shield)
 * or a local tool connects from. The per-client cap would let such a proxy hold only
 * maxConnectionsPerClient viewers and evict the keep-alive connections of the rest, so it does not
 * apply to them. Only these two addresses: the rest of 127.0.0.0/8 is capped like any client. Pure.
 */
export function isLoopbackAddress(address: string): boolean {
  return address === '127.0.0.1' || address === '::ffff:127.0.0.1' || address === '::1';
}

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
  /** Bytes read but not yet given to the parser (see meterInput). */
  pending: Buffer | null;
  /** Inside pump() (see there). */
  pumping: boolean;
  /** socket.bytesWritten when the queue was last empty. */
  bytesAtIdle: number;
  /** Node's own 'data' listener (it runs the parser), when the input is metered. */
  parse: ((chunk: Buffer) => void) | null;
}

/**
 * Bytes answered on a connection since its queue was last empty, beyond which its further
 * pipelined requests are not answered: the connection is closed after the current answer
 * (RFC 9112 §9.3.2: a pipelining client retries unanswered requests on a new connection). The
 * kernel takes megabytes per socket from a client that never reads; this bounds that per
 * connection to about one answer. Players do not pipeline, so they never meet it.
 */
const PIPELINED_BYTES_BUDGET = 256 * 1024;

/** Input held back from the parser beyond this means a client sending without bound: closed. */
const MAX_PENDING_BYTES = 256 * 1024;

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
      if (connection.queue.length >= effective.maxPipelinedRequests * 2) {
        // Only reachable when the input is not metered (or a body hides request heads): close it.
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

  /**
   * Node parses every request of a chunk at once (≈ 480 for 27 KB of pipelined GETs), each
   * costing a request and a response object now and an error when the connection closes. So the
   * parser is fed one request head at a time, and not at all while `maxPipelinedRequests` parsed
   * requests wait for their answers: the socket is paused and the client's bytes stay in the
   * kernel, as in servers that read the next request only after answering.
   */
  function meterInput(connection: Connection): void {
    const socket = connection.socket as Socket & {
      parser?: { unconsume?: () => void; _consumed?: boolean };
      _handle?: { _consumed?: boolean } | null;
    };
    const listeners = socket.listeners('data') as ((chunk: Buffer) => void)[];
    const parser = socket.parser;
    if (listeners.length !== 1 || typeof parser?.unconsume !== 'function') return;
    // The parser reads the socket in C++; hand the reading back to JavaScript to meter it.
    if (socket._handle?._consumed) {
      parser.unconsume();
      parser._consumed = false;
      socket._handle._consumed = false;
    }
    const parse = listeners[0]!;
    socket.removeListener('data', parse);
    connection.parse = (chunk) => parse.call(socket, chunk);
    socket.on('data', (chunk: Buffer) => {
      connection.pending = connection.pending === null ? chunk : Buffer.concat([connection.pending, chunk]);
      if (connection.pending.length > MAX_PENDING_BYTES) {
        socket.destroy();
        return;
      }
      pump(connection);
    });
  }

  function pump(connection: Connection): void {
    // The parser emits 'request' from inside parse(): a nested pump would feed it re-entrantly.
    if (connection.pumping) return;
    connection.pumping = true;
    try {
      feed(connection);
    } finally {
      connection.pumping = false;
    }
  }

  function feed(connection: Connection): void {
    const { socket } = connection;
    while (connection.pending !== null && connection.parse !== null && !socket.destroyed) {
      if (connection.queue.length >= effective.maxPipelinedRequests) {
        socket.pause();
        return;
      }
      const pending = connection.pending;
      const end = pending.indexOf('\r\n\r\n');
      const cut = end === -1 ? pending.length : end + 4;
      connection.pending = cut < pending.length ? pending.subarray(cut) : null;
      connection.parse(pending.subarray(0, cut));
    }
    if (!socket.destroyed && socket.isPaused()) socket.resume();
  }

  function runNext(connection: Connection): void {
    pump(connection);
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
      const { socket } = connection;
      if (connection.queue.length === 0) {
        connection.bytesAtIdle = socket.bytesWritten;
      } else if (socket.bytesWritten - connection.bytesAtIdle > PIPELINED_BYTES_BUDGET) {
        counters.pipeliningViolations += 1;
        connection.queue.length = 0;
        connection.pending = null;
        connection.parse = null;
        socket.end();
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
    if (!isLoopbackAddress(client) && (perClient.get(client) ?? 0) >= effective.maxConnectionsPerClient) {
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
      pending: null,
      parse: null,
      bytesAtIdle: 0,
      pumping: false,
    };
    connections.set(socket, connection);
    meterInput(connection);
    perClient.set(client, (perClient.get(client) ?? 0) + 1);
    socket.once('close', () => forget(connection));
  });

  return {
    server,
    limits: effective,
    stats: () => ({ connections: connections.size, ...counters }),
  };
}
