/** How the agent runs itself again as a child: for work it keeps out of its own memory. */
export interface SelfCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/**
 * This process's own command line: node and the entry script (`dist/agent/main.js`, or the
 * single-file `inferwatch.cjs`), or, run as the single executable, that executable alone.
 */
export function selfCommand(
  execPath = process.execPath,
  entry: string | undefined = process.argv[1],
): SelfCommand {
  return entry !== undefined && /\.[cm]?js$/.test(entry)
    ? { command: execPath, args: [entry] }
    : { command: execPath, args: [] };
}
