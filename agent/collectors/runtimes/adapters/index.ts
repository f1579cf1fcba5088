import type { RuntimeAdapter } from '../adapter.js';
import { llamacpp } from './llamacpp.js';
import { lmdeploy } from './lmdeploy.js';
import { nim } from './nim.js';
import { ollama } from './ollama.js';
import { sglang } from './sglang.js';
import { tgi } from './tgi.js';
import { triton } from './triton.js';
import { vllm } from './vllm.js';

/**
 * Every runtime the agent knows, in the order discovery tries them on a port: NIM before vLLM
 * (both on 8000, NIM's names are vLLM's without the prefix), TGI before llama.cpp (both on
 * 8080). Add a runtime here; everything else about it is in its adapter.
 */
export const ADAPTERS = [
  ollama,
  tgi,
  llamacpp,
  sglang,
  triton,
  nim,
  vllm,
  lmdeploy,
] as const satisfies readonly RuntimeAdapter[];

export type RuntimeKind = (typeof ADAPTERS)[number]['kind'];

/** The runtime kinds, for config validation (the `kind` of a target, a log, a proxy route). */
export const RUNTIME_KINDS = ADAPTERS.map((a) => a.kind) as [RuntimeKind, ...RuntimeKind[]];

export function adapterFor(kind: string): RuntimeAdapter {
  const adapter = ADAPTERS.find((a) => a.kind === kind);
  if (!adapter) throw new Error(`no adapter for ${kind}`);
  return adapter;
}
