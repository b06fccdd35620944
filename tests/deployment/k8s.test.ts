// deploy/k8s: every manifest validates against the Kubernetes schemas (kubernetes-models) and has no field the API
// does not know (TypeScript's excess property checks on the models' types), and together they meet the deployment
// requirements: probes on the app's real routes, limits, graceful termination, configuration only from
// src/config.ts's variables, secrets only from the Secret.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import {
  appRoutes,
  configKeys,
  generatedSecret,
  quantity,
  readYaml,
  readYamlDocuments,
  repoPath,
  SECRET_KEYS,
} from './support.js';

const K8S_DIR = repoPath('deploy/k8s');
const SECRET_TEMPLATE = 'secret.example.yaml';
/** PostgreSQL's default max_connections. */
const MAX_CONNECTIONS = 100;

interface Model {
  validate(): void;
}
/** apiVersion/kind → the kubernetes-models class and the module and interface that type it. */
const MODELS: Record<string, { create: (doc: any) => Model; module: string; type: string }> = {
  'apps/v1/Deployment': { create: (d) => new Deployment(d), module: 'kubernetes-models/apps/v1', type: 'IDeployment' },
  'v1/Service': { create: (d) => new Service(d), module: 'kubernetes-models/v1', type: 'IService' },
  'v1/ConfigMap': { create: (d) => new ConfigMap(d), module: 'kubernetes-models/v1', type: 'IConfigMap' },
  'v1/Secret': { create: (d) => new Secret(d), module: 'kubernetes-models/v1', type: 'ISecret' },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    create: (d) => new HorizontalPodAutoscaler(d),
    module: 'kubernetes-models/autoscaling/v2',
    type: 'IHorizontalPodAutoscaler',
  },
  'policy/v1/PodDisruptionBudget': {
    create: (d) => new PodDisruptionBudget(d),
    module: 'kubernetes-models/policy/v1',
    type: 'IPodDisruptionBudget',
  },
};
const modelKey = (doc: any) => `${doc?.apiVersion}/${doc?.kind}`;

interface Manifest {
  file: string;
  doc: any;
}

const manifestFiles = () =>
  readdirSync(K8S_DIR)
    .filter((name) => /\.ya?ml$/.test(name) && name !== 'kustomization.yaml')
    .sort();

function loadManifests(): Manifest[] {
  return manifestFiles().flatMap((file) => readYamlDocuments(path.join(K8S_DIR, file)).map((doc) => ({ file, doc })));
}

const only = (manifests: Manifest[], kind: string) => {
  const found = manifests.filter((m) => m.doc.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0]!.doc;
};

/** Labels a selector requires are all on the pods. */
const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Seconds the preStop hook sleeps (exec `sleep N`, or the `sleep` action). */
function preStopSeconds(container: any): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return Number(preStop.sleep.seconds);
  const command: string[] = preStop?.exec?.command ?? [];
  const i = command.indexOf('sleep');
  return i >= 0 ? Number(command[i + 1]) : 0;
}

