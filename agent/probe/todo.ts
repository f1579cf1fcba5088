/** What a person can do about a failing probe run, by its reason. */
export function probeTodo(reason: string, target: string): string {
  const byHand = `ask it by hand with "inferwatch probe --target ${target}"`;
  switch (reason) {
    case 'content_mismatch':
      return `the model answered a question with a known answer wrongly: compare its version, weights and chat template with the last good ones (the LLMNodeCanaryMismatch runbook); ${byHand}`;
    case 'timeout_first_token':
    case 'stall':
      return `the runtime answered too slowly: saturated or hung (its queue and the LLMNodeProbeFailing runbook); ${byHand}`;
    case 'connect':
      return `the runtime does not take connections: is it running? ${byHand}`;
    default:
      return `${byHand}; the LLMNodeProbeFailing runbook lists the causes`;
  }
}

/** Where there is nothing to probe. */
export const NO_TARGET_TODO =
  'start a runtime, or name one in collectors.runtimes.targets; or set probe.enabled: false';
