import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigMap, Service, ServiceAccount, type IContainer, type IPodSpec, type IVolume } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { configSchema } from '@dosrouter/shared';

/**
 * deploy/kubernetes rendered by the real Kustomize (`kubectl kustomize`, as `kubectl apply -k` renders it), every
 * object validated against the Kubernetes API schemas (kubernetes-models 4.5.1; the Prometheus Operator's for
 * ServiceMonitor), then the properties a safe rollout depends on. Those schemas check types, required fields and
 * formats but not unknown fields, so each property this test relies on is also read back by name.
 */

const repository = fileURLToPath(new URL('../../', import.meta.url));
/** KUBECTL names another kubectl (the manifests render the same with Kustomize 2.0, Debian's kubectl 1.20, and 5.x). */
const KUBECTL = process.env.KUBECTL ?? ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((path) => existsSync(path)) ?? 'kubectl';

interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** The model of every kind the manifests may hold: anything else fails the test. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

function render(directory: string): KubernetesObject[] {
  const text = execFileSync(KUBECTL, ['kustomize', `${repository}deploy/kubernetes/${directory}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(text).map((document) => document.toJS() as KubernetesObject);
}

function find<T = KubernetesObject>(objects: KubernetesObject[], kind: string, name: string): T {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return found as T;
}

type Workload = KubernetesObject & { spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: IPodSpec } } };

function workloads(objects: KubernetesObject[]): Workload[] {
  return objects.filter((object) => object.kind === 'Deployment' || object.kind === 'StatefulSet') as Workload[];
}

const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean => Object.entries(selector).every(([key, value]) => labels[key] === value);

/** Every string value of a parsed YAML document (its comments are not values). */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

/** The gateway's drain (server.shutdownGraceMs) as the shipped config sets it, or its default. */
function shutdownGraceMs(configMap: KubernetesObject): number {
  const text = (configMap as unknown as { data: Record<string, string> }).data['config.yaml']!;
  // ${file:…} references are read at start from the mounted Secret; stand-ins of the right shape here.
  const resolved = text.replace(/\$\{file:([^}]+)\}/g, (_match, path: string) => (path.endsWith('redis-url') ? 'redis://dosrouter-redis:6379' : 'secret-from-file'));
  return configSchema.parse(parse(resolved)).server.shutdownGraceMs;
}

describe.each(['base', 'example'])('deploy/kubernetes/%s rendered by kubectl kustomize', (directory) => {
  const objects = render(directory);

  it('renders only objects that validate against the Kubernetes schemas', () => {
    expect(objects.length).toBeGreaterThanOrEqual(directory === 'base' ? 8 : 12);
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model, `${object.apiVersion} ${object.kind} ${object.metadata.name}`).toBeDefined();
      expect(() => new Model!(object as never).validate(), `${object.kind} ${object.metadata.name}`).not.toThrow();
    }
  });

  it('catches an invalid object (the validation is not a formality)', () => {
    const gateway = structuredClone(find(objects, 'Deployment', 'dosrouter-gateway')) as Workload;
    gateway.spec.template.spec.containers[0]!.ports = [{ containerPort: 'eighty' as never }];
    expect(() => new Deployment(gateway as never).validate()).toThrow();
  });

  it('probes the gateway on /readyz (readiness) and /healthz (liveness), and the prober likewise', () => {
    for (const name of ['dosrouter-gateway', 'dosrouter-prober']) {
      const container = find<Workload>(objects, 'Deployment', name).spec.template.spec.containers[0]!;
      const port = container.ports![0]!;
      expect(container.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: port.name });
      expect(container.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: port.name });
    }
  });

  it('gives the gateway a termination grace period longer than its preStop pause and its drain', () => {
    const configMaps = objects.filter((object) => object.kind === 'ConfigMap');
    expect(configMaps).toHaveLength(1);
    const pod = find<Workload>(objects, 'Deployment', 'dosrouter-gateway').spec.template.spec;
    const preStop = pod.containers[0]!.lifecycle?.preStop?.exec?.command;
    expect(preStop?.[0]).toBe('sleep');
    const pauseMs = Number(preStop?.[1]) * 1000;
    expect(pauseMs).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(pauseMs + shutdownGraceMs(configMaps[0]!));
  });

  it('runs every container as non-root on a read-only root filesystem, writing only to volumes', () => {
    for (const workload of workloads(objects)) {
      const pod = workload.spec.template.spec;
      const claims = new Set(((workload.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] }).volumeClaimTemplates ?? []).map((claim) => claim.metadata.name));
      const volumes = new Map((pod.volumes ?? []).map((volume: IVolume) => [volume.name, volume]));
      expect(pod.securityContext?.runAsNonRoot, workload.metadata.name).toBe(true);
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const container of pod.containers as IContainer[]) {
        expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        expect(container.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
        expect(container.resources?.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
        for (const mount of container.volumeMounts ?? []) {
          if (mount.readOnly) continue;
          // Writable: an emptyDir or the StatefulSet's own claim, never the image.
          expect(volumes.get(mount.name)?.emptyDir !== undefined || claims.has(mount.name), `${workload.metadata.name} ${mount.mountPath}`).toBe(true);
        }
      }
    }
  });

  it('runs the image as the uid its Dockerfile names', () => {
    const user = /^USER (\d+)(?::(\d+))?$/m.exec(readFileSync(`${repository}Dockerfile`, 'utf8'));
    expect(user).not.toBeNull();
    for (const name of ['dosrouter-gateway', 'dosrouter-prober']) {
      expect(find<Workload>(objects, 'Deployment', name).spec.template.spec.securityContext?.runAsUser).toBe(Number(user![1]));
    }
  });

  it('scales the gateway on CPU and lets a disruption take at most one replica', () => {
    const gateway = find<Workload>(objects, 'Deployment', 'dosrouter-gateway');
    // The autoscaler owns the replica count: a count in the Deployment would reset it on every apply.
    expect((gateway.spec as { replicas?: number }).replicas).toBeUndefined();
    const autoscaler = find(objects, 'HorizontalPodAutoscaler', 'dosrouter-gateway') as unknown as InstanceType<typeof HorizontalPodAutoscaler>;
    expect(autoscaler.spec?.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'dosrouter-gateway' });
    expect(autoscaler.spec?.minReplicas).toBeGreaterThanOrEqual(2);
    expect(autoscaler.spec?.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: expect.any(Number) } } }]);
    const budget = find(objects, 'PodDisruptionBudget', 'dosrouter-gateway') as unknown as InstanceType<typeof PodDisruptionBudget>;
    expect(budget.spec?.maxUnavailable).toBe(1);
    expect(selects(budget.spec!.selector!.matchLabels!, gateway.spec.template.metadata.labels)).toBe(true);
    expect(gateway.spec).toMatchObject({ strategy: { rollingUpdate: { maxUnavailable: 0 } } });
  });

  it('mounts the config from the ConfigMap the generator made (a changed config rolls out) and every secret as a file', () => {
    const configMap = objects.find((object) => object.kind === 'ConfigMap')!;
    // The generated name carries a hash of the content: a new config is a new name in the pod templates.
    expect(configMap.metadata.name).toMatch(/^dosrouter-config-[a-z0-9]{10}$/);
    const configText = (configMap as unknown as { data: Record<string, string> }).data['config.yaml']!;
    for (const name of ['dosrouter-gateway', 'dosrouter-prober']) {
      const pod = find<Workload>(objects, 'Deployment', name).spec.template.spec;
      const container = pod.containers[0]!;
      const env = new Map((container.env ?? []).map((variable) => [variable.name, variable]));
      const mountOf = (volumeName: string) => container.volumeMounts?.find((mount) => mount.name === volumeName)?.mountPath;
      const configVolume = pod.volumes?.find((volume) => volume.configMap?.name === configMap.metadata.name);
      expect(configVolume).toBeDefined();
      expect(env.get('DOSROUTER_CONFIG')?.value).toBe(`${mountOf(configVolume!.name)}/config.yaml`);
      // No secret in an environment variable: the admin key and every ${file:…} of the config are files of the Secret.
      expect((container.env ?? []).some((variable) => variable.valueFrom?.secretKeyRef !== undefined)).toBe(false);
      const secretVolume = pod.volumes?.find((volume) => volume.secret?.secretName === 'dosrouter-secrets');
      // Readable by the pod's group (fsGroup) only: 0440.
      expect(secretVolume!.secret!.defaultMode).toBe(0o440);
      expect(pod.securityContext?.fsGroup).toBe(pod.securityContext?.runAsGroup);
      const secretPath = mountOf(secretVolume!.name)!;
      expect(env.get('DOSROUTER_ADMIN_KEY_FILE')?.value).toBe(`${secretPath}/admin-key`);
      const references = stringsOf(parse(configText)).flatMap((value) => Array.from(value.matchAll(/\$\{file:([^}]+)\}/g), (match) => match[1]!));
      expect(references.length).toBeGreaterThan(0);
      for (const path of references) expect(path.startsWith(`${secretPath}/`), path).toBe(true);
    }
  });

  it('points each Service at pods that exist, on a port they name', () => {
    const pods = workloads(objects).map((workload) => workload.spec.template);
    for (const service of objects.filter((object) => object.kind === 'Service') as unknown as InstanceType<typeof Service>[]) {
      const matching = pods.filter((pod) => selects(service.spec!.selector!, pod.metadata.labels));
      expect(matching, service.metadata!.name).toHaveLength(1);
      const ports = matching[0]!.spec.containers.flatMap((container) => container.ports ?? []).map((port) => port.name);
      for (const port of service.spec!.ports!) expect(ports).toContain(port.targetPort);
    }
  });

  if (directory === 'example') {
    it('puts everything in one namespace, and scrapes each Service that a ServiceMonitor selects, with the admin key', () => {
      expect(new Set(objects.map((object) => object.metadata.namespace))).toEqual(new Set(['dosrouter']));
      const services = objects.filter((object) => object.kind === 'Service') as unknown as InstanceType<typeof Service>[];
      const monitors = objects.filter((object) => object.kind === 'ServiceMonitor') as unknown as InstanceType<typeof ServiceMonitor>[];
      expect(monitors.map((monitor) => monitor.metadata?.name).sort()).toEqual(['dosrouter-gateway', 'dosrouter-prober']);
      for (const monitor of monitors) {
        const service = services.find((candidate) => selects(monitor.spec.selector.matchLabels!, candidate.metadata!.labels ?? {}));
        expect(service, monitor.metadata?.name).toBeDefined();
        const endpoint = monitor.spec.endpoints![0]!;
        expect(service!.spec!.ports!.map((port) => port.name)).toContain(endpoint.port);
        expect(endpoint).toMatchObject({ path: '/metrics', authorization: { type: 'Bearer', credentials: { name: 'dosrouter-secrets', key: 'admin-key' } } });
      }
      expect(find<Workload>(objects, 'Deployment', 'dosrouter-gateway').spec.template.spec.containers[0]!.image).toBe('registry.example.com/dosrouter:0.1.0');
    });
  }
});
