import { describe, expect, it } from 'vitest';
import { nvidiaSmiTodo } from '../../agent/collectors/nvidia-smi/todo.js';
import { runtimeTodo, targetsTodo } from '../../agent/collectors/runtimes/todo.js';
import { withTodo } from '../../agent/core/state-log.js';
import { probeTodo } from '../../agent/probe/todo.js';

describe('what to do, by reason', () => {
  it('nvidia-smi: install it or point at it; a driver error sends to the driver; the rest to a run by hand', () => {
    expect(nvidiaSmiTodo('not_found', 'nvidia-smi')).toContain('collectors.nvidia_smi.command');
    expect(nvidiaSmiTodo('permission_denied', '/opt/nv/nvidia-smi')).toContain('/dev/nvidia*');
    expect(nvidiaSmiTodo('driver_error', 'nvidia-smi')).toContain('dmesg');
    expect(nvidiaSmiTodo('silent', '/opt/nv/nvidia-smi')).toContain('"/opt/nv/nvidia-smi -q"');
  });

  it('a runtime: each reason its own action, each said once for several runtimes', () => {
    const reasons = ['unreachable', 'unresponsive', 'credentials', 'http_401', 'too_large'];
    const todos = reasons.map(runtimeTodo);
    expect(new Set(todos).size).toBe(reasons.length);
    expect(runtimeTodo('http_401')).toContain('api_key_file');
    expect(runtimeTodo('http_500')).toContain("runtime's own log");
    const down = { credentialProblem: undefined, todo: runtimeTodo('unreachable') };
    const locked = { credentialProblem: 'unreadable', todo: undefined };
    expect(targetsTodo([down, down, locked])).toBe(
      `${runtimeTodo('unreachable')}; ${runtimeTodo('credentials')}`,
    );
  });

  it('the probe: a wrong answer sends to what changed, a slow one to saturation, and each to a run by hand', () => {
    expect(probeTodo('content_mismatch', 'vllm-a')).toContain('chat template');
    expect(probeTodo('timeout_first_token', 'vllm-a')).toContain('saturated');
    for (const reason of ['content_mismatch', 'connect', 'bad_response'])
      expect(probeTodo(reason, 'vllm-a')).toContain('inferwatch probe --target vllm-a');
  });

  it('a message ends with it, once, whatever punctuation it ended with', () => {
    expect(withTodo('nvidia_smi: gone.', 'install it')).toBe(
      'nvidia_smi: gone. What to do: install it',
    );
    expect(withTodo('dcgm: off; ', 'run it')).toBe('dcgm: off. What to do: run it');
    expect(withTodo('host: fine', undefined)).toBe('host: fine');
  });
});
