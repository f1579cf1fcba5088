/** What dmesg or journalctl print when the agent may not read what it asked for. */
export function readerProblem(line: string): 'permission_denied' | 'unavailable' | undefined {
  if (/read kernel buffer failed: (Operation not permitted|Permission denied)/.test(line)) {
    return 'permission_denied';
  }
  if (/You are currently not seeing messages from other users and the system/.test(line)) {
    return 'permission_denied';
  }
  if (/No journal files were (found|opened)/.test(line)) return 'unavailable';
  return undefined;
}
