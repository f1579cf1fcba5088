import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT } from '../helpers/fixtures.js';

const DEMO = join(ROOT, 'dist/demo/main.js');

const running: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [DEMO, ...args], { encoding: 'utf8', timeout: 15_000 });

async function metrics(url: string): Promise<string> {
  return (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

describe('npm run demo', () => {
  it('runs the agent on a simulated node, takes incidents from the command line, stops on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      [DEMO, '--gpus', '4', '--listen', '127.0.0.1:0', '--control', '127.0.0.1:0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.push(child);
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    expect(await until(async () => out.includes('Ctrl-C stops everything.'), 30_000)).toBe(true);
    const agentUrl = /Agent\s+(http:\/\/\S+\/metrics)/.exec(out)?.[1] as string;
    const control = /Control\s+http:\/\/(\S+)/.exec(out)?.[1] as string;
    const files = /Node files\s+(\S+)\s+\(removed when the demo stops\)/.exec(out)?.[1] as string;
    expect(existsSync(files)).toBe(true);
    // Without --stack it says plainly that no alert fires here, and how to see them.
    expect(out).toContain('No Prometheus runs without --stack, so no alert fires here');
    expect(out).toContain(`node ${join(ROOT, 'dist/demo/main.js')} inject xid-fatal`);
    expect(out).toMatch(/Runtime vllm\s+http:\/\/127\.0\.0\.1:\d+\s+\(vllm, /);
    expect(out).toMatch(/Runtime sglang\s+http:\/\/127\.0\.0\.1:\d+\s+\(sglang, /);
    expect(out).toMatch(
      /Runtime ollama\s+http:\/\/127\.0\.0\.1:\d+\s+\(ollama, llama3\.2:latest; no metrics of its own: its users go through the agent's metering proxy at http:\/\/127\.0\.0\.1:\d+\)/,
    );

    // The real agent sees the simulated GPUs and runtimes.
    expect(
      await until(
        async () => (await metrics(agentUrl)).match(/^inferwatch_gpu_info\{/gm)?.length === 4,
        20_000,
      ),
    ).toBe(true);
    const text = await metrics(agentUrl);
    expect(text).toMatch(/^inferwatch_llm_runtime_up\{runtime="vllm",target="vllm"\} 1$/m);
    expect(text).toMatch(/^inferwatch_llm_runtime_up\{runtime="sglang",target="sglang"\} 1$/m);
    expect(text).toMatch(/^inferwatch_gpu_sm_active_ratio\{/m);
    // The runtimes own their GPU processes: vLLM's two workers, SGLang's one, each told apart.
    const owned = await until(
      async () =>
        ((await metrics(agentUrl)).match(
          /^inferwatch_gpu_process_memory_used_bytes\{gpu="\d",[^}]*runtime="(vllm|sglang)",target="\1"\} \d+$/gm,
        )?.length ?? 0) === 3,
      15_000,
    );
    expect(owned).toBe(true);
    // Ollama has no metrics; its users' requests, measured by the proxy, are there.
    expect(
      await until(
        async () =>
          /^inferwatch_llm_requests_total\{runtime="ollama",target="ollama",model="llama3\.2:latest",outcome="ok"\} [1-9]/m.test(
            await metrics(agentUrl),
          ),
        15_000,
      ),
    ).toBe(true);
    const slow = cli('inject', 'slow-first-token', '--control', control);
    expect(slow.status, slow.stderr).toBe(0);
    expect(slow.stdout).toMatch(
      /^Injected slow-first-token on ollama: .+\.\nIt raises LLMNodeTTFTBudgetBurn within a few minutes\. This demo runs without --stack/,
    );

    const injected = cli('inject', 'xid', '--gpu', '3', '--control', control);
    expect(injected.status, injected.stderr).toBe(0);
    expect(injected.stdout).toMatch(/^Injected xid on GPU 3: .+\nIt raises LLMNodeGPUXidNonFatal /);
    expect(injected.stdout).toContain("It lasts until 'clear'.");
    expect(
      await until(
        async () =>
          /^inferwatch_gpu_xid_errors_total\{gpu="3",[^}]*xid="13"\} 1$/m.test(
            await metrics(agentUrl),
          ),
        10_000,
      ),
    ).toBe(true);

    const badGpu = cli('inject', 'xid', '--gpu', '9', '--control', control);
    expect(badGpu.status).toBe(1);
    expect(badGpu.stderr).toBe('inferwatch demo: no GPU 9: this node has GPUs 0 to 3\n');
    expect(cli('inject', 'meteor', '--control', control).status).toBe(2);
    // Clearing says what was healed (without --stack no alert was left firing).
    const clear = cli('clear', '--control', control);
    expect(clear.status).toBe(0);
    expect(clear.stdout).toBe(
      'Cleared slow-first-token on ollama, xid on GPU 3: the node is healthy again.\n',
    );
    expect(cli('clear', '--control', control).stdout).toBe(
      'Nothing to clear: no incident was injected.\n',
    );

    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(out).toContain('inferwatch demo: stopping');
    // The temporary directory it made is gone with it.
    expect(existsSync(files)).toBe(false);
  }, 60_000);

  it('names a port that is taken, and the flag that moves it', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const taken = cli('--listen', `127.0.0.1:${port}`, '--control', '127.0.0.1:0');
      expect(taken.status).toBe(1);
      expect(taken.stderr).toBe(
        `inferwatch demo: 127.0.0.1:${port} is taken (another demo, agent or Prometheus?): pass --listen HOST:PORT\n`,
      );
      // With --stack, the stack's ports are checked too, before anything starts.
      const stack = cli(
        '--stack',
        '--prometheus-port',
        String(port),
        '--control',
        '127.0.0.1:0',
        '--listen',
        '127.0.0.1:0',
      );
      expect(stack.status).toBe(1);
      expect(stack.stderr).toContain(`127.0.0.1:${port} is taken`);
      expect(stack.stderr).toContain('pass --prometheus-port N');
    } finally {
      server.close();
    }
  });

  it('lists its incidents with the alerts each should raise', () => {
    const list = cli('incidents');
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^xid-fatal\s+gpu\s+.+\n\s+-> LLMNodeGPUXidFatal$/m);
    expect(list.stdout).toMatch(
      /^saturation\s+runtime .+\n\s+-> LLMNodeTTFTBudgetBurn, LLMNodeProbeSkipped, LLMNodeKVCacheSaturated \(pending: long for\)/m,
    );
  });

  it('answers bad usage with exit 2 and says why; an absent demo with exit 1', () => {
    const bad = cli('--gpus', '0');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--gpus must be a whole number from 1 to 64');
    expect(cli('fly').status).toBe(2);
    const absent = cli('clear', '--control', '127.0.0.1:9');
    expect(absent.status).toBe(1);
    expect(absent.stderr).toContain('no demo answers at');
  });
});
