/**
 * The status page at / in a real browser (Debian's chromium, headless): it renders the agent at
 * a glance, logs nothing to the console, asks for nothing beyond itself, and gives the README
 * its screenshot. In CI chromium is required.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentsKilledAfterEach, eventually, tempDir } from '../helpers/agent-process.js';
import { ROOT } from '../helpers/fixtures.js';
import { requireTool } from '../helpers/tools.js';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Headless chromium on a URL; its DOM on stdout, its console and network errors on stderr. */
function chromium(url: string, ...extra: string[]) {
  return spawnSync(
    'chromium',
    [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      `--user-data-dir=${tempDir()}`,
      '--enable-logging=stderr',
      '--v=0',
      ...extra,
      url,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
}

describe('the status page', () => {
  const agent = agentsKilledAfterEach();

  it('renders in a browser: every source with its state and last good read, the GPUs, no console error', async (ctx) => {
    if (!requireTool('chromium', 'chromium', () => ctx.skip())) return;
    const a = await agent({ env: { FAKE_NVSMI_GPUS: '2' } });
    const url = `http://127.0.0.1:${a.port}/`;
    // The GPU view merges at each scrape, as Prometheus's would.
    await eventually(async () => {
      await a.get('/metrics');
      return (await (await a.get('/')).text()).includes('GPU 1: NVIDIA');
    });

    const dom = chromium(url, '--dump-dom');
    expect(dom.status, dom.stderr).toBe(0);
    for (const source of ['nvidia_smi', 'kernel_events', 'host', 'gpu'])
      expect(dom.stdout).toMatch(new RegExp(`<tr><td>${source}</td><td><span class="state \\w+">`));
    expect(dom.stdout).toMatch(/<td class="age">(just now|\d+ s ago)<\/td>/);
    expect(dom.stdout).toContain('GPU 0: NVIDIA H100 80GB HBM3');
    // Nothing failed to load, nothing was blocked, nothing was logged by the page.
    expect(dom.stderr).not.toMatch(/CONSOLE|Failed to load resource|Refused to/);

    const shot = join(tempDir(), 'status.png');
    const drawn = chromium(
      url,
      `--screenshot=${shot}`,
      '--window-size=1280,900',
      '--hide-scrollbars',
    );
    expect(drawn.status, drawn.stderr).toBe(0);
    expect(readFileSync(shot).subarray(0, 8)).toEqual(PNG);
    expect(statSync(shot).size).toBeGreaterThan(10_000);
  }, 90_000);

  it('is the screenshot the README shows', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('](docs/status-page.png)');
    expect(readFileSync(join(ROOT, 'docs/status-page.png')).subarray(0, 8)).toEqual(PNG);
  });
});
