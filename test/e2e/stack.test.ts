/**
 * The whole chain, on every CI run: simulated GPU nodes -> the built agent -> Debian's
 * Prometheus (the shipped rules, 1 s scrapes and evaluations) -> Debian's Alertmanager (the
 * example routing, unchanged) -> a webhook on 127.0.0.1:5001, and every dashboard query
 * against that Prometheus. Alerts whose `for` is longer than two minutes are proven by
 * promtool (test/bundle/rules.test.ts); here they must at least go pending.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startAgent, type RunningAgent } from '../../demo/agent-process.js';
import { INCIDENTS, type IncidentName } from '../../demo/sim/incidents.js';
import { seconds } from '../../demo/words.js';
import {
  OLLAMA_TARGET,
  SimulatedNode,
  type Injection,
  type RuntimeSpec,
} from '../../demo/sim/node.js';
import {
  ALERTMANAGER,
  findTool,
  MonitoringStack,
  PROMETHEUS,
  RULES_FILE,
} from '../../demo/stack.js';
import { WebhookReceiver, type Notification, type WebhookAlert } from '../../demo/webhook.js';
import { parseSettings } from '../../alerts/src/settings.js';
import { dashboardQueries, interpolate, loadDashboards } from '../helpers/dashboards.js';
import { ROOT } from '../helpers/fixtures.js';

const installed = findTool(PROMETHEUS) !== undefined && findTool(ALERTMANAGER) !== undefined;
if (!installed && process.env.CI === 'true')
  throw new Error(
    'prometheus and alertmanager are required in CI (apt-get install prometheus prometheus-alertmanager)',
  );
if (!installed) console.warn('SKIP: prometheus or alertmanager not installed');

interface Rule {
  alert?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (
  parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);
/** Alerts proven here end to end: those that fire within two minutes (the Watchdog aside). */
const SHORT_FOR = new Set(
  rules
    .filter((r) => r.alert && r.alert !== 'Watchdog' && seconds(r.for ?? '0s') <= 120)
    .map((r) => r.alert as string),
);
/** Where the shipped settings host the runbooks: nowhere, the agents serve them. */
const RUNBOOK_BASE = parseSettings(
  readFileSync(join(ROOT, 'alerts/settings.yaml'), 'utf8'),
  'settings.yaml',
).runbook_base_url;

