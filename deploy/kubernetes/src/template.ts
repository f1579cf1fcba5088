import { stringify } from 'yaml';

/**
 * The part of Helm's template language the inferwatch chart uses, and nothing more: a chart
 * template is rendered here for the plain manifests exactly as `helm template` renders it for
 * a release, so the two cannot drift. Any other action is an error, so a template cannot use
 * what this renderer has not been taught.
 *
 *   {{ .Values.a.b }}  {{ .Release.Name }}  {{ .Release.Namespace }}  {{ .Chart.AppVersion }}
 *   {{ $var }}  {{ $.Values.x }}        pipelines with | quote, default X, toYaml, indent N,
 *   nindent N, and `.Files.Get "path"` or `$.Files.Get (printf "fmt/%s.yml" $var)`
 *   {{- if X }} {{- if not X }} {{- if eq X "lit" }} {{- else }} {{- end }}
 *   {{- range $var := .Values.list }} ... {{- end }}       and template comments
 * `{{-` and `-}}` trim the white space before and after, as in Go templates.
 */
export interface RenderContext {
  readonly Values: Readonly<Record<string, unknown>>;
  readonly Release: { readonly Name: string; readonly Namespace: string };
  readonly Chart: { readonly Name: string; readonly Version: string; readonly AppVersion: string };
  readonly files: ReadonlyMap<string, string>;
}

export class TemplateError extends Error {}

type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'print'; readonly expr: string }
  | {
      readonly kind: 'if';
      readonly cond: string;
      readonly then: Node[];
      readonly otherwise: Node[];
    }
  | {
      readonly kind: 'range';
      readonly variable: string;
      readonly list: string;
      readonly body: Node[];
    };

/** Text and actions, white space trimmed where the action asks for it. */
function tokenize(template: string): { text: string[]; actions: string[] } {
  const text: string[] = [];
  const actions: string[] = [];
  let at = 0;
  let trimNext = false;
  for (;;) {
    const open = template.indexOf('{{', at);
    let chunk = template.slice(at, open < 0 ? undefined : open);
    if (trimNext) chunk = chunk.replace(/^\s+/, '');
    if (open < 0) {
      text.push(chunk);
      return { text, actions };
    }
    const close = template.indexOf('}}', open);
    if (close < 0) throw new TemplateError('an action is not closed');
    let action = template.slice(open + 2, close);
    if (action.startsWith('-')) {
      chunk = chunk.replace(/\s+$/, '');
      action = action.slice(1);
    }
    trimNext = action.endsWith('-');
    if (trimNext) action = action.slice(0, -1);
    text.push(chunk);
    actions.push(action.trim());
    at = close + 2;
  }
}

function parse(template: string): Node[] {
  const { text, actions } = tokenize(template);
  const root: Node[] = [];
  const stack: {
    nodes: Node[];
    node?: Extract<Node, { kind: 'if' | 'range' }>;
    inElse?: boolean;
  }[] = [{ nodes: root }];
  const top = () => stack[stack.length - 1] as (typeof stack)[number];
  for (let i = 0; i < actions.length; i++) {
    if (text[i]) top().nodes.push({ kind: 'text', text: text[i] as string });
    const action = actions[i] as string;
    if (action.startsWith('/*')) continue;
    let m: RegExpExecArray | null;
    if ((m = /^if (.+)$/.exec(action))) {
      const node = { kind: 'if' as const, cond: m[1] as string, then: [], otherwise: [] };
      top().nodes.push(node);
      stack.push({ nodes: node.then, node });
    } else if ((m = /^range (\$\w+) := (.+)$/.exec(action))) {
      const node = {
        kind: 'range' as const,
        variable: m[1] as string,
        list: m[2] as string,
        body: [],
      };
      top().nodes.push(node);
      stack.push({ nodes: node.body, node });
    } else if (action === 'else') {
      const frame = top();
      if (frame.node?.kind !== 'if' || frame.inElse) throw new TemplateError('else outside if');
      stack[stack.length - 1] = { nodes: frame.node.otherwise, node: frame.node, inElse: true };
    } else if (action === 'end') {
      if (stack.length === 1) throw new TemplateError('end without a block');
      stack.pop();
    } else top().nodes.push({ kind: 'print', expr: action });
  }
  if (text[actions.length])
    top().nodes.push({ kind: 'text', text: text[actions.length] as string });
  if (stack.length !== 1) throw new TemplateError('a block is not ended');
  return root;
}

