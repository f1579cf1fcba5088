import { describe, expect, it } from 'vitest';
import { mapSglang } from '../../../agent/collectors/runtimes/adapters/sglang.js';
import * as M from '../../../agent/collectors/runtimes/metrics.js';
import { modelName } from '../../../agent/shared/model-name.js';
import { exposition, Folded } from '../../helpers/runtime-reading.js';

describe('model names users know', () => {
  it.each([
    // A hub id is a name, kept whole.
    ['meta-llama/Llama-3.1-8B-Instruct', 'meta-llama/Llama-3.1-8B-Instruct'],
    // The Hugging Face cache: the repository, not the snapshot hash (SGLang's /get_server_info).
    [
      '/root/.cache/huggingface/hub/models--meta-llama--Llama-3.1-8B-Instruct/snapshots/0e9e39f249a16976918f6564b8830bc894c89659',
      'meta-llama/Llama-3.1-8B-Instruct',
    ],
    [
      '/data/hf/models--Qwen--Qwen2.5-7B-Instruct/snapshots/a09a35458c702b33eeacc393d103063234e8bc28/',
      'Qwen/Qwen2.5-7B-Instruct',
    ],
    // A revision folder of another layout, with its trailing slash (SGLang PR 1853's capture).
    [
      '/shared/public/elr-models/meta-llama/Llama-3.2-3B/5cc0ffe09ee49f7be6ca7c794ee6bd7245e84e60/',
      'Llama-3.2-3B',
    ],
    ['/models/Qwen2.5-7B-Instruct/', 'Qwen2.5-7B-Instruct'],
    ['./models/mistral-7b', 'mistral-7b'],
    // A file inside a snapshot keeps its own name.
    [
      '/root/.cache/huggingface/hub/models--bartowski--Qwen2.5-7B-GGUF/snapshots/0123456789abcdef0123456789abcdef01234567/Qwen2.5-7B-Q4_K_M.gguf',
      'Qwen2.5-7B-Q4_K_M.gguf',
    ],
    ['C:\\models\\phi-3.gguf', 'phi-3.gguf'],
  ])('%s is %s', (raw, name) => expect(modelName(raw)).toBe(name));

  it('an empty name is no name', () => {
    expect(modelName('  ')).toBeUndefined();
    expect(modelName(undefined)).toBeUndefined();
  });

  it("SGLang's capture with a revision path: the series carry the model's name, not its hash", () => {
    const r = new Folded(
      mapSglang(exposition('sglang_metrics_pr1853_snapshot-path-model_partial.txt'), {}, 't'),
    );
    expect(r.reading.models).toEqual(['Llama-3.2-3B']);
    expect(r.value(M.PROMPT_TOKENS, { model: 'Llama-3.2-3B' })).toBe(230794);
  });
});
