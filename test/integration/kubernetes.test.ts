import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { SimulatedDcgmExporter } from '../../demo/sim/dcgm.js';
import { uuidOf } from '../../demo/sim/gpu-identity.js';
import { seededRandom } from '../../demo/sim/random.js';
import { SimulatedRuntime } from '../../demo/sim/runtime.js';
import { FakeKubeApi, type PodSpec } from '../fake/kube-api.js';
import { FakeKubelet } from '../fake/kubelet.js';
import { agentsKilledAfterEach, FAKE_BIN, MAIN, tempDir } from '../helpers/agent-process.js';
import { makeServerCertificates } from '../helpers/certs.js';
import { ROOT } from '../helpers/fixtures.js';

/**
 * The agent as the DaemonSet runs it, on a node simulated on loopback: an API server holding
 * the node's pods, two runtime pods and a dcgm-exporter pod each on their own address
 * (127.0.0.2-4 stand for pod IPs), and the kubelet's pod-resources socket.
 */
const TOKEN = 'planted-sa-token-c0ffee-1234';
const NODE = 'gpu-node-1';
/** The API server, over TLS with a CA of the test's own (beforeAll). */
let api: FakeKubeApi;
const certs = tempDir();
const kubelet = new FakeKubelet(join(tempDir(), 'kubelet.sock'));
const vllm = new SimulatedRuntime({
  kind: 'vllm',
  model: 'meta-llama/Llama-3.1-8B-Instruct',
  random: seededRandom(1),
});
const sglang = new SimulatedRuntime({
  kind: 'sglang',
  model: 'Qwen/Qwen2.5-7B-Instruct',
  random: seededRandom(2),
});
const dcgm = new SimulatedDcgmExporter({
  gpus: 2,
  hostname: NODE,
  activity: () => ({ utilization: 0.5, powerWatts: 300 }),
  lost: () => new Set(),
});
let apiUrl = '';
const pods: PodSpec[] = [];

const portOf = (url: string) => Number(new URL(url).port);
const MIG_DEVICE = 'MIG-d5a46a2e-1d77-575d-99e3-1f96c8555a2e';
const NVSMI = { FAKE_NVSMI_GPUS: '2', FAKE_NVSMI_MIG: `1:1g.10gb:${MIG_DEVICE}` };
const run = promisify(execFile);

beforeAll(async () => {
  if (!makeServerCertificates(certs)) return;
  api = new FakeKubeApi(TOKEN, {
    cert: readFileSync(join(certs, 'server.pem'), 'utf8'),
    key: readFileSync(join(certs, 'server.key'), 'utf8'),
  });
  apiUrl = await api.listen();
  await kubelet.listen();
  const [vllmUrl, sglangUrl, dcgmUrl] = await Promise.all([
    vllm.listen(0, '127.0.0.2'),
    sglang.listen(0, '127.0.0.3'),
    dcgm.listen(0, '127.0.0.4'),
  ]);
  pods.push(
    {
      name: 'llama-8b-0',
      namespace: 'serving',
      uid: 'a1a1a1a1-0000-4000-8000-000000000001',
      nodeName: NODE,
      ip: '127.0.0.2',
      containers: [
        {
          name: 'vllm',
          image: 'vllm/vllm-openai:v0.11.0',
          ports: [{ containerPort: portOf(vllmUrl), name: 'http' }],
        },
      ],
    },
    {
      name: 'qwen-7b-5d9f8',
      namespace: 'serving',
      uid: 'a1a1a1a1-0000-4000-8000-000000000002',
      nodeName: NODE,
      ip: '127.0.0.3',
      // Declares no port: the annotation says where it listens.
      containers: [{ name: 'sglang', image: 'lmsysorg/sglang:v0.5.4' }],
      annotations: { 'inferwatch.io/ports': String(portOf(sglangUrl)) },
    },
    {
      name: 'nvidia-dcgm-exporter-x7k2p',
      namespace: 'gpu-operator',
      uid: 'a1a1a1a1-0000-4000-8000-000000000003',
      nodeName: NODE,
      ip: '127.0.0.4',
      labels: { app: 'nvidia-dcgm-exporter' },
      containers: [
        {
          name: 'nvidia-dcgm-exporter',
          image: 'nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5-3.4.0-ubuntu22.04',
          ports: [{ containerPort: portOf(dcgmUrl), name: 'metrics' }],
        },
      ],
    },
    {
      // The same runtime on another node: not this agent's.
      name: 'llama-8b-1',
      namespace: 'serving',
      uid: 'a1a1a1a1-0000-4000-8000-000000000004',
      nodeName: 'gpu-node-2',
      ip: '127.0.0.2',
      containers: [
        {
          name: 'vllm',
          image: 'vllm/vllm-openai:v0.11.0',
          ports: [{ containerPort: portOf(vllmUrl) }],
        },
      ],
    },
  );
  for (const pod of pods) api.put(pod);
  kubelet.allocations = [
    {
      namespace: 'serving',
      pod: 'llama-8b-0',
      container: 'vllm',
      resource: 'nvidia.com/gpu',
      devices: [uuidOf(0)],
    },
    {
      namespace: 'serving',
      pod: 'qwen-7b-5d9f8',
      container: 'sglang',
      resource: 'nvidia.com/gpu',
      devices: [uuidOf(1)],
    },
    // A MIG device of GPU 1 (nvidia-smi -L lists it under that GPU), held by a third pod.
    {
      namespace: 'batch',
      pod: 'embedder',
      container: 'tei',
      resource: 'nvidia.com/mig-1g.10gb',
      devices: [MIG_DEVICE],
    },
  ];
});
afterAll(() =>
  Promise.all([api?.close(), kubelet.close(), vllm.close(), sglang.close(), dcgm.close()]),
);

