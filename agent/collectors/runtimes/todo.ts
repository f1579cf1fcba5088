/** What a person can do about a runtime the agent cannot read, by the reason of the read. */
export function runtimeTodo(reason: string): string {
  switch (reason) {
    case 'unreachable':
      return 'check that the runtime runs and listens where doctor says it is read; one that moved is found again by discovery, or fix its url in collectors.runtimes.targets';
    case 'unresponsive':
      return 'it takes connections but answers late, saturated or hung (the LLMNodeRuntimeUnresponsive runbook); raise collectors.runtimes.timeout_ms only if it is merely slow';
    case 'credentials':
      return "make its api_key_file readable by the agent's user, the key alone on one line";
    case 'http_401':
    case 'http_403':
      return 'give the agent its API key: api_key_file in its collectors.runtimes.targets entry';
    case 'too_large':
      return 'raise collectors.runtimes.max_body_bytes if its metrics are really that large';
    case 'bad_lines':
      return 'its metrics have lines that are not Prometheus text; the rest is read. Check its version against the runtime tables of docs/runtimes.md';
    case 'too_many_models':
      return 'raise collectors.runtimes.max_models to give every model series';
    default:
      return "read its metrics by hand (curl the url doctor shows) and the runtime's own log";
  }
}

/** What a person can do where no runtime is found at all. */
export const NO_RUNTIME_TODO =
  'start one, or name it in collectors.runtimes.targets (kind and url) where it listens on another address or port';

/** What to do about the failing runtimes, each thing once. */
export function targetsTodo(
  failing: readonly {
    readonly credentialProblem: string | undefined;
    readonly todo: string | undefined;
  }[],
): string {
  const todos = failing.map((t) =>
    t.credentialProblem !== undefined ? runtimeTodo('credentials') : t.todo,
  );
  return [...new Set(todos.filter((t) => t !== undefined))].join('; ');
}
