import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cgroupKey,
  parseListeningSockets,
  parseStat,
  socketInode,
} from '../../agent/collectors/nvidia-smi/proc-parse.js';
import { isLocal, ProcessOwners } from '../../agent/collectors/nvidia-smi/process-owners.js';
import { podOf } from '../../agent/shared/pod.js';
import type { RuntimeAddress } from '../../agent/shared/runtime-endpoints.js';
import { tempDir } from '../helpers/agent-process.js';
import { readFixture } from '../helpers/fixtures.js';

const TCP = readFixture('proc', 'net-tcp_linux-6.18.txt');
const TCP6 = readFixture('proc', 'net-tcp6_linux-6.18.txt');

describe('procfs parsers on real text', () => {
  it('finds listening sockets by port in /proc/net/tcp and tcp6, and not established ones', () => {
    const sockets = parseListeningSockets(TCP);
    expect(sockets.get(18000)).toEqual(new Set(['266010']));
    expect(sockets.get(30000)).toEqual(new Set(['266012']));
    // The established connection's local port 0xC056 is not listening.
    expect(sockets.has(0xc056)).toBe(false);
    parseListeningSockets(TCP6, sockets);
    expect(sockets.get(18080)).toEqual(new Set(['266011']));
  });

  it('reads the parent and start time after a command name holding spaces and parentheses', () => {
    const text = readFixture('proc', 'pid-stat_comm-with-parentheses_linux-6.18.txt');
    expect(text).toContain('(vllm) (engine x)');
    expect(parseStat(text)).toEqual({ ppid: '21512', startTime: '862851' });
    expect(parseStat('garbage')).toBeUndefined();
  });

  it('tells socket links and cgroups apart from what they are not', () => {
    expect(socketInode('socket:[266010]')).toBe('266010');
    expect(socketInode('pipe:[266010]')).toBeUndefined();
    expect(cgroupKey('0::/\n')).toBeUndefined();
    const v1 = readFixture('proc', 'pid-cgroup_v1-hybrid_linux-6.18.txt');
    expect(cgroupKey(v1)).toContain('memory:/process_api/');
  });

  it('counts loopback, the wildcard and this machine as local, and nothing else', () => {
    expect(isLocal('http://127.0.0.1:8000')).toBe(true);
    expect(isLocal('http://localhost:8000')).toBe(true);
    expect(isLocal('http://[::1]:8080')).toBe(true);
    expect(isLocal('http://10.255.255.1:8000')).toBe(false);
  });
});

/** A procfs tree in a temporary directory: stat, cgroup and fd links per process. */
function procTree() {
  const root = tempDir();
  mkdirSync(join(root, 'net'));
  writeFileSync(join(root, 'net/tcp'), TCP);
  writeFileSync(join(root, 'net/tcp6'), TCP6);
  const proc = (
    pid: number,
    options: { ppid: number; start?: number; cgroup?: string; sockets?: string[] },
  ) => {
    const dir = join(root, String(pid));
    mkdirSync(join(dir, 'fd'), { recursive: true });
    writeFileSync(
      join(dir, 'stat'),
      `${pid} (p ${pid}) S ${options.ppid} 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${options.start ?? 1000} 0 0\n`,
    );
    writeFileSync(join(dir, 'cgroup'), `0::${options.cgroup ?? '/'}\n`);
    symlinkSync('/dev/null', join(dir, 'fd', '0'));
    (options.sockets ?? []).forEach((inode, i) =>
      symlinkSync(`socket:[${inode}]`, join(dir, 'fd', String(10 + i))),
    );
  };
  return { root, proc };
}

const ENDPOINTS: RuntimeAddress[] = [
  { runtime: 'vllm', target: 'vllm-a', url: 'http://127.0.0.1:18000' },
  { runtime: 'tgi', target: 'tgi', url: 'http://localhost:30000' },
  { runtime: 'llamacpp', target: 'llama', url: 'http://[::1]:18080' },
  { runtime: 'vllm', target: 'far', url: 'http://10.255.255.1:8000' },
];

