import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RuntimeLogsCollector } from '../../agent/collectors/runtime-logs/collector.js';
import { CUDA_OOM_EVENTS } from '../../agent/collectors/runtime-logs/metrics.js';
import { isCudaOom } from '../../agent/collectors/runtime-logs/parse.js';
import { FileFollower, type FollowPosition } from '../../agent/core/file-follower.js';
import { tempDir } from '../helpers/agent-process.js';
import { collectorDeps } from '../helpers/collector-deps.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { readFixture } from '../helpers/fixtures.js';
import { Recorder } from '../helpers/recorder.js';

describe('isCudaOom', () => {
  it('matches the real logs: old PyTorch format, vLLM V1 EngineCore', () => {
    const old = readFixture('runtime-logs', 'cuda-oom_torch-old-format-2023_vllm-0.1.txt').split(
      '\n',
    );
    expect(old.filter(isCudaOom)).toHaveLength(1);
    const v1 = readFixture(
      'runtime-logs',
      'cuda-oom_vllm-v1-enginecore-log_then-critical.txt',
    ).split('\n');
    // The error line, the empty ERROR line after it, the CRITICAL line.
    expect(v1.filter((l) => l !== '').map(isCudaOom)).toEqual([true, false, false]);
  });

  it.each([
    'ggml_backend_cuda_buffer_type_alloc_buffer: allocating 1234.56 MiB on device 0: cudaMalloc failed: out of memory',
    'RuntimeError: CUDA error: out of memory',
    'ValueError: No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine.',
    "ValueError: To serve at least one request with the model's max seq len (131072), 52.66 GiB KV cache is needed, which is larger than the available KV cache memory (23.37 GiB).",
  ])('matches %s', (line) => expect(isCudaOom(line)).toBe(true));

  it.each([
    'INFO 03-13 09:00:40 [loader.py:447] Loading weights took 2.1 seconds',
    'CRITICAL 03-13 09:00:43 [core_client.py:260] Got fatal signal from worker processes, shutting down.',
    'Out of memory: Killed process 15784 (python3)',
  ])('does not match %s', (line) => expect(isCudaOom(line)).toBe(false));
});

describe('FileFollower', () => {
  function follower(path: string, position?: FollowPosition) {
    const lines: string[] = [];
    const f = new FileFollower({
      path,
      ...(position && { position }),
      maxLineBytes: 1024,
      maxReadBytes: 1 << 20,
      onLine: (l) => lines.push(l),
      onOversizeLine: () => lines.push('<oversize>'),
    });
    return { f, lines };
  }

  it('starts at the end, then reads what is appended, across rotation and truncation', async () => {
    const path = join(tempDir(), 'vllm.log');
    writeFileSync(path, 'old history\n');
    const { f, lines } = follower(path);
    expect(await f.poll()).toEqual({ ok: true });
    appendFileSync(path, 'one\ntw');
    await f.poll();
    appendFileSync(path, 'o\n');
    await f.poll();
    expect(lines).toEqual(['one', 'two']);
    // logrotate's default: rename, and the writer reopens a new file.
    // The old file's last line has no newline: it is complete once the file is rotated away.
    appendFileSync(path, 'last of old');
    renameSync(path, `${path}.1`);
    writeFileSync(path, 'first of new\n');
    await f.poll();
    expect(lines.slice(2)).toEqual(['last of old', 'first of new']);
    // copytruncate: the same file, cut to zero, written again.
    truncateSync(path, 0);
    await f.poll();
    appendFileSync(path, 'after truncate\n');
    await f.poll();
    expect(lines.slice(4)).toEqual(['after truncate']);
    await f.close();
  });

  it('a follower built anew (a reload) carries on where the last one stopped: nothing appended between is lost', async () => {
    const path = join(tempDir(), 'reloaded.log');
    writeFileSync(path, 'history\n');
    const position = { inode: undefined, offset: 0 };
    const first = follower(path, position);
    await first.f.poll();
    appendFileSync(path, 'read by the first\n');
    await first.f.poll();
    await first.f.close();
    appendFileSync(path, 'written during the reload\n');
    const second = follower(path, position);
    await second.f.poll();
    expect(first.lines).toEqual(['read by the first']);
    expect(second.lines).toEqual(['written during the reload']);
    await second.f.close();
    // Rotated meanwhile: another file under the path, started at its end as always.
    renameSync(path, `${path}.1`);
    writeFileSync(path, 'in the new file before the follower\n');
    const third = follower(path, position);
    await third.f.poll();
    appendFileSync(path, 'after\n');
    await third.f.poll();
    expect(third.lines).toEqual(['after']);
    await third.f.close();
  });

  it('a character split between two reads survives', async () => {
    const path = join(tempDir(), 'utf8.log');
    writeFileSync(path, '');
    const { f, lines } = follower(path);
    await f.poll();
    const text = Buffer.from('GPU température ✓\n');
    appendFileSync(path, text.subarray(0, 10));
    await f.poll();
    appendFileSync(path, text.subarray(10));
    await f.poll();
    expect(lines).toEqual(['GPU température ✓']);
    await f.close();
  });

  it('a file that does not exist yet: an error, then read from its start once it appears', async () => {
    const path = join(tempDir(), 'later.log');
    const { f, lines } = follower(path);
    expect(await f.poll()).toMatchObject({ ok: false });
    writeFileSync(path, 'hello\n');
    expect(await f.poll()).toEqual({ ok: true });
    expect(lines).toEqual(['hello']);
    await f.close();
  });
});

