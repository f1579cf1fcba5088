import { describe, expect, it } from 'vitest';
import { parseExposition, parseValue } from '../../agent/core/prom-text.js';
import { readFixture } from '../helpers/fixtures.js';

const family = (text: string, name: string) => parseExposition(text).families.get(name);

describe('the exposition parser', () => {
  it('reads HELP and TYPE, and samples under their family', () => {
    const parsed = parseExposition(
      '# HELP a_total Things done.\n# TYPE a_total counter\na_total{x="1"} 3\na_total{x="2"} 4\n',
    );
    const a = parsed.families.get('a_total');
    expect(a?.type).toBe('counter');
    expect(a?.help).toBe('Things done.');
    expect(a?.samples.map((s) => [s.labels.x, s.value])).toEqual([
      ['1', 3],
      ['2', 4],
    ]);
    expect(parsed.badLines).toBe(0);
  });

  it('unescapes label values: backslash, quote and newline', () => {
    const s = family('a{path="C:\\\\dir",q="say \\"hi\\"",n="1\\n2"} 1\n', 'a')?.samples[0];
    expect(s?.labels).toEqual({ path: 'C:\\dir', q: 'say "hi"', n: '1\n2' });
  });

  it('keeps commas, braces and spaces inside quoted values', () => {
    const s = family('a{x="a, b}",y="c d"} 2\n', 'a')?.samples[0];
    expect(s?.labels).toEqual({ x: 'a, b}', y: 'c d' });
    expect(s?.value).toBe(2);
  });

  it('reads NaN, +Inf, -Inf and exponents', () => {
    const parsed = parseExposition(
      'a NaN\nb +Inf\nc -Inf\nd 8.128902e+06\ne 1.7537953269352946e+09\n',
    );
    const v = (n: string) => parsed.families.get(n)?.samples[0]?.value;
    expect(v('a')).toBeNaN();
    expect(v('b')).toBe(Infinity);
    expect(v('c')).toBe(-Infinity);
    expect(v('d')).toBe(8128902);
    expect(v('e')).toBe(1753795326.9352946);
  });

  it('reads timestamps: integer milliseconds (text format) and float seconds (OpenMetrics)', () => {
    const parsed = parseExposition('a 1 1700000000000\nb 2 1700000000.5\n');
    expect(parsed.families.get('a')?.samples[0]?.timestampMs).toBe(1700000000000);
    expect(parsed.families.get('b')?.samples[0]?.timestampMs).toBe(1700000000500);
  });

  it('stops at OpenMetrics # EOF and keeps a counter with its _total and _created samples', () => {
    const parsed = parseExposition(
      '# TYPE c counter\n# UNIT c seconds\nc_total 5\nc_created 1.7e9\n# EOF\nafter_eof 1\n',
    );
    expect(parsed.families.get('c')?.samples.map((s) => s.name)).toEqual(['c_total', 'c_created']);
    expect(parsed.families.has('after_eof')).toBe(false);
  });

  it('skips an exemplar instead of reading it as a timestamp', () => {
    const s = family('# TYPE c counter\nc_total 7 # {trace_id="abc"} 1 1700000000\n', 'c')
      ?.samples[0];
    expect(s?.value).toBe(7);
    expect(s?.timestampMs).toBeUndefined();
  });

  it('keeps counters without _total (TGI, Triton)', () => {
    const tgi = parseExposition(readFixture('runtimes', 'tgi_metrics_datadog-fixture_partial.txt'));
    const success = tgi.families.get('tgi_request_success');
    expect(success?.type).toBe('counter');
    expect(success?.samples[0]?.value).toBe(109);
    expect(tgi.families.get('tgi_request_failure')?.samples[0]?.labels).toEqual({
      err: 'validation',
    });
  });

  it('keeps a family declared with no samples', () => {
    const f = family(
      '# HELP h Latency.\n# TYPE h histogram\n# HELP g A gauge.\n# TYPE g gauge\ng 1\n',
      'h',
    );
    expect(f?.type).toBe('histogram');
    expect(f?.samples).toEqual([]);
  });

  it('groups _sum before _bucket under one histogram (SGLang prints that order)', () => {
    const parsed = parseExposition(
      readFixture('runtimes', 'sglang_metrics_llama-3.1-8b_docs-example.txt'),
    );
    const ttft = parsed.families.get('sglang_time_to_first_token_seconds');
    expect(ttft?.type).toBe('histogram');
    expect(ttft?.samples[0]?.name).toBe('sglang_time_to_first_token_seconds_sum');
    expect(ttft?.samples.filter((s) => s.name.endsWith('_bucket')).length).toBeGreaterThan(5);
    // The docs' block starts with the shell command: one bad line, skipped and counted.
    expect(parsed.badLines).toBe(1);
    expect(parsed.firstProblem).toMatch(/^line 1:/);
  });

  it('finds names with ":" and with ":" rewritten to "_" under one key', () => {
    expect(
      family('vllm:num_requests_running{engine="0"} 3\n', 'vllm_num_requests_running')?.rawName,
    ).toBe('vllm:num_requests_running');
    expect(
      family('vllm_num_requests_running{engine="0"} 3\n', 'vllm_num_requests_running'),
    ).toBeDefined();
  });

  it("reads Prometheus 3's quoted UTF-8 names", () => {
    const s = family('{"my.metric", "label.name"="v"} 4\n', 'my.metric')?.samples[0];
    expect(s?.labels).toEqual({ 'label.name': 'v' });
    expect(s?.value).toBe(4);
  });

  it('skips and counts lines that do not parse, and keeps the rest', () => {
    const parsed = parseExposition(
      'good 1\nbad{x=unquoted} 1\nalso_bad 1 2 3\nno_value\nworse{x="1" 2\nfine 2\nnum 0x1F\n',
    );
    expect(parsed.badLines).toBe(5);
    expect([...parsed.families.keys()]).toEqual(['good', 'fine']);
  });

  it('reads CRLF line ends and blank lines', () => {
    const parsed = parseExposition('# TYPE a gauge\r\n\r\na 1\r\n');
    expect(parsed.families.get('a')?.samples[0]?.value).toBe(1);
    expect(parsed.badLines).toBe(0);
  });

  it('does not take text that is not the format for metrics', () => {
    const parsed = parseExposition('<html><body>Not Found</body></html>\n');
    expect(parsed.sampleCount).toBe(0);
    expect(parsed.badLines).toBe(1);
  });

  it('parses values the way Go ParseFloat does, and rejects the rest', () => {
    expect(parseValue('1')).toBe(1);
    expect(parseValue('-0.5')).toBe(-0.5);
    expect(parseValue('.5')).toBe(0.5);
    expect(parseValue('1e3')).toBe(1000);
    expect(parseValue('Inf')).toBe(Infinity);
    expect(parseValue('')).toBeUndefined();
    expect(parseValue('1,5')).toBeUndefined();
    expect(parseValue('abc')).toBeUndefined();
  });
});
