import { parser } from '@prometheus-io/lezer-promql';

/** One text edit: `insert` at `at` (offsets of the original text). */
interface Edit {
  readonly at: number;
  readonly insert: string;
}

function applied(expr: string, edits: Edit[]): string {
  let out = expr;
  for (const { at, insert } of [...edits].sort((a, b) => b.at - a.at))
    out = out.slice(0, at) + insert + out.slice(at);
  return out;
}

/** `(a, b)` becomes `(label, a, b)`; `()` becomes `(label)`. */
function into(groupingFrom: number, groupingTo: number, expr: string, label: string): Edit {
  const empty = expr.slice(groupingFrom + 1, groupingTo - 1).trim() === '';
  return { at: groupingFrom + 1, insert: empty ? label : `${label}, ` };
}

/**
 * The expression with `label` kept through every aggregation and one-to-one join, as the
 * monitoring mixins do for multi-cluster setups: `by (...)` and `on (...)` get it, and an
 * aggregation with neither `by` nor `without` gets `by (label)`. `without` and `ignoring`
 * keep it already.
 */
export function keepLabel(expr: string, label: string): string {
  const edits: Edit[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.name === 'AggregateExpr') {
        const modifier = node.node.getChild('AggregateModifier');
        if (!modifier) {
          const op = node.node.getChild('AggregateOp');
          if (op)
            edits.push({
              at: op.to,
              insert: ` by (${label})${expr[op.to] === '(' ? ' ' : ''}`,
            });
        } else if (modifier.getChild('By')) {
          const grouping = modifier.getChild('GroupingLabels');
          if (grouping) edits.push(into(grouping.from, grouping.to, expr, label));
        }
      } else if (node.name === 'MatchingModifierClause' && node.node.getChild('On')) {
        // The first grouping is on (...); a second one belongs to group_left/group_right.
        const grouping = node.node.getChild('GroupingLabels');
        if (grouping) edits.push(into(grouping.from, grouping.to, expr, label));
      }
    },
  });
  return applied(expr, edits);
}

/** The expression with every selector narrowed by `matcher` (`cluster="$cluster"`). */
export function narrowed(expr: string, matcher: string): string {
  const edits: Edit[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.name !== 'VectorSelector') return;
      const matchers = node.node.getChild('LabelMatchers');
      if (matchers) {
        const empty = expr.slice(matchers.from + 1, matchers.to - 1).trim() === '';
        edits.push({ at: matchers.from + 1, insert: empty ? matcher : `${matcher}, ` });
      } else {
        const name = node.node.getChild('Identifier');
        if (name) edits.push({ at: name.to, insert: `{${matcher}}` });
      }
      return false;
    },
  });
  return applied(expr, edits);
}