describe('RuntimeLogsCollector', () => {
  let now = 0;
  beforeEach(() => {
    now = 0;
  });
  afterEach(() => vi.useRealTimers());

  function collector(
    sources: ConstructorParameters<typeof RuntimeLogsCollector>[0]['sources'],
    runner = new FakeRunner(),
  ) {
    return new RuntimeLogsCollector(
      {
        sources,
        pollIntervalMs: 60_000,
        journalctlCommand: 'journalctl',
        backoff: { initialMs: 100, maxMs: 100 },
      },
      collectorDeps({ runner, clock: { monotonicMs: () => now, epochMs: () => now } }),
    );
  }

  it('counts an OOM burst once, per runtime and target; an unreadable log gives no series', async () => {
    const dir = tempDir();
    const path = join(dir, 'vllm.log');
    writeFileSync(path, '');
    const c = collector([
      { runtime: 'vllm', target: 'vllm-0', path },
      { runtime: 'llamacpp', path: join(dir, 'missing.log') },
    ]);
    await c.start();
    const v1 = readFixture('runtime-logs', 'cuda-oom_vllm-v1-enginecore-log_then-critical.txt');
    appendFileSync(path, v1 + v1); // the worker's message and the API server re-raising it
    await c['pollFiles']();
    now += 60_000;
    appendFileSync(path, v1);
    await c['pollFiles']();
    const out = new Recorder();
    c.collect(out);
    expect(out.samples).toEqual([
      { def: CUDA_OOM_EVENTS, labels: { runtime: 'vllm', target: 'vllm-0' }, value: 2 },
    ]);
    expect(out.degraded).toContain('missing.log');
    await c.stop();
  });

  it('a read that hangs (a dead network mount) is reported, not taken for a quiet log', async () => {
    const path = join(tempDir(), 'nfs.log');
    writeFileSync(path, '');
    const c = collector([{ runtime: 'tgi', path }]);
    await c.start();
    const followed = (c as unknown as { followed: { file: FileFollower }[] }).followed[0]!;
    followed.file.poll = () => new Promise(() => undefined);
    void (c as unknown as { pollFiles(): Promise<void> }).pollFiles();
    const out = new Recorder();
    c.collect(out);
    expect(out.samples).toHaveLength(1);
    now += 5 * 60_000; // not yet: five poll intervals
    expect(c.collect.bind(c, new Recorder())).not.toThrow();
    now += 1;
    expect(() => c.collect(new Recorder())).toThrow(/hung/);
    await c.stop();
  });

  it('follows a journald unit through journalctl', async () => {
    vi.useFakeTimers();
    const runner = new FakeRunner();
    const c = collector([{ runtime: 'sglang', journaldUnit: 'sglang.service' }], runner);
    await c.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(runner.last.args).toEqual([
      '--unit',
      'sglang.service',
      '--follow',
      '--lines=0',
      '--output=cat',
      '--no-pager',
    ]);
    runner.last.line('torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.');
    const out = new Recorder();
    c.collect(out);
    expect(out.samples[0]).toMatchObject({
      labels: { runtime: 'sglang', target: 'sglang.service' },
      value: 1,
    });
    runner.last.exit(1);
    expect(() => c.collect(new Recorder())).toThrow(/exited/);
    await c.stop();
  });
});
