import * as M from '../metrics.js';
import { promql } from '../promql.js';
import { QUALITY_ALERTS } from './quality.js';
import {
  type PanelContext,
  query,
  stat,
  table,
  tableColumns,
  tableQuery,
  thresholds,
  timeseries,
} from '../../../dashboards/src/common.js';

/** The quality area's panels, placed by the dashboards in dashboards/src (see PanelContext). */
export const QUALITY_PANELS = {
  evaluationPassRatio: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Evaluation pass ratio',
      description:
        "Share of each evaluation suite's cases the model answered right in its last complete run, and the baseline it is compared with. Runs follow every change of model, runtime version, GPU driver or chat template (the annotations), and the schedule.",
      unit: 'percentunit',
      width: 18,
      min: 0,
      max: 1,
      queries: [
        query(
          promql`${M.quality.EVAL_PASS_RATIO}{${p.sel.picked}}`,
          '{{suite}} {{model}} on {{target}}',
          'A',
        ),
        query(
          promql`${M.quality.EVAL_BASELINE}{${p.sel.picked}}`,
          'baseline {{suite}} {{model}} on {{target}}',
          'B',
        ),
      ],
      links: [p.link(QUALITY_ALERTS.qualityRegression)],
    }),
  changeAgainstBaseline: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Change against baseline',
      description:
        'Last pass ratio less the baseline, per suite and model (the page needs the drop to be more than chance as well).',
      unit: 'percentunit',
      width: 6,
      height: 8,
      queries: [query(promql`${M.quality.EVAL_CHANGE}{${p.sel.picked}}`, '{{suite}} {{model}}')],
      thresholds: thresholds([
        [null, 'red'],
        [-0.1, 'orange'],
        [0, 'green'],
      ]),
      links: [p.link(QUALITY_ALERTS.qualityRegression)],
    }),
  failingEvaluationCases: (p: PanelContext<'picked'>) =>
    table({
      title: 'Failing evaluation cases',
      description:
        "Cases of the last complete runs that failed every time they were asked (fail) or some of the times (flaky), by id: the prompts are in the suite's file and never leave the node.",
      unit: 'none',
      height: 8,
      queries: [
        tableQuery(
          promql`group by (instance, suite, target, model, case, result) (${M.quality.EVAL_CASE_FAILING}{${p.sel.picked}})`,
          'A',
        ),
      ],
      // A row per failing case says it all: the value is a constant 1.
      transformations: [tableColumns({}, ['Value'])],
      links: [p.link(QUALITY_ALERTS.qualityRegression)],
    }),
  answerQuality: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Answer quality',
      description:
        "Share of the evaluation's questions with known answers each model got right, its worst suite on its worst node: it falls when an upgrade makes a model answer worse, however fast it still is.",
      unit: 'percentunit',
      width: 18,
      min: 0,
      max: 1,
      queries: [
        query(promql`min by (model) (${M.quality.EVAL_PASS_RATIO}{${p.sel.picked}})`, '{{model}}'),
      ],
      links: [p.link(QUALITY_ALERTS.qualityRegression)],
    }),
};
