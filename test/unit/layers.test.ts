import { ESLint } from 'eslint';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JS module of the lint config, without declarations
import { refusal, roomOf } from '../../eslint/layers.js';
import { ROOT } from '../helpers/fixtures.js';

const why = refusal as (from: string, to: string, typeOnly: boolean) => string | undefined;

describe("the agent's layering", () => {
  it.each([
    ['agent/core/scrape.ts', 'core'],
    ['agent/shared/gpu-report.ts', 'shared'],
    ['agent/config/schema.ts', 'config'],
    ['agent/collectors/nvidia-smi/parse.ts', 'source:nvidia-smi'],
    ['agent/collectors/runtimes/adapters/vllm.ts', 'source:runtimes'],
    ['agent/probe/run.ts', 'source:probe'],
    ['agent/probe/command.ts', 'root'],
    ['agent/collectors/index.ts', 'root'],
    ['agent/cli.ts', 'root'],
    ['demo/sim/node.ts', 'demo'],
  ])('%s is in %s', (file, room) => expect(roomOf(file)).toBe(room));

  it.each([
    ['agent/collectors/host/collector.ts', 'agent/collectors/nvidia-smi/metrics.ts', false],
    ['agent/core/scrape.ts', 'agent/shared/gpu-report.ts', false],
    // GPU readers report to the GPU view; none reads another or the view.
    ['agent/collectors/dcgm/collector.ts', 'agent/collectors/nvidia-smi/fields.ts', false],
    ['agent/collectors/dcgm/collector.ts', 'agent/collectors/kernel-events/parse.ts', false],
    ['agent/collectors/kernel-events/collector.ts', 'agent/collectors/gpu/view.ts', true],
    ['agent/shared/runtime-endpoints.ts', 'agent/collectors/runtimes/load.ts', true],
    ['agent/config/schema.ts', 'agent/probe/canaries.ts', false],
    ['agent/collectors/nvidia-smi/collector.ts', 'agent/config/load.ts', false],
    ['agent/cli.ts', 'demo/command.ts', false],
    ['agent/collectors/host/collector.ts', 'test/helpers/fixtures.ts', true],
    ['agent/probe/run.ts', 'agent/eval/run.ts', true],
  ])('refuses %s -> %s (type only: %s)', (from, to, typeOnly) =>
    expect(why(from, to, typeOnly)).toBeDefined(),
  );

  it.each([
    ['agent/collectors/nvidia-smi/collector.ts', 'agent/core/supervisor.ts', false],
    ['agent/collectors/nvidia-smi/collector.ts', 'agent/shared/gpu-report.ts', false],
    ['agent/collectors/index.ts', 'agent/collectors/gpu/index.ts', false],
    ['agent/collectors/nvidia-smi/index.ts', 'agent/config/load.ts', true],
    ['agent/config/schema.ts', 'agent/collectors/dcgm/config.ts', false],
    ['agent/eval/collector.ts', 'agent/probe/run.ts', false],
    ['agent/agent.ts', 'agent/collectors/runtimes/adapters/index.ts', false],
    ['demo/sim/node.ts', 'agent/core/http.ts', false],
  ])('allows %s -> %s (type only: %s)', (from, to, typeOnly) =>
    expect(why(from, to, typeOnly)).toBeUndefined(),
  );

  it('is what npm run lint enforces: a source reaching into another fails the lint', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const [result] = await eslint.lintText(
      "import { GPU_UTILIZATION } from '../nvidia-smi/metrics.js';\nexport const x = GPU_UTILIZATION;\n",
      { filePath: join(ROOT, 'agent/collectors/host/planted.ts') },
    );
    expect(result?.messages.map((m) => m.ruleId)).toContain('inferwatch/layers');
    expect(result?.messages.find((m) => m.ruleId === 'inferwatch/layers')?.message).toContain(
      'source:host may not import source:nvidia-smi',
    );
  });
});
