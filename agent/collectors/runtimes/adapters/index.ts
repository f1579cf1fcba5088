import type { RuntimeAdapter, RuntimeKind } from '../adapter.js';
import { llamacpp } from './llamacpp.js';
import { nim } from './nim.js';
import { ollama } from './ollama.js';
import { sglang } from './sglang.js';
import { tgi } from './tgi.js';
import { triton } from './triton.js';
import { vllm } from './vllm.js';

/**
 * Every runtime, in the order discovery tries them on a port: NIM before vLLM (both on 8000,
 * NIM's names are vLLM's without the prefix), TGI before llama.cpp (both on 8080).
 */
export const ADAPTERS: readonly RuntimeAdapter[] = [
  ollama,
  tgi,
  llamacpp,
  sglang,
  triton,
  nim,
  vllm,
];

export function adapterFor(kind: RuntimeKind): RuntimeAdapter {
  const adapter = ADAPTERS.find((a) => a.kind === kind);
  if (!adapter) throw new Error(`no adapter for ${kind}`);
  return adapter;
}
