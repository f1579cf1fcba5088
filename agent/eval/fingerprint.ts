import { createHash } from 'node:crypto';

/**
 * What a model's answers rest on, as far as the agent can see: the model and its weights
 * (Ollama's digest, vLLM's root: the path or repository it loaded), the runtime's version, the GPU driver's
 * version, and how many tokens the probe's fixed prompt counts (a chat template or tokenizer
 * change shows there first). '' is unknown.
 */
export interface Fingerprint {
  readonly model: string;
  readonly weights: string;
  readonly runtimeVersion: string;
  readonly driverVersion: string;
  readonly promptTokens: string;
}

export const FINGERPRINT_PARTS = {
  model: 'model',
  weights: "model's weights",
  runtimeVersion: 'runtime version',
  driverVersion: 'GPU driver version',
  promptTokens: "the probe prompt's token count",
} as const satisfies Record<keyof Fingerprint, string>;

/** A short stable id, for the info series and the report. */
export function fingerprintId(f: Fingerprint): string {
  const parts = [f.model, f.weights, f.runtimeVersion, f.driverVersion, f.promptTokens];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12);
}

/**
 * The parts that differ. A part unknown on either side is not a change: a driver the agent
 * cannot read for a moment (nvidia-smi restarting) must not start a run.
 */
export function changedParts(before: Fingerprint, now: Fingerprint): (keyof Fingerprint)[] {
  return (Object.keys(FINGERPRINT_PARTS) as (keyof Fingerprint)[]).filter(
    (k) => before[k] !== '' && now[k] !== '' && before[k] !== now[k],
  );
}

/** `now`, with what it does not know taken from `before`. */
export function filledFrom(before: Fingerprint | undefined, now: Fingerprint): Fingerprint {
  if (!before) return now;
  return {
    model: now.model || before.model,
    weights: now.weights || before.weights,
    runtimeVersion: now.runtimeVersion || before.runtimeVersion,
    driverVersion: now.driverVersion || before.driverVersion,
    promptTokens: now.promptTokens || before.promptTokens,
  };
}
