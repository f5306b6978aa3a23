/**
 * Validation of a parsed config object against the schema: every bad value is reported with
 * its key, the value and what is allowed; unknown keys become warnings. Pure.
 */
import { isIP } from 'node:net';
import { type Config, DEFAULT_CONFIG, ENCODER_CHOICES } from './schema.ts';

export interface ConfigIssue {
  /** Dotted key, e.g. "live_streaming.max_segments". */
  key: string;
  value: unknown;
  /** What is allowed, as a phrase: "an integer from 1 to 60". */
  allowed: string;
}

export interface ValidationResult {
  config: Config;
  errors: ConfigIssue[];
  /** Unknown keys and questionable (but usable) combinations. */
  warnings: string[];
}

type Check = (value: unknown) => string | null;

const integer =
  (min: number, max: number): Check =>
  (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max
      ? null
      : `an integer from ${min} to ${max}`;

const evenInteger =
  (min: number, max: number): Check =>
  (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max && (v as number) % 2 === 0
      ? null
      : `an even integer from ${min} to ${max}`;

const number =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max
      ? null
      : `a number from ${min} to ${max}`;

const boolean: Check = (v) => (typeof v === 'boolean' ? null : 'true or false');

const oneOf =
  (choices: readonly string[]): Check =>
  (v) =>
    typeof v === 'string' && choices.includes(v) ? null : `one of ${choices.map((c) => `"${c}"`).join(', ')}`;

const absolutePath: Check = (v) =>
  typeof v === 'string' && v.startsWith('/') && !v.includes('\0') ? null : 'an absolute path';

const nullable =
  (check: Check): Check =>
  (v) => {
    if (v === null) return null;
    const problem = check(v);
    return problem === null ? null : `null or ${problem}`;
  };

const nonEmptyString: Check = (v) => (typeof v === 'string' && v.trim() !== '' ? null : 'a non-empty string');

const displayName: Check = (v) =>
  typeof v === 'string' && /^[\w.-]*:\d+(\.\d+)?$/.test(v) ? null : 'an X display name such as ":0"';

const url: Check = (v) => {
  if (typeof v !== 'string') return 'a URL';
  try {
    new URL(v);
    return null;
  } catch {
    return 'a URL';
  }
};

const IP_ALLOWED = 'an IPv4 or IPv6 address such as "0.0.0.0", "127.0.0.1" or "::", or "localhost"';

const ipAddress: Check = (v) =>
  typeof v === 'string' && (isIP(v) !== 0 || v === 'localhost') ? null : IP_ALLOWED;

const monitor: Check = (v) =>
  v === 'auto' || (Number.isInteger(v) && (v as number) >= 0) || (typeof v === 'string' && v.trim() !== '')
    ? null
    : '"auto", a monitor index from 0, or an output name such as "HDMI-A-1"';

/** The bundled ICE stack (libjuice) speaks STUN and TURN over UDP only: turns: and TCP would be ignored. */
const iceServers: Check = (v) =>
  Array.isArray(v) &&
  v.length <= 16 &&
  v.every((s) => typeof s === 'string' && /^(stun|turn):[^\s]+$/.test(s) && !/[?&]transport=tcp/i.test(s))
    ? null
    : 'a list of at most 16 STUN/TURN URLs such as "stun:stun.example.org:3478" or "turn:user:password@turn.example.org:3478" (TURN over UDP only: turns: and transport=tcp are not supported)';

type Section = 'live_streaming' | 'unity_optimization' | 'api' | 'webrtc';

/**
 * One check per key, shaped like Config: a key added to (or removed from) Config without its
 * check here does not compile.
 */
type ConfigChecks = { [K in Exclude<keyof Config, Section>]-?: Check } & {
  [S in Section]-?: { [K in keyof Config[S]]-?: Check };
};

const CHECKS: ConfigChecks = {
  fps: integer(1, 60),
  width: evenInteger(16, 7680),
  height: evenInteger(16, 4320),
  bitrate: integer(100, 100_000),
  keyframe_interval: number(0.1, 60),
  segment_duration: integer(1, 60),
  output_dir: absolutePath,
  max_restarts: integer(1, 10_000),
  restart_delay: number(1, 86_400),
  max_errors: integer(1, 100_000),
  error_window: number(1, 86_400),
  encoder: oneOf(ENCODER_CHOICES),
  live_streaming: {
    enabled: boolean,
    max_segments: integer(2, 1000),
    emergency_segments: integer(1, 1000),
    cleanup_threshold_percent: number(1, 100),
    emergency_cleanup_threshold_percent: number(1, 100),
  },
  unity_optimization: {
    enabled: boolean,
    gpu_memory_limit_mb: number(0, 1_048_576),
    cpu_quota_percent: number(1, 6400),
    memory_limit_mb: number(16, 1_048_576),
    disk_cleanup_threshold_percent: number(1, 100),
    emergency_cleanup_threshold_percent: number(1, 100),
  },
  monitor,
  single_monitor_fallback: boolean,
  display: nullable(displayName),
  bind_address: ipAddress,
  port: integer(0, 65_535),
  stall_timeout: nullable(number(1, 3600)),
  restart_window: number(1, 7 * 86_400),
  exit_on_failure: boolean,
  kiosk_name: nullable(nonEmptyString),
  sysfs_root: absolutePath,
  api: {
    token: nullable(nonEmptyString),
    token_file: nullable(absolutePath),
    public_read: boolean,
  },
  webrtc: {
    enabled: boolean,
    udp_port: integer(1, 65_535),
    max_viewers: integer(1, 1000),
    ice_servers: iceServers,
  },
  relay_url: nullable(url),
};

/** The checks by dotted key ("live_streaming.max_segments"), derived from CHECKS. */
export const CHECKED_KEYS: readonly string[] = Object.entries(CHECKS).flatMap(([key, check]) =>
  typeof check === 'function' ? [key] : Object.keys(check).map((sub) => `${key}.${sub}`),
);

const NESTED = new Set(
  Object.keys(CHECKS).filter((key) => typeof CHECKS[key as keyof ConfigChecks] !== 'function'),
);

/** Keys that would reach an object's prototype rather than a value: never accepted. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function checkAt(dotted: string): Check {
  const [key, sub] = dotted.split('.') as [string, string | undefined];
  const entry = CHECKS[key as keyof ConfigChecks] as Check | Record<string, Check>;
  return sub === undefined ? (entry as Check) : (entry as Record<string, Check>)[sub]!;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Merge `input` over the defaults, check every value, and collect unknown keys as warnings. */
export function validateConfig(input: unknown): ValidationResult {
  const errors: ConfigIssue[] = [];
  const warnings: string[] = [];
  if (!isPlainObject(input)) {
    errors.push({ key: '(top level)', value: input, allowed: 'a JSON object' });
    return { config: structuredClone(DEFAULT_CONFIG), errors, warnings };
  }

  const merged = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(input)) {
    if (FORBIDDEN_KEYS.has(key)) {
      errors.push({ key, value, allowed: 'absent (a key that is not a setting)' });
      continue;
    }
    if (!Object.hasOwn(merged, key)) {
      warnings.push(`unknown key "${key}" is ignored`);
      continue;
    }
    if (NESTED.has(key)) {
      if (!isPlainObject(value)) {
        errors.push({ key, value, allowed: 'an object' });
        continue;
      }
      const section = merged[key] as Record<string, unknown>;
      for (const [subKey, subValue] of Object.entries(value)) {
        if (FORBIDDEN_KEYS.has(subKey)) {
          errors.push({
            key: `${key}.${subKey}`,
            value: subValue,
            allowed: 'absent (a key that is not a setting)',
          });
        } else if (!Object.hasOwn(section, subKey)) {
          warnings.push(`unknown key "${key}.${subKey}" is ignored`);
        } else {
          section[subKey] = subValue;
        }
      }
    } else {
      merged[key] = value;
    }
  }

  for (const key of CHECKED_KEYS) {
    const value = key
      .split('.')
      .reduce<unknown>((obj, part) => (obj as Record<string, unknown>)[part], merged);
    const allowed = checkAt(key)(value);
    if (allowed !== null) errors.push({ key, value, allowed });
  }

  const config = merged as unknown as Config;
  if (errors.length === 0) crossChecks(config, errors, warnings);
  return { config, errors, warnings };
}

function crossChecks(config: Config, errors: ConfigIssue[], warnings: string[]): void {
  const live = config.live_streaming;
  if (live.emergency_segments > live.max_segments) {
    errors.push({
      key: 'live_streaming.emergency_segments',
      value: live.emergency_segments,
      allowed: `at most live_streaming.max_segments (${live.max_segments})`,
    });
  }
  if (live.emergency_cleanup_threshold_percent < live.cleanup_threshold_percent) {
    errors.push({
      key: 'live_streaming.emergency_cleanup_threshold_percent',
      value: live.emergency_cleanup_threshold_percent,
      allowed: `at least live_streaming.cleanup_threshold_percent (${live.cleanup_threshold_percent})`,
    });
  }
  if (config.keyframe_interval > config.segment_duration) {
    warnings.push(
      `keyframe_interval (${config.keyframe_interval} s) is longer than segment_duration (${config.segment_duration} s): segments can only be cut at keyframes, so they will be ${config.keyframe_interval} s long`,
    );
  }
  if (!live.enabled) {
    warnings.push(
      'live_streaming.enabled is false: desktop-streamer always streams live; the key is accepted for compatibility',
    );
  }
}

/** Wildcard addresses: listening on them needs no particular interface. */
const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', 'localhost']);

/**
 * bind_address against the addresses this host has (os.networkInterfaces(), passed in: pure):
 * an address of another host cannot be listened on (EADDRNOTAVAIL).
 */
export function bindAddressIssue(
  bindAddress: string,
  interfaces: NodeJS.Dict<{ address: string }[]>,
): ConfigIssue | null {
  if (WILDCARD_ADDRESSES.has(bindAddress)) return null;
  const local = Object.values(interfaces).flatMap((list) => (list ?? []).map((entry) => entry.address));
  const bare = bindAddress.replace(/%.*$/, '');
  if (local.some((address) => address.replace(/%.*$/, '') === bare)) return null;
  return {
    key: 'bind_address',
    value: bindAddress,
    allowed: `a wildcard ("0.0.0.0", "::") or an address of this host (${local.join(', ') || 'none found'})`,
  };
}

/** One line per issue: `"fps" = 0: must be an integer from 1 to 60`. */
export function formatIssue(issue: ConfigIssue): string {
  return `"${issue.key}" = ${JSON.stringify(issue.value) ?? String(issue.value)}: must be ${issue.allowed}`;
}