/** Every way the manifests fall short of the deployment requirements; empty when they meet them. */
function k8sProblems(manifests: Manifest[], keys: Set<string>, routes: Set<string>): string[] {
  const problems: string[] = [];
  const fail = (message: string) => problems.push(message);
  const deployment = only(manifests, 'Deployment');
  const configMaps = manifests.filter((m) => m.doc.kind === 'ConfigMap').map((m) => m.doc);
  const secret = only(manifests, 'Secret');
  const service = only(manifests, 'Service');
  const hpa = only(manifests, 'HorizontalPodAutoscaler');
  const pdb = only(manifests, 'PodDisruptionBudget');

  const config: Record<string, string> = Object.assign({}, ...configMaps.map((cm) => cm.data ?? {}));
  const secretValues: Record<string, string> = { ...secret.data, ...secret.stringData };
  const pod = deployment.spec.template;
  const labels: Record<string, string> = pod.metadata?.labels ?? {};
  const containers: any[] = pod.spec.containers;
  if (containers.length !== 1) fail(`Deployment: one container expected, found ${containers.length}`);
  const container = containers[0];
  const port = Number(config.PORT ?? 4000);

  // Pods and selectors
  if (!(deployment.spec.replicas >= 2)) fail('Deployment: replicas must be at least 2');
  if (!selects(deployment.spec.selector?.matchLabels, labels)) fail('Deployment: selector does not match its pods');
  const httpPort = (container.ports ?? []).find((p: any) => p.containerPort === port);
  if (!httpPort) fail(`Deployment: no container port ${port} (PORT)`);
  const isAppPort = (p: unknown) => p === port || (httpPort?.name !== undefined && p === httpPort.name);

  // Probes on routes the app serves
  const expected = { livenessProbe: '/healthz', readinessProbe: '/readyz', startupProbe: '/healthz' };
  for (const [probe, route] of Object.entries(expected)) {
    const httpGet = container[probe]?.httpGet;
    if (!httpGet) fail(`Deployment: ${probe} missing or not an httpGet`);
    else {
      if (httpGet.path !== route) fail(`Deployment: ${probe} checks ${httpGet.path}, expected ${route}`);
      if (!routes.has(httpGet.path)) fail(`Deployment: ${probe} path ${httpGet.path} is not a route of the app`);
      if (!isAppPort(httpGet.port)) fail(`Deployment: ${probe} port ${httpGet.port} is not the app's port`);
    }
  }

  // Resources
  for (const kind of ['requests', 'limits'] as const) {
    for (const resource of ['cpu', 'memory']) {
      if (container.resources?.[kind]?.[resource] === undefined) fail(`Deployment: ${kind}.${resource} not set`);
    }
  }
  for (const resource of ['cpu', 'memory']) {
    const request = container.resources?.requests?.[resource];
    const limit = container.resources?.limits?.[resource];
    if (request !== undefined && limit !== undefined && quantity(request) > quantity(limit)) {
      fail(`Deployment: ${resource} request above its limit`);
    }
  }

  // Security
  const podSecurity = pod.spec.securityContext ?? {};
  const security = container.securityContext ?? {};
  if (!(security.runAsNonRoot ?? podSecurity.runAsNonRoot)) fail('Deployment: runAsNonRoot not set');
  if ((security.runAsUser ?? podSecurity.runAsUser) === 0) fail('Deployment: runs as root (runAsUser 0)');
  if (security.readOnlyRootFilesystem !== true) fail('Deployment: readOnlyRootFilesystem not set');
  if (security.allowPrivilegeEscalation !== false) fail('Deployment: allowPrivilegeEscalation not false');
  if (!security.capabilities?.drop?.includes('ALL')) fail('Deployment: capabilities not dropped');
  const volumes = new Map<string, any>((pod.spec.volumes ?? []).map((v: any) => [v.name, v]));
  for (const mount of container.volumeMounts ?? []) {
    if (!volumes.get(mount.name)?.emptyDir) fail(`Deployment: mount ${mount.mountPath} is not an emptyDir`);
  }
  // tsx writes its compile cache to the temporary directory.
  if (!(container.volumeMounts ?? []).some((m: any) => m.mountPath === '/tmp')) {
    fail('Deployment: /tmp is not writable (tsx caches compiled files there)');
  }

  // Graceful termination: the endpoint drains during preStop, then SIGTERM gets SHUTDOWN_TIMEOUT_MS.
  const grace = (pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
  const preStop = preStopSeconds(container) * 1000;
  const shutdown = Number(config.SHUTDOWN_TIMEOUT_MS ?? 10_000);
  if (!preStop) fail('Deployment: no preStop sleep for endpoints to drain');
  if (grace <= preStop + shutdown) {
    fail(`Deployment: terminationGracePeriodSeconds ${grace / 1000} s <= preStop + SHUTDOWN_TIMEOUT_MS`);
  }

  // Configuration: only src/config.ts's variables; secrets only from the Secret.
  for (const key of Object.keys(config)) {
    if (!keys.has(key)) fail(`ConfigMap: ${key} is not a variable of src/config.ts`);
    if (SECRET_KEYS.has(key)) fail(`ConfigMap: ${key} is a secret; it belongs in the Secret`);
  }
  for (const key of Object.keys(secretValues)) {
    if (!keys.has(key)) fail(`Secret: ${key} is not a variable of src/config.ts`);
  }
  const provided = new Set<string>();
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = configMaps.find((c) => c.metadata.name === from.configMapRef.name);
      if (!cm) fail(`Deployment: envFrom ConfigMap ${from.configMapRef.name} is not in the manifests`);
      else Object.keys(cm.data ?? {}).forEach((key) => provided.add(key));
    }
    if (from.secretRef) {
      if (from.secretRef.name !== secret.metadata.name) fail(`Deployment: envFrom Secret ${from.secretRef.name}?`);
      else Object.keys(secretValues).forEach((key) => provided.add(key));
    }
  }
  for (const env of container.env ?? []) {
    provided.add(env.name);
    if (!keys.has(env.name)) fail(`Deployment: env ${env.name} is not a variable of src/config.ts`);
    const ref = env.valueFrom?.secretKeyRef;
    if (SECRET_KEYS.has(env.name) && !ref) fail(`Deployment: ${env.name} must come from a secretKeyRef`);
    if (ref && (ref.name !== secret.metadata.name || !(ref.key in secretValues))) {
      fail(`Deployment: ${env.name} refers to ${ref.name}/${ref.key}, which the Secret template lacks`);
    }
  }
  for (const required of ['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'PAYMENT_WEBHOOK_SECRET']) {
    if (!provided.has(required)) fail(`Deployment: ${required} is not provided`);
  }

  // Metrics scraping on the main port
  const annotations = pod.metadata?.annotations ?? {};
  if (annotations['prometheus.io/scrape'] !== 'true') fail('Deployment: prometheus.io/scrape is not "true"');
  if (Number(annotations['prometheus.io/port']) !== port) fail('Deployment: prometheus.io/port is not the app port');
  if (annotations['prometheus.io/path'] !== '/metrics') fail('Deployment: prometheus.io/path is not /metrics');

  // Service
  if (!selects(service.spec.selector, labels)) fail('Service: selector does not match the pods');
  for (const p of service.spec.ports ?? []) {
    if (!isAppPort(p.targetPort)) fail(`Service: targetPort ${p.targetPort} is not the app's port`);
  }

  // HorizontalPodAutoscaler
  const target = hpa.spec.scaleTargetRef;
  if (target.kind !== 'Deployment' || target.apiVersion !== 'apps/v1' || target.name !== deployment.metadata.name) {
    fail(`HPA: scales ${target.apiVersion}/${target.kind} ${target.name}, not the Deployment`);
  }
  if (!(hpa.spec.minReplicas >= 2)) fail('HPA: minReplicas must be at least 2');
  if (!(hpa.spec.maxReplicas >= hpa.spec.minReplicas)) fail('HPA: maxReplicas below minReplicas');
  const pool = Number(config.DATABASE_POOL_SIZE ?? 10) * Number(config.WORKERS ?? 1);
  if (hpa.spec.maxReplicas * (pool + 1) >= MAX_CONNECTIONS) {
    fail(`HPA: ${hpa.spec.maxReplicas} pods x ${pool + 1} connections would exhaust PostgreSQL's max_connections`);
  }

  // PodDisruptionBudget
  if (!selects(pdb.spec.selector?.matchLabels, labels)) fail('PDB: selector does not match the pods');
  if (pdb.spec.minAvailable !== undefined && !(Number(pdb.spec.minAvailable) < hpa.spec.minReplicas)) {
    fail('PDB: minAvailable must stay below minReplicas, or no pod can ever be evicted');
  }
  return problems;
}

