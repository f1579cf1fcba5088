import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

const POLL_MS = 25;

/**
 * Resolves with the address the agent serves on, once it has written its ready file
 * (`--ready-file`: the agent writes it only when /metrics answers); rejects when the agent
 * exits first or `timeoutMs` passes. The one wait for an agent to be up, for the demo and the
 * tests alike.
 */
export function untilServing(
  child: ChildProcess,
  readyFile: string,
  timeoutMs: number,
  explain: () => string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the agent exited with ${code} before serving${explain()}`));
    };
    const check = () => {
      let address = '';
      try {
        address = readFileSync(readyFile, 'utf8').trim();
      } catch {
        // Not written yet.
      }
      if (address !== '') {
        child.off('exit', onExit);
        return resolve(address);
      }
      if (Date.now() > deadline) {
        child.off('exit', onExit);
        return reject(new Error(`the agent did not serve within ${timeoutMs} ms${explain()}`));
      }
      timer = setTimeout(check, POLL_MS);
    };
    let timer = setTimeout(check, 0);
    child.once('exit', onExit);
  });
}
