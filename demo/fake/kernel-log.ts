/**
 * Fake `dmesg --follow-new` and `journalctl --dmesg --follow` for integration tests: follows
 * FAKE_KLOG_FILE from its current end, as both tools follow the kernel log (and without a
 * follow flag prints it and exits).
 *
 *   FAKE_KLOG_FILE          the "kernel log" to follow (default: none, a quiet kernel)
 *   FAKE_KLOG_DENY_DMESG    dmesg answers as without CAP_SYSLOG
 *   FAKE_KLOG_DENY_JOURNAL  journalctl answers as for a user outside systemd-journal
 *   FAKE_KLOG_LOG           every invocation appends "pid tool args" here, and "pid tool
 *                           following from byte N" once it has taken the file's end
 */
import { appendFileSync, closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

const [tool = '', ...args] = process.argv.slice(2);
const env = process.env;
process.stdout.on('error', () => process.exit(0));
if (env.FAKE_KLOG_LOG)
  appendFileSync(env.FAKE_KLOG_LOG, `${process.pid} ${tool} ${args.join(' ')}\n`);

const idle = () => setInterval(() => undefined, 60_000);

if (tool === 'dmesg' && env.FAKE_KLOG_DENY_DMESG) {
  process.stderr.write('dmesg: read kernel buffer failed: Operation not permitted\n');
  process.exit(1);
}
if (tool === 'journalctl' && env.FAKE_KLOG_DENY_JOURNAL) {
  process.stderr.write(
    'Hint: You are currently not seeing messages from other users and the system.\n' +
      "      Users in groups 'adm', 'systemd-journal' can see all messages.\n" +
      '      Pass -q to turn off this notice.\n',
  );
}

const file = env.FAKE_KLOG_FILE;
// Without a follow flag both tools print what the log holds and exit, as systeminformation's
// `dmesg | grep` expects of the real one.
if (!args.some((a) => ['--follow', '--follow-new', '-w', '-W', '-f'].includes(a))) {
  if (file) process.stdout.write(readFileSync(file));
  process.exit(0);
}
if (!file) {
  idle();
} else {
  let offset = statSync(file).size;
  // Said once the end is taken, so a test appends only what the reader will see.
  if (env.FAKE_KLOG_LOG)
    appendFileSync(env.FAKE_KLOG_LOG, `${process.pid} ${tool} following from byte ${offset}\n`);
  setInterval(() => {
    const size = statSync(file).size;
    if (size <= offset) return;
    const fd = openSync(file, 'r');
    const buffer = Buffer.alloc(size - offset);
    readSync(fd, buffer, 0, buffer.length, offset);
    closeSync(fd);
    offset = size;
    process.stdout.write(buffer);
  }, 50);
}