/** The runtimes of the node that has incidents: one per runtime incident, each its own model. */
const INCIDENT_RUNTIMES: readonly RuntimeSpec[] = (
  [
    { name: 'busy', kind: 'vllm', model: 'meta-llama/Llama-3.3-70B-Instruct' },
    { name: 'failing', kind: 'vllm', model: 'google/gemma-3-27b-it' },
    { name: 'wrong', kind: 'sglang', model: 'Qwen/Qwen3-32B', maxConcurrency: 32 },
    { name: 'swap', kind: 'vllm', model: 'microsoft/phi-4' },
    { name: 'flappy', kind: 'vllm', model: 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B' },
    { name: 'upgraded', kind: 'vllm', model: 'mistralai/Mistral-Small-3.1-24B-Instruct-2503' },
    // Busy enough that the burn-rate alerts' traffic guard (0.05 requests a second over an hour)
    // holds after half a minute of a fresh Prometheus, as it would after an hour of history.
  ] as const
).map((r) => ({ ...r, requestsPerSecond: 6 }));
const RUNTIME_OF: Partial<Record<IncidentName, string>> = {
  saturation: 'busy',
  'runtime-errors': 'failing',
  'cuda-oom': 'failing',
  'wrong-answers': 'wrong',
  'model-swap': 'swap',
  // Upgrades start an evaluation run: on the runtime whose answers are all wrong it would page.
  'template-change': 'upgraded',
  'quality-regression': 'upgraded',
  'runtime-flap': 'flappy',
  'slow-first-token': OLLAMA_TARGET,
};
/** The node that serves only Ollama, behind the agent's metering proxy. */
const OLLAMA_MODEL = 'llama3.2:latest';
/**
 * What the proxied Ollama cannot fill: it has no KV cache figure and never preempts, and the
 * proxy sees neither its queue, its prefix cache, nor (not yet) each request's lengths, phases
 * and finish reason.
 */
const NOT_OLLAMA = [
  /"KV cache usage"/,
  /"Preemptions"/,
  /"Time in queue"/,
  /"Prefix cache hit ratio/,
  /"Prompt length/,
  /"Output length/,
  /"Why requests ended"/,
  /"Prefill and decode time"/,
];

/**
 * Queries that are empty on a healthy node by design (they list events, or what is wrong) and
 * the node with incidents must fill. Everything else must return data on the healthy node.
 */
const EVENT_QUERIES = [
  /"Why clocks are held back"/,
  /"GPU errors in range"/,
  /"OOM victims in range"/,
  /"CUDA out of memory in range"/,
  /"Skips by reason"/,
  /annotation "Firing alerts"/,
  /annotation "Runtime or model changed"/,
  /"Failing evaluation cases"/,
  /annotation "Evaluated after a change"/,
];
/**
 * Incidents that reload the agent, injected once the others' alerts are in: a reload restarts
 * the kernel log's reader, which misses what is written meanwhile (docs/gpus.md).
 */
const RELOADING: readonly IncidentName[] = ['budget-cut'];
/** Not expected here: no driver or kernel is upgraded (they show only as their agent starts). */
const NEVER_HERE = [/annotation "GPU driver changed"/, /annotation "Kernel or OS changed"/];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!installed)(
  'end to end: agent, Prometheus, rules, Alertmanager, webhook, dashboards',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferwatch-e2e-'));
    const webhook = new WebhookReceiver();
    const nodes: SimulatedNode[] = [];
    const agents: RunningAgent[] = [];
    let stack: MonitoringStack;
    let healthy: SimulatedNode;
    let incidents: SimulatedNode;
    let hung: SimulatedNode;
    let proxied: SimulatedNode;
    const instance = new Map<SimulatedNode, string>();

    beforeAll(async () => {
      await webhook.listen(5001);
      healthy = await SimulatedNode.start({
        name: 'gpu-node-a',
        dir: join(dir, 'a'),
        gpus: 8,
        seed: 1,
        // Fans, so the fan panel has something to show (the H100 SXM of the capture has none).
        fans: true,
      });
      incidents = await SimulatedNode.start({
        name: 'gpu-node-b',
        dir: join(dir, 'b'),
        gpus: 8,
        seed: 2,
        runtimes: INCIDENT_RUNTIMES,
      });
      hung = await SimulatedNode.start({
        name: 'gpu-node-c',
        dir: join(dir, 'c'),
        gpus: 2,
        seed: 3,
      });
      proxied = await SimulatedNode.start({
        name: 'gpu-node-d',
        dir: join(dir, 'd'),
        gpus: 1,
        seed: 4,
        runtimes: [],
        // Busy enough for the burn-rate alerts' traffic guard, as the incident node's runtimes.
        ollama: { model: OLLAMA_MODEL, requestsPerSecond: 4 },
      });
      nodes.push(healthy, incidents, hung, proxied);
      for (const node of nodes) {
        const agent = await startAgent(node);
        agents.push(agent);
        instance.set(node, agent.address);
      }
      stack = await MonitoringStack.start({
        dir: join(dir, 'stack'),
        targets: nodes.map((n) => ({ address: instance.get(n) as string, node: n.name })),
      });
    }, 90_000);

    afterAll(async () => {
      await stack?.stop();
      await Promise.all(agents.map((a) => a.stop()));
      await Promise.all(nodes.map((n) => n.close()));
      await webhook.close();
    });

    const values = (node: SimulatedNode) => ({
      range: '10m',
      rateInterval: '15s',
      interval: '5s',
      variables: {
        instance: instance.get(node) as string,
        gpu: '.*',
        model: '.*',
        runtime: '.*',
        target: '.*',
      },
    });

    /** Each dashboard query, as Grafana would send it for this node, and whether it has data. */
    async function dashboardData(node: SimulatedNode) {
      const out: { where: string; expr: string; samples: number }[] = [];
      for (const [file, dashboard] of loadDashboards())
        for (const q of dashboardQueries(dashboard)) {
          const expr = interpolate(q.expr, values(node));
          out.push({
            where: `${file} ${q.where}`,
            expr,
            samples: (await stack.query(expr)).length,
          });
        }
      return out;
    }

    it('a healthy node: only the Watchdog fires, and every dashboard query returns data', async () => {
      const expected = (where: string) =>
        !EVENT_QUERIES.some((p) => p.test(where)) && !NEVER_HERE.some((p) => p.test(where));
      let empty: string[] = [];
      const deadline = Date.now() + 120_000;
      do {
        await sleep(2000);
        empty = (await dashboardData(healthy))
          .filter((q) => expected(q.where) && q.samples === 0)
          .map((q) => `${q.where}: ${q.expr}`);
      } while (empty.length > 0 && Date.now() < deadline);
      expect(empty).toEqual([]);

      // A node serving only Ollama, which has no metrics: through the metering proxy, every
      // runtime dashboard query has data but the two Ollama has no figure for.
      let emptyProxied: string[] = [];
      do {
        emptyProxied = (await dashboardData(proxied))
          .filter(
            (q) =>
              q.where.startsWith('runtime.json') &&
              expected(q.where) &&
              !NOT_OLLAMA.some((p) => p.test(q.where)) &&
              q.samples === 0,
          )
          .map((q) => `${q.where}: ${q.expr}`);
        if (emptyProxied.length > 0) await sleep(2000);
      } while (emptyProxied.length > 0 && Date.now() < deadline);
      expect(emptyProxied).toEqual([]);

      // The burn-rate alerts need traffic in their hour; a real node has had it for long.
      const guarded = [...INCIDENT_RUNTIMES.map((r) => r.model), OLLAMA_MODEL];
      const models = guarded.map((m) => m.replace(/[.]/g, '\\\\.')).join('|');
      const guard = `count(model:inferwatch_llm_requests:rate1h{model=~"${models}"} > 0.05)`;
      while ((await stack.query(guard))[0]?.value !== guarded.length && Date.now() < deadline)
        await sleep(1000);
      expect((await stack.query(guard))[0]?.value).toBe(guarded.length);

      // Every runtime the probe answers on has been evaluated once (its baseline), and a
      // steady model is quiet: the alerts below are the Watchdog alone.
      const evaluated = async () =>
        (await stack.query('count(inferwatch_eval_baseline_pass_ratio{suite="builtin"})'))[0]
          ?.value;
      const probed = async () =>
        (await stack.query('count(inferwatch_probe_success{probe="latency"} == 1)'))[0]?.value;
      while ((await evaluated()) !== (await probed()) && Date.now() < deadline) await sleep(1000);
      expect(await evaluated()).toBe(await probed());

      const alerts = await stack.query('ALERTS');
      expect(alerts.map((a) => `${a.metric.alertname} ${a.metric.alertstate}`)).toEqual([
        'Watchdog firing',
      ]);
      expect(webhook.notifications.filter((n) => n.receiver !== 'heartbeat')).toEqual([]);
      const up = await stack.query('up{job="inferwatch"}');
      expect(up.map((s) => s.value)).toEqual([1, 1, 1, 1]);
    }, 150_000);

    it('every alert with a short `for` fires end to end, with its severity and runbook, and is timed', async () => {
      const injected: { injection: Injection; node: SimulatedNode; model?: string }[] = [];
      for (const name of Object.keys(INCIDENTS) as IncidentName[]) {
        if (RELOADING.includes(name)) continue;
        const node =
          name === 'nvidia-smi-hang' ? hung : name === 'slow-first-token' ? proxied : incidents;
        const target = RUNTIME_OF[name];
        const model = target ? node.modelOf(target) : undefined;
        injected.push({
          injection: node.inject(name, target ? { target } : {}),
          node,
          ...(model && { model }),
        });
      }
      // Every short-for alert of the shipped rules is expected from some incident.
      expect(new Set(Object.values(INCIDENTS).flatMap((i) => i.fires))).toEqual(SHORT_FOR);

      /** An alert belongs to an incident when every label both name agrees (SLO alerts carry only the model). */
      const expectations = injected.flatMap(({ injection, node, model }) =>
        INCIDENTS[injection.incident].fires.map((alert) => {
          const labels: Record<string, string> = { alertname: alert, node: node.name };
          if (injection.target !== undefined) labels.target = injection.target;
          if (injection.gpu !== undefined) labels.gpu = String(injection.gpu);
          if (model !== undefined) labels.model = model;
          return { injection, alert, labels };
        }),
      );
      type Expectation = (typeof expectations)[number];
      const belongs = (a: WebhookAlert, e: Expectation) =>
        a.status === 'firing' &&
        a.labels.alertname === e.alert &&
        Object.entries(e.labels).every(([k, v]) => a.labels[k] === undefined || a.labels[k] === v);
      const matches = (n: Notification, e: Expectation) => n.alerts.some((a) => belongs(a, e));
      const pendingSeen = new Set<string>();
      const wantPending = injected.flatMap(({ injection, node }) =>
        INCIDENTS[injection.incident].pending.map((alert) => `${alert} ${node.name}`),
      );
      const deadline = Date.now() + 5 * 60_000;
      let missing = expectations;
      while (Date.now() < deadline) {
        for (const a of await stack.query('ALERTS'))
          pendingSeen.add(`${a.metric.alertname} ${a.metric.node}`);
        missing = expectations.filter((e) => !webhook.notifications.some((n) => matches(n, e)));
        if (missing.length === 0 && wantPending.every((p) => pendingSeen.has(p))) break;
        await sleep(1000);
      }
      expect(missing.map((e) => `${e.injection.incident}: ${e.alert}`)).toEqual([]);
      expect(wantPending.filter((p) => !pendingSeen.has(p))).toEqual([]);

      // Then the incidents that reload the agent: its alerts go pending too.
      for (const name of RELOADING) {
        incidents.inject(name);
        const want = INCIDENTS[name].pending.map((alert) => `${alert} ${incidents.name}`);
        const until = Date.now() + 60_000;
        while (!want.every((p) => pendingSeen.has(p)) && Date.now() < until) {
          for (const a of await stack.query('ALERTS'))
            pendingSeen.add(`${a.metric.alertname} ${a.metric.node}`);
          await sleep(1000);
        }
        expect(want.filter((p) => !pendingSeen.has(p))).toEqual([]);
      }

      const table: string[] = [];
      for (const e of expectations) {
        const notification = webhook.notifications.find((n) => matches(n, e)) as Notification;
        const alert = notification.alerts.find((a) => belongs(a, e));
        const rule = rules.find((r) => r.alert === e.alert) as Rule;
        expect(alert?.labels.severity).toBe(rule.labels?.severity);
        // The link opens the runbook on a live agent: the one the alert names where it has one.
        expect(RUNBOOK_BASE).toBe('');
        const runbook = alert?.annotations.runbook_url ?? '';
        const agents = [...instance.values()].map((a) => `http://${a}/runbooks/${e.alert}.md`);
        expect(agents, runbook).toContain(runbook);
        if (alert?.labels.instance && e.alert !== 'LLMNodeAgentDown')
          expect(runbook).toBe(`http://${alert.labels.instance}/runbooks/${e.alert}.md`);
        const page = await fetch(runbook, { signal: AbortSignal.timeout(5000) });
        expect(page.status, runbook).toBe(200);
        expect(await page.text(), runbook).toContain(`<h1>${e.alert}</h1>`);
        expect(notification.receiver).toBe(
          rule.labels?.severity === 'critical' ? 'pager' : 'ticket',
        );
        table.push(
          `${e.injection.incident.padEnd(18)} ${e.alert.padEnd(34)} ${String(rule.for ?? '0s').padEnd(4)} ${(alert?.labels.severity ?? '').padEnd(9)} ${notification.receiver.padEnd(7)} ${((notification.at - e.injection.at) / 1000).toFixed(1).padStart(6)} s`,
        );
      }
      console.log(
        `Injection to webhook (Alertmanager's group_wait of 30 s included):\n${'incident'.padEnd(18)} ${'alert'.padEnd(34)} for  severity  route   detected\n${table.join('\n')}`,
      );

      // No alert reached a person that no incident explains.
      const unexplained = webhook.notifications
        .filter((n) => n.receiver !== 'heartbeat')
        .flatMap((n) => n.alerts)
        .filter((a) => a.status === 'firing' && !expectations.some((e) => belongs(a, e)))
        .map((a) => JSON.stringify(a.labels));
      expect([...new Set(unexplained)]).toEqual([]);

      // The dead man's switch beats all along. (Prometheus drops what it sends before it has
      // found Alertmanager and resends a minute later, so the first beat can take that long.)
      const beats = webhook.notifications.filter((n) => n.receiver === 'heartbeat');
      expect(beats.length).toBeGreaterThan(0);
      expect(new Set(beats.flatMap((n) => n.alerts.map((a) => a.labels.alertname)))).toEqual(
        new Set(['Watchdog']),
      );

      // The dashboard queries a healthy node leaves empty show what happened.
      const events = (await dashboardData(incidents)).filter((q) =>
        EVENT_QUERIES.some((p) => p.test(q.where)),
      );
      expect(events.length).toBeGreaterThan(0);
      expect(events.filter((q) => q.samples === 0).map((q) => `${q.where}: ${q.expr}`)).toEqual([]);
    }, 420_000);

    it('nvidia-smi hanging: its series are gone, not stale; the collector says it fails; DCGM still speaks', async () => {
      const node = `node="${hung.name}"`;
      for (const family of [
        'utilization_ratio',
        'memory_used_bytes',
        'temperature_celsius',
        'power_draw_watts',
        'clock_hertz',
      ])
        expect(await stack.query(`inferwatch_gpu_${family}{${node}}`), family).toEqual([]);
      const success = await stack.query(
        `inferwatch_collector_success{${node}, collector="nvidia_smi"}`,
      );
      expect(success.map((s) => s.value)).toEqual([0]);
      const errors = await stack.query(
        `increase(inferwatch_source_errors_total{${node}, collector="nvidia_smi"}[5m]) > 0`,
      );
      expect(errors.length).toBeGreaterThan(0);
      expect((await stack.query(`up{${node}}`)).map((s) => s.value)).toEqual([1]);
      // dcgm-exporter still answers for both GPUs, so they are not lost.
      expect(
        (await stack.query(`count(inferwatch_gpu_info{${node}})`)).map((s) => s.value),
      ).toEqual([2]);
      expect(
        (await stack.query(`count(inferwatch_gpu_sm_active_ratio{${node}})`)).map((s) => s.value),
      ).toEqual([2]);
      expect(
        (await stack.query(`count(inferwatch_gpu_info{node="${healthy.name}"})`)).map(
          (s) => s.value,
        ),
      ).toEqual([8]);
    });
  },
);
