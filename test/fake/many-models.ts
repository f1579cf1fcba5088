/**
 * A vLLM exposition of `models` models, 12 series each (queue, tokens, outcomes and a TTFT
 * histogram): a router or an adapter list gone wild, for the cardinality caps.
 */
export function manyModelsExposition(models: number): string {
  const lines = [
    '# TYPE vllm:num_requests_running gauge',
    '# TYPE vllm:num_requests_waiting gauge',
    '# TYPE vllm:prompt_tokens_total counter',
    '# TYPE vllm:generation_tokens_total counter',
    '# TYPE vllm:request_success_total counter',
    '# TYPE vllm:time_to_first_token_seconds histogram',
  ];
  for (let i = 0; i < models; i++) {
    const m = `model_name="org/model-${i}"`;
    lines.push(
      `vllm:num_requests_running{${m}} 1`,
      `vllm:num_requests_waiting{${m}} 0`,
      `vllm:prompt_tokens_total{${m}} ${i * 100}`,
      `vllm:generation_tokens_total{${m}} ${i * 10}`,
      `vllm:request_success_total{finished_reason="stop",${m}} ${i}`,
      ...['0.1', '0.5', '1.0', '+Inf'].map(
        (le, k) => `vllm:time_to_first_token_seconds_bucket{le="${le}",${m}} ${i + k}`,
      ),
      `vllm:time_to_first_token_seconds_sum{${m}} ${i * 0.3}`,
      `vllm:time_to_first_token_seconds_count{${m}} ${i + 3}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
