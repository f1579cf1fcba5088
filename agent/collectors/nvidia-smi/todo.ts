/** What a person can do when nvidia-smi is missing or failing, by the reason its stream gave. */
export function nvidiaSmiTodo(reason: string, command: string): string {
  if (reason === 'not_found')
    return `install the NVIDIA driver's utilities (they bring nvidia-smi), or set collectors.nvidia_smi.command to its path; on a node without NVIDIA GPUs, set collectors.nvidia_smi.enabled: false`;
  if (reason === 'permission_denied')
    return `let the agent's user run ${command} and open /dev/nvidia* (ls -l /dev/nvidia*; the unit must not set PrivateDevices=)`;
  if (reason === 'driver_error')
    return `run ${command} by hand: its message is the driver's, and dmesg | grep -i -e NVRM -e Xid says more (a driver reload or a reboot may be needed); the agent retries with backoff`;
  return `run "${command} -q" by hand: if it hangs or fails too, the driver or a GPU does (dmesg | grep -i -e NVRM -e Xid); the agent restarts it with backoff`;
}