const agent = agentsKilledAfterEach();

/** The probe, every 5 s rather than every minute, so a test sees it run. */
const PROBE = { interval_s: 5, jitter_ratio: 0, timeout_ms: 4000, stall_ms: 2000 };

/** A config naming the API server, the node and the files explicitly, as outside a pod. */
function config(dir: string, socket: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  return stringify({
    collectors: {
      nvidia_smi: { interval_ms: 200, processes: { interval_ms: 1000 } },
      kernel_events: { enabled: false },
      kubernetes: {
        enabled: true,
        api_url: apiUrl,
        node_name: NODE,
        token_file: join(dir, 'token'),
        ca_file: join(certs, 'ca.pem'),
        pod_resources: { enabled: true, socket, interval_s: 1 },
      },
    },
    probe: PROBE,
  });
}

type Doc = { kind: string; metadata: { name: string } } & Record<string, unknown>;

/**
 * The agent as the DaemonSet of deploy/kubernetes/inferwatch.yaml runs it: its ConfigMap's
 * config, found in the cluster by itself (KUBERNETES_SERVICE_HOST and the token), its node from
 * NODE_NAME. Only what the pod mounts points at this test's files instead (the token and CA,
 * the kubelet's socket, the host's /proc), and the probe runs more often.
 */
function asTheDaemonSetRunsIt(dir: string): { config: string; env: Record<string, string> } {
  const docs = parseAllDocuments(
    readFileSync(join(ROOT, 'deploy/kubernetes/inferwatch.yaml'), 'utf8'),
  ).map((d) => d.toJS() as Doc);
  const map = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'inferwatch-config');
  const ds = docs.find((d) => d.kind === 'DaemonSet') as unknown as {
    spec: {
      template: { spec: { containers: { env: { name: string; valueFrom?: unknown }[] }[] } };
    };
  };
  const env = ds.spec.template.spec.containers[0]?.env ?? [];
  expect(env.find((e) => e.name === 'NODE_NAME')?.valueFrom).toEqual({
    fieldRef: { fieldPath: 'spec.nodeName' },
  });
  const config = parse((map?.['data'] as Record<string, string>)['config.yaml'] ?? '') as {
    collectors: Record<string, Record<string, unknown>>;
    probe?: unknown;
  };
  config.collectors['host'] = { ...config.collectors['host'], proc_path: '/proc' };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  config.collectors['kubernetes'] = {
    token_file: join(dir, 'token'),
    ca_file: join(certs, 'ca.pem'),
    pod_resources: { socket: kubelet.socket, interval_s: 1 },
  };
  config.probe = PROBE;
  const { port } = new URL(apiUrl);
  return {
    config: stringify(config),
    env: {
      ...NVSMI,
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: port,
      NODE_NAME: NODE,
    },
  };
}

