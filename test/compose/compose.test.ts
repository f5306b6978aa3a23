/**
 * compose.yml without a Docker engine: the compose specification's JSON schema, this
 * project's rules (pinned images, healthchecks, restart policies, named volumes, secrets
 * from files, ports) and the configuration the containers will find through their mounts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import {
  type ComposeDoc,
  isPinnedImage,
  mountedConfigProblems,
  projectProblems,
  publishedPorts,
  schemaProblems,
} from './compose-checks.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const COMPOSE_TEXT = readFileSync(path.join(REPO, 'compose.yml'), 'utf8');
const load = (): ComposeDoc => parse(COMPOSE_TEXT) as ComposeDoc;

describe('compose.yml', () => {
  it('is valid against the compose specification schema', () => {
    assert.deepEqual(schemaProblems(load()), []);
  });

  it('follows the project rules: pinned images, healthchecks, restart, named volumes, no inline secrets', () => {
    assert.deepEqual(projectProblems(load(), REPO), []);
  });

  it('mounts the configuration the containers read (rules, templates, secrets, dashboards)', () => {
    assert.deepEqual(mountedConfigProblems(load(), REPO), []);
  });

  it('runs the monitoring stack only, and says why the supervisor is not in it', () => {
    const doc = load();
    assert.deepEqual(Object.keys(doc.services ?? {}).sort(), ['alertmanager', 'grafana', 'prometheus']);
    assert.match(COMPOSE_TEXT, /systemd/);
    assert.match(COMPOSE_TEXT, /X display/);
  });

  it('publishes Grafana on port 8080 and keeps Prometheus/Alertmanager on loopback', () => {
    const services = load().services ?? {};
    const grafana = publishedPorts(services.grafana ?? {});
    assert.deepEqual(grafana, [{ hostIp: null, published: 8080, target: 3000 }]);
    for (const port of publishedPorts(services.prometheus ?? {})) assert.equal(port.hostIp, '127.0.0.1');
  });
});

describe('compose checks reject what they should', () => {
  it('the schema rejects an unknown service key and a malformed healthcheck duration', () => {
    const doc = load();
    const prometheus = doc.services?.prometheus as Record<string, unknown>;
    prometheus.restart_policy = 'always';
    (prometheus.healthcheck as Record<string, unknown>).interval = 'every 30 seconds';
    const problems = schemaProblems(doc);
    assert.ok(
      problems.some((p) => p.includes('additional properties')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.includes('/healthcheck/interval')),
      problems.join('\n'),
    );
  });

  it('flags unpinned images, missing healthchecks, inline secrets, undeclared volumes, port clashes', () => {
    const doc = load();
    const services = doc.services ?? {};
    Object.assign(services.prometheus ?? {}, { image: 'prom/prometheus:latest', healthcheck: undefined });
    Object.assign(services.grafana ?? {}, {
      environment: { GF_SECURITY_ADMIN_PASSWORD: 'hunter2' },
      ports: ['127.0.0.1:9090:3000'],
    });
    (services.alertmanager?.volumes ?? []).push('scratch:/tmp/scratch');
    const problems = projectProblems(doc, REPO).join('\n');
    assert.match(problems, /prometheus\.image: "prom\/prometheus:latest" is not pinned/);
    assert.match(problems, /prometheus\.healthcheck: missing/);
    assert.match(problems, /GF_SECURITY_ADMIN_PASSWORD: a secret inline/);
    assert.match(problems, /volume "scratch" is not declared/);
    assert.match(problems, /host port 9090 is already published by prometheus/);
  });

  it('flags an Alertmanager secret file that no Docker secret provides', () => {
    const doc = load();
    const alertmanager = doc.services?.alertmanager ?? {};
    alertmanager.secrets = (alertmanager.secrets ?? []).slice(1);
    assert.match(mountedConfigProblems(doc, REPO).join('\n'), /is not a Docker secret/);
  });

  it('flags a bind mount whose source is not in the repository', () => {
    const doc = load();
    const grafana = doc.services?.grafana;
    assert.ok(grafana?.volumes);
    grafana.volumes.push({ type: 'bind', source: './nowhere', target: '/x' });
    assert.match(projectProblems(doc, REPO).join('\n'), /"\.\/nowhere" does not exist/);
  });

  it('tells pinned from floating image references', () => {
    assert.equal(isPinnedImage('prom/prometheus:v2.53.2'), true);
    assert.equal(isPinnedImage('grafana/grafana:12.2.0'), true);
    assert.equal(isPinnedImage(`prom/alertmanager@sha256:${'a'.repeat(64)}`), true);
    assert.equal(isPinnedImage('prom/prometheus'), false);
    assert.equal(isPinnedImage('prom/prometheus:latest'), false);
    assert.equal(isPinnedImage('localhost:5000/prometheus'), false);
  });
});