describe('ProcessOwners on a procfs tree', () => {
  function node() {
    const { root, proc } = procTree();
    proc(1, { ppid: 0 });
    proc(100, { ppid: 1, cgroup: '/system.slice/vllm.service', sockets: ['266010'] }); // API server
    proc(101, { ppid: 100, cgroup: '/system.slice/vllm.service' }); // its engine core
    proc(200, { ppid: 1, cgroup: '/docker/abc' }); // TGI launcher
    proc(201, { ppid: 200, cgroup: '/docker/abc', sockets: ['266012'] }); // router
    proc(202, { ppid: 200, cgroup: '/docker/abc' }); // shard
    proc(300, { ppid: 1, cgroup: '/user.slice/llama', sockets: ['266011'] }); // llama-server
    proc(400, { ppid: 1, cgroup: '/user.slice/other' }); // someone's notebook
    let now = 0;
    const owners = new ProcessOwners(root, () => now);
    return { root, proc, owners, tick: (ms: number) => (now += ms) };
  }

  it('ties the listener, its descendants, and its cgroup siblings to the runtime, and no one else', async () => {
    const { owners } = node();
    await owners.refresh(['101', '202', '300', '400', '999'], ENDPOINTS);
    expect(owners.owner('101')).toEqual({ runtime: 'vllm', target: 'vllm-a' });
    expect(owners.owner('202')).toEqual({ runtime: 'tgi', target: 'tgi' });
    expect(owners.owner('300')).toEqual({ runtime: 'llamacpp', target: 'llama' });
    expect(owners.owner('400')).toBeUndefined();
    expect(owners.owner('999')).toBeUndefined(); // gone before it was looked at
  });

  it('does not guess when two runtimes listen from one cgroup', async () => {
    const { proc, owners } = node();
    // A second runtime in TGI's container, on port 2024 (the capture's socket 1061).
    proc(500, { ppid: 1, cgroup: '/docker/abc', sockets: ['1061'] });
    const second = { runtime: 'sglang', target: 'sglang', url: 'http://127.0.0.1:2024' };
    await owners.refresh(['202'], [...ENDPOINTS, second]);
    expect(owners.owner('202')).toBeUndefined();
    await owners.refresh(['202'], ENDPOINTS);
    expect(owners.owner('202')?.target).toBe('tgi');
  });

  it('forgets an owner when the PID is reused by another process, once the sockets are looked at again', async () => {
    const { proc, owners, tick, root } = node();
    await owners.refresh(['101'], ENDPOINTS);
    expect(owners.owner('101')?.target).toBe('vllm-a');
    writeFileSync(
      join(root, '101', 'stat'),
      '101 (p) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 0\n',
    );
    writeFileSync(join(root, '101', 'cgroup'), '0::/user.slice/other\n');
    await owners.refresh(['101'], ENDPOINTS);
    expect(owners.owner('101')).toBeUndefined();
    // A new runtime appears later: looked up again after the rescan interval, not before.
    proc(600, { ppid: 1, sockets: ['266010'] });
    writeFileSync(
      join(root, '101', 'stat'),
      '101 (p) S 600 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 0\n',
    );
    await owners.refresh(['101'], ENDPOINTS);
    expect(owners.owner('101')).toBeUndefined();
    tick(30_000);
    await owners.refresh(['101'], ENDPOINTS);
    expect(owners.owner('101')?.target).toBe('vllm-a');
  });

  it('knows nothing without local runtimes, and starts over when the runtimes change', async () => {
    const { owners } = node();
    await owners.refresh(['101'], []);
    expect(owners.owner('101')).toBeUndefined();
    await owners.refresh(['101'], ENDPOINTS);
    expect(owners.owner('101')?.target).toBe('vllm-a');
    await owners.refresh(
      ['101'],
      ENDPOINTS.map((e) => (e.target === 'vllm-a' ? { ...e, target: 'renamed' } : e)),
    );
    expect(owners.owner('101')?.target).toBe('renamed');
  });
});

describe('GPU processes in pods', () => {
  const LINES = readFixture('kubernetes', 'cgroup_kubelet-drivers.txt')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  const pod = podOf(
    JSON.parse(readFixture('kubernetes', 'pod_hello-world_kubectl-1.29.3_calico.json')),
  );
  if ('error' in pod) throw new Error(pod.error);
  const pods = new Map([[pod.pod.uid, pod.pod]]);
  const place = { namespace: 'default', pod: 'hello-world', container: 'hello-world' };

  it("each process's pod and container, from its cgroup; a process in a runtime's pod is that runtime's", async () => {
    const { root, proc } = procTree();
    // The systemd driver's path (cgroup v2), and a process outside any pod.
    proc(4242, { ppid: 1, cgroup: (LINES[0] ?? '').slice(3) });
    proc(4343, { ppid: 1, cgroup: '/system.slice/ollama.service' });
    const owners = new ProcessOwners(root, () => 0);
    const runtime: RuntimeAddress = {
      runtime: 'vllm',
      target: 'default/hello-world:8000',
      url: 'http://10.0.15.103:8000',
      place,
    };
    await owners.refresh(['4242', '4343'], [runtime], pods);
    expect(owners.place('4242')).toEqual(place);
    expect(owners.owner('4242')).toEqual({ runtime: 'vllm', target: 'default/hello-world:8000' });
    expect(owners.place('4343')).toBeUndefined();
    expect(owners.owner('4343')).toBeUndefined();
    // Outside a cluster (no pods), nothing is placed.
    const plain = new ProcessOwners(root, () => 0);
    await plain.refresh(['4242'], [runtime]);
    expect(plain.place('4242')).toBeUndefined();
  });
});
