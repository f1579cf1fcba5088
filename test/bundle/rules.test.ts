import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { metricCatalogue } from '../../agent/docs/reference.js';
import { ConfigError } from '../../agent/config/load.js';
import { AREAS } from '../../alerts/src/areas/index.js';
import { readRunbooks } from '../../alerts/src/generate.js';
import { runbookPage, runbookPagesModule } from '../../alerts/src/runbook-pages.js';
import { rulesText } from '../../alerts/src/rules.js';
import { parseSettings } from '../../alerts/src/settings.js';
import type { AlertRule, RecordRule, RuleGroup } from '../../alerts/src/rule.js';
import { ROOT } from '../helpers/fixtures.js';
import { requireTool } from '../helpers/tools.js';

const ALERTS = join(ROOT, 'alerts');
const RUNBOOKS = join(ROOT, 'runbooks');
const RULES_FILE = join(ALERTS, 'inferwatch.rules.yml');
const SETTINGS_TEXT = readFileSync(join(ALERTS, 'settings.yaml'), 'utf8');
const groups = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: RuleGroup[] }).groups;
const rules = groups.flatMap((g) => g.rules);
const alerts = rules.filter((r): r is AlertRule => 'alert' in r);
const records = rules.filter((r): r is RecordRule => 'record' in r);
const alertNames = [...new Set(alerts.map((a) => a.alert))];
const TEST_FILES = readdirSync(join(ALERTS, 'tests')).filter((f) => f.endsWith('.test.yml'));
const RUNBOOK_SECTIONS = [
  'Meaning',
  'Impact',
  'Diagnosis',
  'Mitigation',
  'Escalation',
  'Related alerts',
];