const parsedFiles = new Map<string, ts.SourceFile | undefined>();

/** TypeScript errors of the manifests typed as kubernetes-models' interfaces: unknown fields, wrong types. */
function typeErrors(manifests: Manifest[]): string[] {
  const imports = new Map<string, Set<string>>();
  const lines = manifests.map(({ doc }, i) => {
    const model = MODELS[modelKey(doc)]!;
    imports.set(model.module, (imports.get(model.module) ?? new Set()).add(model.type));
    return `export const m${i}: ${model.type} = ${JSON.stringify(doc)};`;
  });
  const source = [
    ...[...imports].map(([module, types]) => `import type { ${[...types].join(', ')} } from '${module}';`),
    ...lines,
  ].join('\n');
  const fileName = path.join(K8S_DIR, '__manifests__.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) => {
    if (name === fileName) return ts.createSourceFile(name, source, version);
    // The standard library and the models' declarations parse once for every call.
    if (!parsedFiles.has(name)) parsedFiles.set(name, getSourceFile(name, version, ...rest));
    return parsedFiles.get(name);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0]!);
}

const manifests = loadManifests();
const keys = configKeys();
const routes = appRoutes();

describe('deploy/k8s', () => {
  test('holds a Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget, ConfigMap and Secret', () => {
    expect(manifests.map((m) => m.doc.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'Secret',
      'Service',
    ]);
  });

  test.each(manifests.map((m) => [`${m.file} ${m.doc.kind}`, m] as const))('%s passes schema validation', (_, m) => {
    const model = MODELS[modelKey(m.doc)];
    expect(model, `no model for ${modelKey(m.doc)}`).toBeDefined();
    expect(() => model!.create(m.doc).validate()).not.toThrow();
  });

  test('schema validation rejects a malformed manifest', () => {
    const broken = structuredClone(only(manifests, 'Deployment'));
    broken.spec.replicas = 'two';
    delete broken.spec.template.spec.containers;
    expect(() => new Deployment(broken).validate()).toThrow(/replicas|containers/);
  });

  test('no manifest has a field the Kubernetes API does not define', () => {
    expect(typeErrors(manifests)).toEqual([]);
  });

  test('a misspelt field is caught', () => {
    const typo = structuredClone(manifests);
    const container = typo.find((m) => m.doc.kind === 'Deployment')!.doc.spec.template.spec.containers[0];
    container.livenesProbe = container.livenessProbe;
    delete container.livenessProbe;
    const errors = typeErrors(typo);
    expect(errors.join('\n')).toMatch(/livenesProbe/);
    expect(k8sProblems(typo, keys, routes)).toContain('Deployment: livenessProbe missing or not an httpGet');
  });

  test('kustomization.yaml applies every manifest but the Secret template', () => {
    const kustomization = readYaml(path.join(K8S_DIR, 'kustomization.yaml'));
    expect(kustomization.kind).toBe('Kustomization');
    expect([...kustomization.resources].sort()).toEqual(manifestFiles().filter((f) => f !== SECRET_TEMPLATE));
  });

  test('the config keys of src/config.ts are found', () => {
    for (const key of ['PORT', 'DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'SHUTDOWN_TIMEOUT_MS']) {
      expect(keys).toContain(key);
    }
    expect(keys.size).toBeGreaterThan(30);
    expect(routes).toContain('/healthz');
    expect(routes).toContain('/readyz');
  });

  test('meet the deployment requirements', () => {
    expect(k8sProblems(manifests, keys, routes)).toEqual([]);
  });

  // Each requirement check fails on a manifest that breaks it.
  const deploymentOf = (m: Manifest[]) => m.find((x) => x.doc.kind === 'Deployment')!.doc;
  const containerOf = (m: Manifest[]) => deploymentOf(m).spec.template.spec.containers[0];
  const breakages: [string, (m: Manifest[]) => void, RegExp][] = [
    ['liveness on a missing route', (m) => (containerOf(m).livenessProbe.httpGet.path = '/health'), /livenessProbe/],
    ['readiness on liveness', (m) => (containerOf(m).readinessProbe.httpGet.path = '/healthz'), /readinessProbe/],
    ['no memory limit', (m) => delete containerOf(m).resources.limits.memory, /limits\.memory/],
    ['request above limit', (m) => (containerOf(m).resources.requests.cpu = '4'), /cpu request above/],
    [
      'writable root filesystem',
      (m) => (containerOf(m).securityContext.readOnlyRootFilesystem = false),
      /readOnlyRootFilesystem/,
    ],
    ['runs as root', (m) => (deploymentOf(m).spec.template.spec.securityContext.runAsUser = 0), /root/],
    ['short grace period', (m) => (deploymentOf(m).spec.template.spec.terminationGracePeriodSeconds = 10), /grace/i],
    [
      'unknown variable',
      (m) => containerOf(m).env.push({ name: 'JWT_SECRETS', value: 'x' }),
      /JWT_SECRETS is not a variable/,
    ],
    [
      'inline secret',
      (m) => (containerOf(m).env.find((e: any) => e.name === 'JWT_SECRET').valueFrom = undefined),
      /JWT_SECRET must come from a secretKeyRef/,
    ],
    [
      'secret in the ConfigMap',
      (m) => (m.find((x) => x.doc.kind === 'ConfigMap')!.doc.data.SMTP_URL = 'smtp://u:p@h'),
      /SMTP_URL is a secret/,
    ],
    [
      'Service selecting other pods',
      (m) => (m.find((x) => x.doc.kind === 'Service')!.doc.spec.selector['app.kubernetes.io/name'] = 'other'),
      /Service: selector/,
    ],
    [
      'HPA on another Deployment',
      (m) => (m.find((x) => x.doc.kind === 'HorizontalPodAutoscaler')!.doc.spec.scaleTargetRef.name = 'agora-api'),
      /HPA: scales/,
    ],
    [
      'PDB selecting other pods',
      (m) => (m.find((x) => x.doc.kind === 'PodDisruptionBudget')!.doc.spec.selector.matchLabels = { app: 'x' }),
      /PDB: selector/,
    ],
    [
      'PDB blocking every eviction',
      (m) => (m.find((x) => x.doc.kind === 'PodDisruptionBudget')!.doc.spec.minAvailable = 2),
      /minAvailable/,
    ],
  ];
  test.each(breakages)('catches: %s', (_, breakIt, expected) => {
    const broken = structuredClone(manifests);
    breakIt(broken);
    expect(k8sProblems(broken, keys, routes).join('\n')).toMatch(expected);
  });

  test('production accepts the ConfigMap with real secrets and refuses the template placeholders', () => {
    const config = only(manifests, 'ConfigMap').data;
    const template = only(manifests, 'Secret').stringData;
    const real = {
      ...config,
      DATABASE_URL: 'postgresql://agora:pw@postgres:5432/agora',
      REDIS_URL: 'redis://redis:6379',
      JWT_SECRET: generatedSecret(),
      PAYMENT_WEBHOOK_SECRET: generatedSecret(),
    };
    const loaded = loadConfig(real);
    expect(loaded.NODE_ENV).toBe('production');
    expect(loaded.SEED_DEMO_CATALOG).toBe(false);
    expect(() => loadConfig({ ...config, ...template })).toThrow(ConfigError);
    expect(() => loadConfig({ ...config, ...template })).toThrow(/JWT_SECRET: looks like a placeholder/);
    expect(() => loadConfig({ ...config, ...template })).toThrow(/PAYMENT_WEBHOOK_SECRET: looks like a placeholder/);
  });
});