/** Variables in scope; `.` is the item inside a range (in Helm), so `.Values` is not there. */
type Scope = ReadonlyMap<string, unknown>;
const IN_RANGE = '.';

function lookup(path: string, ctx: RenderContext, scope: Scope): unknown {
  if (path.startsWith('$') && !path.startsWith('$.')) {
    if (!scope.has(path)) throw new TemplateError(`unknown variable ${path}`);
    return scope.get(path);
  }
  if (path.startsWith('.') && scope.has(IN_RANGE))
    throw new TemplateError(`${path} inside a range: the dot is the item there, use $${path}`);
  const parts = path.replace(/^\$?\./, '').split('.');
  const roots: Record<string, unknown> = {
    Values: ctx.Values,
    Release: ctx.Release,
    Chart: ctx.Chart,
  };
  if (!((parts[0] as string) in roots)) throw new TemplateError(`unknown value ${path}`);
  let value: unknown = roots;
  for (const part of parts) value = (value as Record<string, unknown> | undefined)?.[part];
  return value;
}

/** Go templates' truth: false, 0, '', nil and empty lists and maps are false. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

function print(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') throw new TemplateError('a map or list printed without toYaml');
  return String(value);
}

/** Helm's toYaml: sorted keys (it goes through JSON), its trailing newline trimmed. */
export function toYaml(value: unknown): string {
  return stringify(value, { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, '');
}

const indent = (n: number, text: string) =>
  text
    .split('\n')
    .map((line) => ' '.repeat(n) + line)
    .join('\n');

/** One argument: a quoted string, a number, a value path, or a parenthesised printf. */
function argument(token: string, ctx: RenderContext, scope: Scope): unknown {
  if (/^".*"$/.test(token)) return JSON.parse(token) as string;
  if (/^\d+$/.test(token)) return Number(token);
  const printf = /^\(printf "([^"]*)" (\$\w+)\)$/.exec(token);
  if (printf)
    return (printf[1] as string).replace('%s', print(lookup(printf[2] as string, ctx, scope)));
  return lookup(token, ctx, scope);
}

function tokens(expr: string): string[] {
  return expr.match(/\([^)]*\)|"[^"]*"|\S+/g) ?? [];
}

function evaluate(expr: string, ctx: RenderContext, scope: Scope): unknown {
  const stages = expr.split(/ \| /);
  let value: unknown;
  for (const [i, stage] of stages.entries()) {
    const [fn, ...args] = tokens(stage);
    const arg = (n: number) => argument(args[n] as string, ctx, scope);
    const piped = i > 0;
    switch (fn) {
      case 'toYaml':
        value = toYaml(piped ? value : arg(0));
        break;
      case 'quote':
        value = JSON.stringify(print(piped ? value : arg(0)));
        break;
      case 'indent':
      case 'nindent': {
        const text = print(piped ? value : arg(1));
        value = (fn === 'nindent' ? '\n' : '') + indent(Number(arg(0)), text);
        break;
      }
      case 'default':
        value = truthy(piped ? value : arg(1)) ? (piped ? value : arg(1)) : arg(0);
        break;
      case 'not':
        value = !truthy(arg(0));
        break;
      case 'eq':
        value = arg(0) === arg(1);
        break;
      case '.Files.Get':
      case '$.Files.Get': {
        const path = print(arg(0));
        const file = ctx.files.get(path);
        if (file === undefined) throw new TemplateError(`no file ${path} in the chart`);
        value = file;
        break;
      }
      default:
        if (piped || args.length > 0 || fn === undefined)
          throw new TemplateError(`unsupported action: ${expr}`);
        value = argument(fn, ctx, scope);
    }
  }
  return value;
}

function run(nodes: readonly Node[], ctx: RenderContext, scope: Scope): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'print') out += print(evaluate(node.expr, ctx, scope));
    else if (node.kind === 'if')
      out += run(truthy(evaluate(node.cond, ctx, scope)) ? node.then : node.otherwise, ctx, scope);
    else {
      const list = evaluate(node.list, ctx, scope);
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list))
        throw new TemplateError(`range over what is not a list: ${node.list}`);
      for (const item of list)
        out += run(node.body, ctx, new Map([...scope, [node.variable, item], [IN_RANGE, item]]));
    }
  }
  return out;
}

export function render(template: string, ctx: RenderContext): string {
  return run(parse(template), ctx, new Map());
}
