/**
 * The generation APIs the agent speaks (the probe, the evaluation) and reads (the metering
 * proxy): the request and stream shapes of the OpenAI, Ollama and llama.cpp APIs.
 */
export const GENERATION_APIS = [
  'openai-chat',
  'openai-completions',
  'ollama-chat',
  'llamacpp-completion',
] as const;
export type GenerationApi = (typeof GENERATION_APIS)[number];

/** A path that runs a generation, and the API its answer is read as (none: timed only). */
export type GenerationPath = readonly [path: string | RegExp, api: GenerationApi | undefined];

/** The OpenAI-compatible generation paths most runtimes serve. */
export const OPENAI_PATHS: readonly GenerationPath[] = [
  ['/v1/chat/completions', 'openai-chat'],
  ['/v1/completions', 'openai-completions'],
];

/** How a runtime serves generations, as its adapter declares it. */
export interface GenerationSurface {
  /**
   * The API the probe and the evaluation ask it in; none where the address the agent reads
   * serves no generations (Triton's metrics port).
   */
  readonly probeApi?: GenerationApi | undefined;
  /**
   * The paths of its own API documentation that run a generation, for the metering proxy.
   * Other requests (model lists, health, embeddings, pulls) pass through unmeasured.
   */
  readonly paths: readonly GenerationPath[];
  /**
   * It serves one model per process and answers whatever model name a client sends: its
   * requests are counted under the model it says it serves, not a name a client made up.
   */
  readonly oneModel?: boolean | undefined;
  /**
   * Its queue and KV-cache figures say whether a probe would harm live traffic. Ollama
   * reports none: the probe's check there is whether the model is loaded.
   */
  readonly queueFigures: boolean;
  /** The model a request names, as the runtime's own API lists it (Ollama adds `:latest`). */
  servedName?(model: string): string;
}
