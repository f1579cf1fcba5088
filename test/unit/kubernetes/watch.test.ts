import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeApi } from '../../../agent/collectors/kubernetes/api.js';
import { PodWatch } from '../../../agent/collectors/kubernetes/watch.js';
import { systemTimers } from '../../../agent/core/clock.js';
import type { PodView } from '../../../agent/shared/pod.js';
import { FakeKubeApi, type PodSpec } from '../../fake/kube-api.js';

const TOKEN = 'planted-token-do-not-log-7f3a';

const spec = (name: string, uid: string, nodeName = 'gpu-1'): PodSpec => ({
  name,
  namespace: 'serving',
  uid,
  nodeName,
  ip: '10.1.2.3',
  containers: [
    { name: 'vllm', image: 'vllm/vllm-openai:v0.11.0', ports: [{ containerPort: 8000 }] },
  ],
});

let server: FakeKubeApi | undefined;
let watch: PodWatch | undefined;
afterEach(async () => {
  await watch?.stop();
  await server?.close();
  watch = server = undefined;
});

async function start(options: { maxPods?: number; token?: string } = {}) {
  server = new FakeKubeApi(TOKEN);
  const url = await server.listen();
  const dir = mkdtempSync(join(tmpdir(), 'inferwatch-kube-'));
  writeFileSync(join(dir, 'token'), `${options.token ?? TOKEN}\n`);
  let pods: ReadonlyMap<string, PodView> = new Map();
  const failures: string[] = [];
  watch = new PodWatch(
    new KubeApi({
      url,
      tokenFile: join(dir, 'token'),
      caFile: undefined,
      timeoutMs: 2000,
      maxListBytes: 1024 * 1024,
      maxEventBytes: 64 * 1024,
    }),
    {
      nodeName: 'gpu-1',
      maxPods: options.maxPods ?? 10,
      watchSeconds: 300,
      backoff: { initialMs: 20, maxMs: 100 },
    },
    systemTimers,
    () => performance.now(),
    (p) => (pods = p),
    (_reason, message) => failures.push(message),
    () => undefined,
  );
  return { server, dir, pods: () => pods, failures, watch };
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const names = (pods: ReadonlyMap<string, PodView>) => [...pods.values()].map((p) => p.name).sort();

describe('the pod watch', () => {
  it("lists this node's pods by field selector, then follows them as they come, change and go", async () => {
    const t = await start();
    t.server.put(spec('a', 'uid-a'));
    t.server.put(spec('elsewhere', 'uid-x', 'gpu-2'));
    t.watch.start();
    await until(() => t.pods().size === 1 && t.server.watching === 1);
    expect(t.server.requests[0]).toBe('GET /api/v1/pods?fieldSelector=spec.nodeName%3Dgpu-1');
    expect(t.server.requests[1]).toMatch(
      /watch=1&allowWatchBookmarks=true&resourceVersion=\d+&timeoutSeconds=300$/,
    );
    t.server.put(spec('b', 'uid-b'));
    await until(() => t.pods().size === 2);
    t.server.put({ ...spec('b', 'uid-b'), ip: '10.1.2.4' });
    await until(() => t.pods().get('uid-b')?.ip === '10.1.2.4');
    t.server.remove('uid-a');
    await until(() => t.pods().size === 1);
    expect(names(t.pods())).toEqual(['b']);
    expect(t.watch.state).toMatchObject({ synced: true, lists: 1, failures: 0 });
  });

  it('lists again when the server says the watch is too old (410)', async () => {
    const t = await start();
    t.watch.start();
    await until(() => t.server.watching === 1);
    t.server.expireWatches();
    await until(() => t.watch.state.lists === 2 && t.server.watching === 1);
    expect(t.watch.state.failures).toBe(0);
  });

  it('a refusing API server is a failure that names the permission, and the watch recovers', async () => {
    const t = await start();
    t.server.failNext = 403;
    t.watch.start();
    await until(() => t.watch.state.synced);
    expect(t.failures[0]).toContain(
      '403 (forbidden: the ClusterRole must allow get, list and watch on pods)',
    );
    expect(t.watch.state.lastError).toBeUndefined();
  });

  it('a wrong token is refused, and never appears in what the agent says', async () => {
    const t = await start({ token: 'planted-wrong-token-91c2' });
    t.watch.start();
    await until(() => t.failures.length > 0);
    expect(t.failures[0]).toContain('401');
    expect(JSON.stringify([t.failures, t.watch.state])).not.toMatch(/planted/);
  });

  it('keeps at most max_pods, in a stable order, and counts the rest', async () => {
    const t = await start({ maxPods: 2 });
    for (const n of ['c', 'a', 'b']) t.server.put(spec(n, `uid-${n}`));
    t.watch.start();
    await until(() => t.watch.state.synced);
    expect(names(t.pods())).toEqual(['a', 'b']);
    expect(t.watch.state.dropped).toBe(1);
  });

  it('a server that ends every watch at once is not asked again in a busy loop', async () => {
    const t = await start();
    t.server.endWatchesAtOnce = true;
    t.watch.start();
    await new Promise((r) => setTimeout(r, 400));
    const watches = t.server.requests.filter((r) => r.includes('watch=1')).length;
    // The backoff (20 ms, doubling to 100 ms) allows about six in 400 ms; a busy loop, hundreds.
    expect(watches).toBeGreaterThan(1);
    expect(watches).toBeLessThan(12);
  });
});
