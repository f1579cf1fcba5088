import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  eventually,
  FAST_CONFIG,
  agentsKilledAfterEach,
  tempDir,
} from '../helpers/agent-process.js';
import { readFixture } from '../helpers/fixtures.js';

const agent = agentsKilledAfterEach();

describe('CUDA out of memory in a runtime log, through the agent', () => {
  it('is counted from 0, and the line itself goes nowhere', async () => {
    const log = join(tempDir(), 'vllm.log');
    writeFileSync(log, 'INFO starting\n');
    const a = await agent({
      config: `${FAST_CONFIG}  runtime_logs:\n    poll_interval_ms: 200\n    sources:\n      - { runtime: vllm, target: vllm-0, path: ${log} }\n`,
    });
    const key = 'inferwatch_llm_cuda_oom_events_total{runtime="vllm",target="vllm-0"}';
    await eventually(async () => (await a.metrics()).get(key) === 0, 10_000, 'the counter at 0');
    appendFileSync(
      log,
      readFixture('runtime-logs', 'cuda-oom_vllm-v1-enginecore-log_then-critical.txt'),
    );
    await eventually(async () => (await a.metrics()).get(key) === 1, 10_000, 'the OOM counted');
    const text = await (await a.get('/metrics')).text();
    expect(text).not.toContain('Tried to allocate');
    expect(JSON.stringify(a.logs)).not.toContain('Tried to allocate');
  });
});