describe('the rule file', () => {
  it('is what alerts/settings.yaml generates (run `npm run bundle`)', () => {
    expect(readFileSync(RULES_FILE, 'utf8')).toBe(
      rulesText(parseSettings(SETTINGS_TEXT, 'settings.yaml')),
    );
  });

  it('passes promtool check rules with every lint, and promtool test rules', (ctx) => {
    if (!requireTool('promtool', 'prometheus', () => ctx.skip())) return;
    execFileSync('promtool', ['check', 'rules', '--lint=all', '--lint-fatal', RULES_FILE], {
      encoding: 'utf8',
    });
    const run = spawnSync(
      'promtool',
      ['test', 'rules', ...TEST_FILES.map((f) => join(ALERTS, 'tests', f))],
      {
        encoding: 'utf8',
      },
    );
    expect(run.stdout + run.stderr).not.toContain('FAILED');
    expect(run.status).toBe(0);
    // promtool evaluates every test's series over hours of rule time: about 20 s alone, more
    // while the other bundle test runs its own.
  }, 120_000);

  it('names, labels and annotates every alert as the conventions say', () => {
    expect(alertNames.length).toBeGreaterThanOrEqual(24);
    for (const a of alerts) {
      expect(a.alert === 'Watchdog' || /^LLMNode[A-Z][A-Za-z]+$/.test(a.alert), a.alert).toBe(true);
      expect(a.alert.length, a.alert).toBeLessThanOrEqual(40);
      expect(['critical', 'warning', 'none'], a.alert).toContain(a.labels.severity);
      expect(a.labels.component, a.alert).toMatch(
        /^(gpu|runtime|slo|probe|quality|host|agent|cost)$/,
      );
      expect(a.annotations.summary, a.alert).toMatch(/\S/);
      expect(a.annotations.summary, `${a.alert}: a summary is static`).not.toContain('{{');
      expect(a.annotations.description, a.alert).toMatch(/\S/);
      // By default each link is filled in when the alert fires, on a live agent (the promtool
      // tests show which); the page it names is one the agents serve.
      expect(a.annotations.runbook_url, a.alert).toContain(`/runbooks/${a.alert}.md`);
      expect(a.annotations.runbook_url, a.alert).toMatch(/^\{\{ with query /);
    }
  });

  it('reads only metrics the agent exports or a rule records', () => {
    const exported = new Set(
      metricCatalogue().flatMap(({ def }) =>
        def.type === 'histogram'
          ? [`${def.name}_bucket`, `${def.name}_count`, `${def.name}_sum`]
          : [def.name],
      ),
    );
    const recorded = new Set(records.map((r) => r.record));
    const read = new Set<string>();
    for (const rule of rules) {
      const tree = parser.parse(rule.expr);
      tree.iterate({
        enter(node) {
          expect(
            node.type.isError,
            `${'alert' in rule ? rule.alert : rule.record}: ${rule.expr}`,
          ).toBe(false);
          if (node.name === 'VectorSelector') {
            const id = node.node.getChild('Identifier');
            if (id) read.add(rule.expr.slice(id.from, id.to));
          }
        },
      });
    }
    expect(read.size).toBeGreaterThan(20);
    for (const name of read) {
      // `up` is Prometheus's own: the scrape of the agent and of node_exporter.
      expect(exported.has(name) || recorded.has(name) || name === 'up', name).toBe(true);
    }
  });
});

describe('the promtool tests', () => {
  const cases = TEST_FILES.flatMap((f) => {
    const doc = parse(readFileSync(join(ALERTS, 'tests', f), 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    return doc.tests.flatMap((t) => t.alert_rule_test ?? []);
  });

  it('show every alert firing, and not firing (before its for, or when healthy)', () => {
    for (const name of alertNames) {
      expect(
        cases.some((c) => c.alertname === name && c.exp_alerts.length > 0),
        `${name} fires`,
      ).toBe(true);
      if (name !== 'Watchdog')
        expect(
          cases.some((c) => c.alertname === name && c.exp_alerts.length === 0),
          `${name} stays quiet`,
        ).toBe(true);
    }
  });
});

describe('the areas', () => {
  const casesIn = (file: string) =>
    (
      parse(readFileSync(join(ALERTS, 'tests', file), 'utf8')) as {
        tests: { alert_rule_test?: { alertname: string }[] }[];
      }
    ).tests.flatMap((t) => t.alert_rule_test ?? []);

  it('declare every alert of the rule file once, and test each in their own promtool files', () => {
    const declared = AREAS.flatMap((a) => a.alerts.map((alert) => alert.name));
    expect([...declared].sort()).toEqual([...alertNames].sort());
    for (const area of AREAS) {
      const tested = new Set(area.tests.flatMap((f) => casesIn(f).map((c) => c.alertname)));
      for (const alert of area.alerts)
        expect(tested, `${area.name}: ${alert.name}`).toContain(alert.name);
    }
    expect(new Set(AREAS.flatMap((a) => a.tests))).toEqual(new Set(TEST_FILES));
  });

  it('label each alert with the severity and component it declares', () => {
    for (const alert of AREAS.flatMap((a) => a.alerts))
      for (const rule of alerts.filter((r) => r.alert === alert.name)) {
        expect(rule.labels.component, alert.name).toBe(alert.component);
        // The burn-rate tiers: the slow ones open a ticket.
        if (rule.labels.severity !== alert.severity)
          expect([alert.name, rule.labels.severity]).toEqual([alert.name, 'warning']);
      }
  });
});

describe('the runbooks', () => {
  const files = readdirSync(RUNBOOKS).filter((f) => f.endsWith('.md') && f !== 'README.md');

  it('one per alert, named after it, with every section, and none without an alert', () => {
    for (const name of alertNames) expect(files, name).toContain(`${name}.md`);
    for (const file of files) {
      expect(alertNames, `${file} has no alert`).toContain(file.replace(/\.md$/, ''));
      const text = readFileSync(join(RUNBOOKS, file), 'utf8');
      expect(text.split('\n')[0], file).toBe(`# ${file.replace(/\.md$/, '')}`);
      for (const section of RUNBOOK_SECTIONS)
        expect(text, `${file}: ${section}`).toMatch(new RegExp(`^## ${section}$`, 'm'));
      // Diagnosis gives something to run, not only words.
      const diagnosis = text.split(/^## Diagnosis$/m)[1]?.split(/^## /m)[0] ?? '';
      expect(diagnosis, `${file}: a command or query in Diagnosis`).toMatch(/```/);
    }
  });

  it('give queries to paste into Prometheus: no Grafana variable, each placeholder named, each line valid PromQL', () => {
    for (const file of files) {
      const text = readFileSync(join(RUNBOOKS, file), 'utf8');
      const named = new Set(
        [
          ...(/^Put the alert's labels in for (.*), then paste/m.exec(text)?.[1] ?? '').matchAll(
            /`<(\w+)>`/g,
          ),
        ].map((m) => m[1]),
      );
      for (const block of text.matchAll(/```promql\n([\s\S]*?)```/g)) {
        // One query a line; an indented line, or one closing a bracket, goes on with the one above.
        const queries = (block[1] ?? '')
          .replace(/\n(?=\s|\))/g, ' ')
          .split('\n')
          .filter(Boolean);
        for (const line of queries) {
          expect(line, `${file}: a Grafana variable`).not.toMatch(/\$[a-z_]/);
          for (const [, label] of line.matchAll(/"<(\w+)>"/g))
            expect(named, `${file}: <${label}> is not named before the query`).toContain(label);
          const filled = line.replace(/<(\w+)>/g, 'x');
          let error = '';
          parser.parse(filled).iterate({
            enter(node) {
              if (node.type.isError) error ||= filled.slice(node.from, node.to + 10);
            },
          });
          expect(error, `${file}: ${line}`).toBe('');
        }
      }
    }
  });

  it('are the pages every agent serves at /runbooks/ (run `npm run bundle`)', async () => {
    const pages = [...(await readRunbooks(RUNBOOKS))].map(([alert, text]) =>
      runbookPage(alert, text),
    );
    expect(pages.map((p) => p.alert).sort()).toEqual([...alertNames].sort());
    expect(readFileSync(join(ROOT, 'agent/server/runbook-pages.ts'), 'utf8')).toBe(
      runbookPagesModule(pages),
    );
    expect(() => runbookPage('LLMNodeGPULost', '# Another\n')).toThrow(
      /must be "# LLMNodeGPULost"/,
    );
  });

  it('link related alerts that exist', () => {
    for (const file of files) {
      const related =
        readFileSync(join(RUNBOOKS, file), 'utf8').split(/^## Related alerts$/m)[1] ?? '';
      const links = [...related.matchAll(/\]\(([^)]+)\.md\)/g)];
      // Every alert but the heartbeat has neighbours worth naming.
      if (file !== 'Watchdog.md')
        expect(links.length, `${file} links a related alert`).toBeGreaterThan(0);
      for (const [, link] of links) expect(alertNames, `${file} links ${link}`).toContain(link);
    }
  });
});

describe('the Alertmanager example', () => {
  const config = join(ALERTS, 'alertmanager.example.yml');

  it('passes amtool check-config and routes each severity to its receiver', (ctx) => {
    if (!requireTool('amtool', 'prometheus-alertmanager', () => ctx.skip())) return;
    expect(execFileSync('amtool', ['check-config', config], { encoding: 'utf8' })).toContain(
      'SUCCESS',
    );
    const route = (...labels: string[]) =>
      execFileSync('amtool', ['config', 'routes', 'test', `--config.file=${config}`, ...labels], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    expect(route('alertname=LLMNodeGPUXidFatal', 'severity=critical', 'node=n1')).toBe('pager');
    expect(route('alertname=LLMNodeRuntimeDown', 'severity=warning', 'node=n1')).toBe('ticket');
    expect(route('alertname=Watchdog', 'severity=none')).toBe('heartbeat');
    expect(route('alertname=Something', 'severity=info')).toBe('blackhole');
  });

  it('inhibits what the issue asks: node down, GPU lost, a page over its ticket', () => {
    const am = parse(readFileSync(config, 'utf8')) as {
      inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[];
    };
    const by = (source: string) => am.inhibit_rules.find((r) => r.source_matchers.includes(source));
    expect(by('alertname="LLMNodeHostDown"')?.equal).toEqual(['node']);
    expect(by('alertname="LLMNodeGPULost"')?.equal).toEqual(['instance', 'uuid']);
    expect(by('severity="critical"')).toMatchObject({
      target_matchers: ['severity="warning"'],
      equal: ['alertname', 'instance', 'model'],
    });
    // Every alert the inhibitions name exists.
    for (const rule of am.inhibit_rules)
      for (const m of [...rule.source_matchers, ...rule.target_matchers])
        for (const [, name] of m.matchAll(/(LLMNode\w+|Watchdog)/g))
          expect(alertNames, m).toContain(name);
  });
});

describe('settings', () => {
  it('an invalid file names each bad field', () => {
    const bad = SETTINGS_TEXT.replace('ttft_seconds: 2.5', 'ttft_seconds: 3').replace(
      'availability_objective: 0.995',
      'availability_objective: 99.5',
    );
    expect(() => parseSettings(bad, 'mine.yaml')).toThrow(ConfigError);
    try {
      parseSettings(bad, 'mine.yaml');
    } catch (error) {
      expect((error as Error).message).toContain('slo.availability_objective');
    }
    const notBucket = SETTINGS_TEXT.replace('ttft_seconds: 2.5', 'ttft_seconds: 3');
    expect(() => parseSettings(notBucket, 'mine.yaml')).toThrow(
      /slo.ttft_seconds: must be a bucket boundary/,
    );
    expect(() => parseSettings(`${SETTINGS_TEXT}\nextra: 1\n`, 'mine.yaml')).toThrow(/extra/);
  });

  it("a user's own thresholds give their own rules, still valid, without touching the shipped ones", (ctx) => {
    const mine = SETTINGS_TEXT.replace('ttft_seconds: 2.5', 'ttft_seconds: 5')
      .replace('ttft_objective: 0.99', 'ttft_objective: 0.95')
      .replace("runbook_base_url: ''", 'runbook_base_url: https://wiki.example.com/llm/runbooks/');
    const dir = mkdtempSync(join(tmpdir(), 'inferwatch-rules-'));
    writeFileSync(join(dir, 'settings.yaml'), mine);
    const out = execFileSync(
      process.execPath,
      [
        join(ROOT, 'dist/alerts/src/generate.js'),
        '--settings',
        join(dir, 'settings.yaml'),
        '--out',
        dir,
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(out).toContain(join(dir, 'inferwatch.rules.yml'));
    const text = readFileSync(join(dir, 'inferwatch.rules.yml'), 'utf8');
    // One settings file for the whole bundle: the dashboards' alert links and the manifests'
    // rules take the same runbook base.
    const runtime = readFileSync(join(dir, 'dashboards/runtime.json'), 'utf8');
    expect(runtime).toContain('https://wiki.example.com/llm/runbooks/LLMNodeTTFTBudgetBurn.md');
    expect(runtime).not.toContain('runbook_agent');
    const manifests = readFileSync(join(dir, 'kubernetes/inferwatch.yaml'), 'utf8');
    expect(manifests).toContain('https://wiki.example.com/llm/runbooks/LLMNodeTTFTBudgetBurn.md');
    expect(manifests).not.toContain('inferwatch_web_info');
    expect(text).toContain('inferwatch_llm_time_to_first_token_seconds_bucket{le="5"}');
    expect(text).toContain('slo:sli_error:ratio_rate1h{slo="ttft"} > 0.72');
    expect(text).toContain(
      'runbook_url: https://wiki.example.com/llm/runbooks/LLMNodeTTFTBudgetBurn.md',
    );
    const bad = spawnSync(
      process.execPath,
      [
        join(ROOT, 'dist/alerts/src/generate.js'),
        '--settings',
        join(ROOT, 'package.json'),
        '--out',
        dir,
      ],
      { encoding: 'utf8' },
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('invalid configuration');
    const usage = spawnSync(
      process.execPath,
      [join(ROOT, 'dist/alerts/src/generate.js'), '--thresholds', 'x'],
      {
        encoding: 'utf8',
      },
    );
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: npm run bundle');
    if (!requireTool('promtool', 'prometheus', () => ctx.skip())) return;
    execFileSync('promtool', ['check', 'rules', join(dir, 'inferwatch.rules.yml')], {
      encoding: 'utf8',
    });
  });
});