async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the agent in a cluster', () => {
  it("reads this node's runtime pods at their addresses, labels them with their pods, probes them, reads dcgm-exporter's pod and maps GPUs to pods", async (ctx) => {
    if (!apiUrl) return ctx.skip();
    const a = await agent(asTheDaemonSetRunsIt(tempDir()));
    let text = '';
    const read = async () => (text = await (await a.get('/metrics')).text());
    const vllmTarget = `serving/llama-8b-0:${portOf(vllm.url)}`;
    const sglangTarget = `serving/qwen-7b-5d9f8:${portOf(sglang.url)}`;
    await until(async () => {
      await read();
      return (
        text.includes(
          `inferwatch_llm_runtime_up{runtime="vllm",target="${vllmTarget}",namespace="serving",pod="llama-8b-0",container="vllm"} 1`,
        ) &&
        text.includes(
          `inferwatch_llm_runtime_up{runtime="sglang",target="${sglangTarget}",namespace="serving",pod="qwen-7b-5d9f8",container="sglang"} 1`,
        ) &&
        /inferwatch_probe_success\{target="serving\/llama-8b-0:\d+",model="[^"]+",probe="[^"]+",namespace="serving",pod="llama-8b-0",container="vllm"\} 1/.test(
          text,
        ) &&
        /inferwatch_probe_success\{[^}]*pod="qwen-7b-5d9f8"[^}]*\} 1/.test(text) &&
        text.includes('inferwatch_collector_success{collector="dcgm"} 1') &&
        text.includes(`inferwatch_gpu_pod_info{gpu="0",uuid="${uuidOf(0)}"`)
      );
    });
    // Every runtime series of a pod names it, the model's served name included.
    const vllmSeries = text
      .split('\n')
      .filter((l) => l.includes(`target="${vllmTarget}"`) && l.startsWith('inferwatch_llm_'));
    expect(vllmSeries.length).toBeGreaterThan(10);
    for (const line of vllmSeries)
      expect(line).toContain('namespace="serving",pod="llama-8b-0",container="vllm"');
    expect(text).toContain('model="meta-llama/Llama-3.1-8B-Instruct"');
    // GPU 0 is the vLLM pod's, GPU 1 the SGLang pod's.
    expect(text).toMatch(
      new RegExp(
        `inferwatch_gpu_pod_info\\{gpu="0",uuid="${uuidOf(0)}",gpu_model="[^"]*",device="${uuidOf(0)}",resource="nvidia.com/gpu",namespace="serving",pod="llama-8b-0",container="vllm"\\} 1`,
      ),
    );
    expect(text).toMatch(
      new RegExp(
        `inferwatch_gpu_pod_info\\{gpu="1",[^}]*pod="qwen-7b-5d9f8",container="sglang"\\} 1`,
      ),
    );
    // A MIG device is placed on the GPU it is carved from.
    expect(text).toMatch(
      new RegExp(
        `inferwatch_gpu_pod_info\\{gpu="1",uuid="${uuidOf(1)}",gpu_model="[^"]*",device="${MIG_DEVICE}",resource="nvidia.com/mig-1g.10gb",namespace="batch",pod="embedder",container="tei"\\} 1`,
      ),
    );
    // dcgm-exporter was read at its pod's address, not on loopback.
    expect(text).toMatch(/inferwatch_gpu_sm_active_ratio\{gpu="0"/);
    expect(text).toContain('inferwatch_kubernetes_watch_synced 1');
    expect(text).toContain('inferwatch_kubernetes_watch_failures_total 0');
    expect(text).toContain('inferwatch_kubernetes_pods_dropped 0');
    expect(text).toContain('inferwatch_kubernetes_pods{phase="Running"} 3');
    // Not the other node's pod, not the exporter as a runtime.
    expect(text).not.toContain('llama-8b-1');
    expect(text).not.toMatch(/inferwatch_llm_runtime_up\{[^}]*nvidia-dcgm-exporter/);
    // Only this node's pods were asked for, with the token.
    expect(api.requests.every((r) => r.includes('fieldSelector=spec.nodeName%3Dgpu-node-1'))).toBe(
      true,
    );

    // A pod deleted: its runtime and its series go at once.
    api.remove('a1a1a1a1-0000-4000-8000-000000000002');
    await until(async () => !/inferwatch_llm_runtime_up\{[^}]*qwen-7b/.test(await read()), 10_000);
    expect(text).toContain(`target="${vllmTarget}"`);
    // The pod comes back on another address: found again there.
    api.put(pods[1] as PodSpec);
    await until(
      async () => /inferwatch_llm_runtime_up\{[^}]*pod="qwen-7b-5d9f8"[^}]*\} 1/.test(await read()),
      10_000,
    );

    // The service account token never reaches logs, metrics or pages.
    const status = await (await a.get('/')).text();
    expect(JSON.stringify(a.logs) + text + status).not.toContain('planted-sa-token');
  }, 60_000);

  it('once, as doctor and a person in the pod run it, waits for the pods and reads the runtimes among them', async (ctx) => {
    if (!apiUrl) return ctx.skip();
    const dir = tempDir();
    writeFileSync(join(dir, 'config.yaml'), config(dir, kubelet.socket));
    const { stdout } = await run(
      process.execPath,
      [MAIN, 'once', '--config', join(dir, 'config.yaml')],
      {
        env: { PATH: `${FAKE_BIN}:/usr/bin:/bin`, ...NVSMI },
        timeout: 30_000,
      },
    );
    expect(stdout).toMatch(
      /inferwatch_llm_runtime_up\{runtime="vllm",target="serving\/llama-8b-0:\d+",namespace="serving",pod="llama-8b-0",container="vllm"\} 1/,
    );
    expect(stdout).toContain('inferwatch_kubernetes_watch_synced 1');
  }, 60_000);
});
