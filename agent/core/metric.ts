/** A metric family a collector may emit. Declared once, so the README reference can be generated. */
export interface MetricDef {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly labelNames: readonly string[];
}

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

export function gauge(name: string, help: string, labelNames: readonly string[] = []): MetricDef {
  return Object.freeze({ name, help, type: 'gauge', labelNames: Object.freeze([...labelNames]) });
}

export function counter(name: string, help: string, labelNames: readonly string[] = []): MetricDef {
  if (!name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
  return Object.freeze({ name, help, type: 'counter', labelNames: Object.freeze([...labelNames]) });
}
