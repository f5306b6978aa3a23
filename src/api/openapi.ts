/**
 * OpenAPI 3.1 description of the HTTP API. Tests validate real responses against these
 * schemas, so a change to a response shape must change this document too.
 */
import { DISPLAY_ACCESS_STATES } from '../capture/x-access.ts';
import { PIPELINE_ERROR_TYPES, RESTART_REASONS, SUPERVISOR_STATES } from '../pipeline/types.ts';
import { MAX_OFFER_BYTES } from '../webrtc/offer.ts';
import { LOG_LEVELS, LOG_LIMIT_DEFAULT, LOG_LIMIT_MAX } from './routes/logs.ts';

/** routes/whep.ts's SDP_CONTENT_TYPE; not imported, so this document does not load the WebRTC stack. */
const SDP_CONTENT_TYPE = 'application/sdp';
const GST_STATES = ['VOID_PENDING', 'NULL', 'READY', 'PAUSED', 'PLAYING'];
const isoTime = { type: 'string', format: 'date-time' };
const nullableIsoTime = { type: ['string', 'null'], format: 'date-time' };
const countsBy = (keys: readonly string[]) => ({
  type: 'object',
  required: [...keys],
  additionalProperties: false,
  properties: Object.fromEntries(keys.map((k) => [k, { type: 'integer', minimum: 0 }])),
});
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const errorResponse = (description: string) => json(ref('Error'), description);

/** An answer without a body (CORS preflights, WHEP's DELETE), with the headers it carries. */
const noContent = (description: string, headers: Record<string, string> = {}) => ({
  description,
  ...(Object.keys(headers).length > 0
    ? {
        headers: Object.fromEntries(
          Object.entries(headers).map(([name, text]) => [
            name,
            { description: text, schema: { type: 'string' } },
          ]),
        ),
      }
    : {}),
});
const corsPreflight = (methods: string) =>
  noContent(`CORS preflight answered: ${methods} from any origin (never needs the token)`, {
    'Access-Control-Allow-Origin': '* (any origin)',
    'Access-Control-Allow-Methods': methods,
    'Access-Control-Allow-Headers': 'Content-Type, Authorization, If-Match',
    'Access-Control-Expose-Headers': 'Location, Link, ETag, Accept-Post',
  });
const readDenied = {
  '401': errorResponse('Token required (api.public_read is false)'),
  '403': errorResponse('Reading disabled (api.public_read is false and no token configured)'),
};

const readSecurity = [{}, { bearerAuth: [] }];
const controlSecurity = [{ bearerAuth: [] }];

