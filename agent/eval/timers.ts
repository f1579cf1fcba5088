import cron from 'node-cron';
import type { RunnerWorld } from './runner-ports.js';

/** The timers and the cron of a real agent. */
export const realTimers: Pick<RunnerWorld, 'sleep' | 'every' | 'cron'> = {
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    }),
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
  cron(expression, fn) {
    const task = cron.schedule(expression, fn, { name: 'evaluation' });
    return () => void task.destroy();
  },
};