const controlOperation = (action: string, summary: string, extra: Record<string, object> = {}) => ({
  post: {
    operationId: `stream${action[0]!.toUpperCase()}${action.slice(1)}`,
    summary,
    tags: ['control'],
    security: controlSecurity,
    responses: {
      '200': json(
        {
          type: 'object',
          required: ['ok', 'action', 'state'],
          properties: {
            ok: { const: true },
            action: { const: action },
            state: { enum: [...SUPERVISOR_STATES] },
            ...extra,
          },
        },
        'Done',
      ),
      '401': errorResponse('Missing or wrong bearer token (with a WWW-Authenticate: Bearer challenge)'),
      '403': errorResponse('Control endpoints are disabled: no API token configured'),
      '405': errorResponse('Wrong method (GET): the Allow header says POST'),
      '409': errorResponse('The supervisor could not do it'),
      '413': errorResponse('Request body too large'),
    },
  },
});

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'desktop-streamer API',
    version: '1',
    description:
      'Health, status and control of a kiosk desktop streamer. /api/health and /api/status keep the ' +
      'JSON shapes of the earlier system. Read-only endpoints are open unless api.public_read is false; ' +
      'control endpoints need `Authorization: Bearer <token>` and are disabled when no token is configured.',
  },
  tags: [
    { name: 'health', description: 'Is the stream healthy?' },
    { name: 'control', description: 'Change what the supervisor does (token required)' },
    { name: 'logs', description: 'Recent and live log lines' },
    { name: 'player', description: 'Built-in browser player' },
    {
      name: 'webrtc',
      description:
        'WebRTC viewing over WHEP (RFC 9725): H.264 video only, no trickle ICE; media on the one UDP port webrtc.udp_port (docs/webrtc.md)',
    },
  ],
  paths: {
    '/api/health': {
      get: {
        operationId: 'getHealth',
        summary: 'Health summary (200 healthy, 503 unhealthy, so `curl -f` works)',
        tags: ['health'],
        security: readSecurity,
        responses: {
          '200': json(ref('Health'), 'Healthy: streaming and a new segment within the stall timeout'),
          '503': json(ref('Health'), 'Unhealthy (same body)'),
          '401': errorResponse('Token required (api.public_read is false)'),
          '403': errorResponse('Reading disabled (api.public_read is false and no token configured)'),
        },
      },
    },
    '/api/status': {
      get: {
        operationId: 'getStatus',
        summary: 'Service, stream, health and system status',
        tags: ['health'],
        security: readSecurity,
        responses: {
          '200': json(ref('Status'), 'Status (always 200; /api/health judges)'),
          '401': errorResponse('Token required (api.public_read is false)'),
          '403': errorResponse('Reading disabled'),
        },
      },
    },
    '/api/health/detailed': {
      get: {
        operationId: 'getHealthDetailed',
        summary:
          'Everything behind the health verdict: capture plan, pipeline, restarts, errors, playlist, config',
        tags: ['health'],
        security: readSecurity,
        responses: {
          '200': json(ref('Detailed'), 'Details'),
          '401': errorResponse('Token required (api.public_read is false)'),
          '403': errorResponse('Reading disabled'),
        },
      },
    },
    '/api/snapshot.jpg': {
      get: {
        operationId: 'getSnapshot',
        summary: 'The latest captured picture',
        tags: ['health'],
        security: readSecurity,
        responses: {
          '200': {
            description: 'JPEG',
            content: { 'image/jpeg': { schema: { type: 'string', contentMediaType: 'image/jpeg' } } },
          },
          '404': errorResponse('No picture yet (or no picture tap)'),
        },
      },
    },
    '/api/stream/start': controlOperation('start', 'Start streaming (also leaves the failed state)'),
    '/api/stream/stop': controlOperation('stop', 'Stop streaming until started again'),
    '/api/stream/restart': controlOperation(
      'restart',
      'Restart the pipeline now (counted as reason "manual")',
    ),
    '/api/stream/cleanup': controlOperation(
      'cleanup',
      'Delete segments that left the playlist (RFC 8216 retention kept)',
      {
        removed_files: { type: 'integer', minimum: 0 },
        removed_bytes: { type: 'integer', minimum: 0 },
      },
    ),
    '/api/logs': {
      get: {
        operationId: 'getLogs',
        summary: 'Recent log lines, oldest first',
        tags: ['logs'],
        security: readSecurity,
        parameters: [
          { name: 'level', in: 'query', description: 'Minimum level', schema: { enum: [...LOG_LEVELS] } },
          {
            name: 'limit',
            in: 'query',
            description: 'Newest N lines',
            schema: { type: 'integer', minimum: 1, maximum: LOG_LIMIT_MAX, default: LOG_LIMIT_DEFAULT },
          },
          {
            name: 'since',
            in: 'query',
            description: 'Only lines after this time (epoch ms or ISO 8601)',
            schema: {
              oneOf: [
                { type: 'integer', minimum: 0 },
                { type: 'string', format: 'date-time' },
              ],
            },
          },
        ],
        responses: {
          '200': json(ref('LogPage'), 'Log lines'),
          '400': errorResponse('Bad query parameter (named in `parameter`, with the `allowed` values)'),
        },
      },
    },
    '/api/logs/stream': {
      get: {
        operationId: 'streamLogs',
        summary:
          'Live tail as Server-Sent Events (event "log", data = a LogLine); comment heartbeats keep it open',
        tags: ['logs'],
        security: readSecurity,
        parameters: [
          { name: 'level', in: 'query', schema: { enum: [...LOG_LEVELS] } },
          {
            name: 'limit',
            in: 'query',
            description: 'Backlog lines sent first',
            schema: { type: 'integer', minimum: 1, maximum: LOG_LIMIT_MAX },
          },
          { name: 'since', in: 'query', schema: { type: 'string' } },
        ],
        responses: {
          '200': {
            description: 'Event stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          '400': errorResponse('Bad query parameter'),
        },
      },
    },
    '/api/openapi.json': {
      get: {
        operationId: 'getOpenApi',
        summary: 'This document',
        tags: ['health'],
        responses: {
          '200': json({ type: 'object', required: ['openapi', 'paths'] }, 'OpenAPI 3.1 document'),
        },
      },
    },
    '/whep': {
      post: {
        operationId: 'whepOffer',
        summary:
          'Start a WebRTC viewing session: send an SDP offer with a recvonly video section offering H.264 ' +
          '(packetization-mode=1); the answer comes once ICE gathering is complete and carries every candidate',
        tags: ['webrtc'],
        security: readSecurity,
        requestBody: {
          required: true,
          description: `The SDP offer, at most ${MAX_OFFER_BYTES} bytes`,
          content: { [SDP_CONTENT_TYPE]: { schema: { type: 'string', maxLength: MAX_OFFER_BYTES } } },
        },
        responses: {
          '201': {
            description:
              'The SDP answer; the session lives at the URL in Location until DELETE or until it fails',
            headers: {
              Location: {
                description: 'The session resource, /whep/sessions/<uuid>',
                schema: { type: 'string', pattern: '^/whep/sessions/[0-9a-f-]{36}$' },
              },
            },
            content: { [SDP_CONTENT_TYPE]: { schema: { type: 'string' } } },
          },
          '400': errorResponse(
            'error "bad_offer": empty body, not SDP, no video section, video not receivable, no H.264 with packetization-mode=1, or an offer the WebRTC stack cannot answer',
          ),
          ...readDenied,
          '413': errorResponse(`Offer larger than ${MAX_OFFER_BYTES} bytes`),
          '415': errorResponse(`error "unsupported_media_type": Content-Type is not ${SDP_CONTENT_TYPE}`),
          '503': {
            ...errorResponse(
              'error "webrtc_unavailable": every webrtc.max_viewers place is taken (with Retry-After), or WebRTC is turned off (webrtc.enabled false, no Retry-After); the HLS stream is still there',
            ),
            headers: {
              'Retry-After': {
                description: 'Seconds to wait before offering again (only when full)',
                schema: { type: 'string', pattern: '^[0-9]+$' },
              },
            },
          },
        },
      },
      options: {
        operationId: 'whepOptions',
        summary: 'CORS preflight; Accept-Post names the content type POST takes',
        tags: ['webrtc'],
        responses: {
          '204': {
            ...corsPreflight('POST, OPTIONS'),
            headers: {
              ...corsPreflight('POST, OPTIONS').headers,
              'Accept-Post': { description: SDP_CONTENT_TYPE, schema: { type: 'string' } },
            },
          },
        },
      },
    },
    '/whep/sessions/{id}': {
      parameters: [
        {
          name: 'id',
          in: 'path',
          required: true,
          description: 'The session id from the Location of the 201',
          schema: { type: 'string', pattern: '^[0-9a-f-]{36}$' },
        },
      ],
      delete: {
        operationId: 'whepEnd',
        summary: 'End the session (the viewer leaves); its place is free at once',
        tags: ['webrtc'],
        security: readSecurity,
        responses: {
          '200': noContent('Ended (no body)'),
          ...readDenied,
          '404': errorResponse(
            'No such session (never existed, already ended, or ended by itself when it failed)',
          ),
        },
      },
      patch: {
        operationId: 'whepPatch',
        summary: 'Trickle ICE and ICE restarts are not supported: always 405',
        tags: ['webrtc'],
        security: readSecurity,
        responses: {
          '405': {
            ...errorResponse(
              'Not supported: the answer carries every candidate; to reconnect, DELETE the session and POST a new offer',
            ),
            headers: { Allow: { description: 'DELETE, OPTIONS', schema: { type: 'string' } } },
          },
          ...readDenied,
        },
      },
      options: {
        operationId: 'whepSessionOptions',
        summary: 'CORS preflight for DELETE',
        tags: ['webrtc'],
        responses: { '204': corsPreflight('DELETE, OPTIONS') },
      },
    },
    '/player': {
      get: {
        operationId: 'getPlayer',
        summary: 'Built-in HLS player (hls.js, Safari native fallback) with a health summary',
        tags: ['player'],
        responses: {
          '200': { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        description: 'api.token, api.token_file or DESKTOP_STREAMER_API_TOKEN',
      },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error', 'message'],
        properties: {
          error: { type: 'string', description: 'machine code, e.g. bad_request, unauthorized, not_found' },
          message: { type: 'string' },
          parameter: { type: 'string', description: '400: the offending query parameter' },
          allowed: { type: 'string', description: '400: what is allowed' },
          allow: { type: 'array', items: { type: 'string' }, description: '405: allowed methods' },
          hint: { type: 'string', description: '405: how to call this path' },
          limit_bytes: { type: 'integer', description: '413: the body limit' },
        },
      },
      Health: {
        type: 'object',
        description: 'The fields of the earlier system, exactly.',
        required: [
          'monitoring_active',
          'total_errors',
          'recent_errors',
          'current_state',
          'stream_active',
          'mediamtx_running',
          'restart_count',
          'last_error',
          'uptime_minutes',
          'memory_usage_mb',
          'system_memory_percent',
        ],
        additionalProperties: false,
        properties: {
          monitoring_active: { type: 'boolean', description: 'false when stopped on request' },
          total_errors: { type: 'integer', minimum: 0 },
          recent_errors: { type: 'integer', minimum: 0, description: 'errors within error_window' },
          current_state: { enum: GST_STATES, description: 'GStreamer pipeline state' },
          stream_active: { type: 'boolean', description: 'a new segment within the stall timeout' },
          mediamtx_running: { type: 'boolean', description: 'relay_url configured and reachable' },
          restart_count: { type: 'integer', minimum: 0 },
          last_error: { type: ['string', 'null'] },
          uptime_minutes: { type: 'number', minimum: 0 },
          memory_usage_mb: { type: 'number', minimum: 0, description: 'supervisor + pipeline child RSS' },
          system_memory_percent: { type: 'number', minimum: 0, maximum: 100 },
        },
      },
      Status: {
        type: 'object',
        required: ['service', 'stream', 'health', 'system'],
        properties: {
          service: {
            type: 'object',
            required: ['active', 'details'],
            properties: {
              active: { type: 'boolean' },
              details: {
                type: 'object',
                required: ['ActiveState', 'SubState'],
                properties: { ActiveState: { type: 'string' }, SubState: { type: 'string' } },
              },
              source: { enum: ['systemd', 'supervisor'] },
            },
          },
          stream: ref('Stream'),
          health: ref('Health'),
          system: {
            type: 'object',
            required: ['cpu_percent', 'memory_percent', 'disk_usage_percent'],
            additionalProperties: false,
            properties: {
              cpu_percent: { type: 'number', minimum: 0, maximum: 100 },
              memory_percent: { type: 'number', minimum: 0, maximum: 100 },
              disk_usage_percent: {
                type: ['number', 'null'],
                minimum: 0,
                maximum: 100,
                description: 'filesystem of output_dir',
              },
            },
          },
        },
      },
      Stream: {
        type: 'object',
        required: ['playlist_exists', 'segment_count', 'total_size_mb', 'stream_active'],
        properties: {
          playlist_exists: { type: 'boolean' },
          segment_count: { type: 'integer', minimum: 0, description: 'segment files on disk' },
          total_size_mb: { type: 'number', minimum: 0 },
          stream_active: { type: 'boolean' },
        },
      },
      Detailed: {
        type: 'object',
        required: [
          'healthy',
          'generated_at',
          'health',
          'supervisor',
          'capture',
          'pipeline',
          'restarts',
          'errors',
          'stream',
          'playlist',
          'config',
        ],
        properties: {
          healthy: { type: 'boolean' },
          generated_at: isoTime,
          health: ref('Health'),
          supervisor: {
            type: 'object',
            required: ['state', 'state_since', 'gst_state', 'started_at', 'backoff_seconds', 'state_history'],
            properties: {
              state: { enum: [...SUPERVISOR_STATES] },
              state_since: isoTime,
              gst_state: { enum: GST_STATES },
              started_at: isoTime,
              backoff_seconds: { type: 'number', minimum: 0 },
              state_history: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['state', 'at'],
                  properties: { state: { enum: [...SUPERVISOR_STATES] }, at: isoTime },
                },
              },
            },
          },
          display: {
            type: 'object',
            description:
              'Access to the X display: refused = the X server refused the connection (X authorisation), unreachable = no server answers',
            required: ['access', 'error'],
            properties: {
              access: { enum: [...DISPLAY_ACCESS_STATES] },
              error: { type: ['string', 'null'], description: 'what xrandr printed when it last failed' },
            },
          },
          capture: {
            oneOf: [
              { type: 'null' },
              {
                type: 'object',
                required: ['display', 'monitor', 'fallback_to_primary', 'encoder', 'output'],
                properties: {
                  display: { type: 'string' },
                  monitor: {
                    type: 'object',
                    required: ['index', 'name', 'outputs', 'primary', 'geometry'],
                    properties: {
                      index: { type: 'integer' },
                      name: { type: 'string' },
                      outputs: { type: 'array', items: { type: 'string' } },
                      primary: { type: 'boolean' },
                      geometry: { type: 'string', pattern: '^\\d+x\\d+\\+-?\\d+\\+-?\\d+$' },
                    },
                  },
                  fallback_to_primary: { type: 'boolean' },
                  encoder: {
                    type: 'object',
                    required: ['element', 'reason'],
                    properties: {
                      element: { enum: ['vah264enc', 'vaapih264enc', 'x264enc', 'openh264enc'] },
                      reason: { type: 'string' },
                    },
                  },
                  output: {
                    type: 'object',
                    required: [
                      'width',
                      'height',
                      'fps',
                      'bitrate_kbps',
                      'keyframe_interval_seconds',
                      'segment_duration_seconds',
                    ],
                    properties: {
                      width: { type: 'integer' },
                      height: { type: 'integer' },
                      fps: { type: 'number' },
                      bitrate_kbps: { type: 'number' },
                      keyframe_interval_seconds: { type: 'number' },
                      segment_duration_seconds: { type: 'number' },
                    },
                  },
                },
              },
            ],
          },
          pipeline: {
            type: 'object',
            required: ['pid', 'started_at', 'uptime_seconds', 'argv'],
            properties: {
              pid: { type: ['integer', 'null'] },
              started_at: nullableIsoTime,
              uptime_seconds: { type: ['number', 'null'] },
              argv: { type: 'array', items: { type: 'string' } },
            },
          },
          restarts: {
            type: 'object',
            required: ['total', 'by_reason', 'recent'],
            properties: {
              total: { type: 'integer', minimum: 0 },
              by_reason: countsBy(RESTART_REASONS),
              recent: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['at', 'reason', 'detail'],
                  properties: {
                    at: isoTime,
                    reason: { enum: [...RESTART_REASONS] },
                    detail: { type: 'string' },
                  },
                },
              },
            },
          },
          errors: {
            type: 'object',
            required: ['total', 'in_window', 'window_seconds', 'by_type', 'warnings_total', 'recent'],
            properties: {
              total: { type: 'integer', minimum: 0 },
              in_window: { type: 'integer', minimum: 0 },
              window_seconds: { type: 'number' },
              by_type: countsBy(PIPELINE_ERROR_TYPES),
              warnings_total: { type: 'integer', minimum: 0 },
              recent: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['at', 'type', 'message', 'element'],
                  properties: {
                    at: isoTime,
                    type: { enum: [...PIPELINE_ERROR_TYPES] },
                    message: { type: 'string' },
                    element: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
          stream: {
            allOf: [ref('Stream')],
            type: 'object',
            required: ['segment_lag_seconds', 'stall_timeout_seconds', 'last_segment_at'],
            properties: {
              segment_lag_seconds: { type: ['number', 'null'], minimum: 0 },
              stall_timeout_seconds: { type: 'number' },
              last_segment_at: nullableIsoTime,
            },
          },
          playlist: {
            type: 'object',
            required: [
              'path',
              'exists',
              'media_sequence',
              'discontinuity_sequence',
              'target_duration_seconds',
              'segments',
              'duration_seconds',
              'segments_written_total',
              'discontinuities_total',
              'files_on_disk',
              'bytes_on_disk',
            ],
            properties: {
              path: { type: 'string' },
              exists: { type: 'boolean' },
              media_sequence: { type: 'integer', minimum: 0 },
              discontinuity_sequence: { type: 'integer', minimum: 0 },
              target_duration_seconds: { type: 'number' },
              segments: { type: 'integer', minimum: 0 },
              duration_seconds: { type: 'number', minimum: 0 },
              segments_written_total: { type: 'integer', minimum: 0 },
              discontinuities_total: { type: 'integer', minimum: 0 },
              files_on_disk: { type: 'integer', minimum: 0 },
              bytes_on_disk: { type: 'integer', minimum: 0 },
            },
          },
          config: { type: 'object', description: 'Config in effect, secrets replaced by "[redacted]"' },
        },
      },
      LogLine: {
        type: 'object',
        required: ['time', 'level', 'module', 'msg', 'record'],
        properties: {
          time: isoTime,
          level: { type: 'string' },
          module: { type: ['string', 'null'] },
          msg: { type: 'string' },
          record: { type: 'object', description: 'the whole (redacted) pino record' },
        },
      },
      LogPage: {
        type: 'object',
        required: ['count', 'lines'],
        properties: {
          count: { type: 'integer', minimum: 0 },
          lines: { type: 'array', items: ref('LogLine') },
        },
      },
    },
  },
} as const;
