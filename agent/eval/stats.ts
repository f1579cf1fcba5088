export const CONFIDENCE_LEVELS = [0.9, 0.95, 0.99] as const;
export type Confidence = (typeof CONFIDENCE_LEVELS)[number];

/** Two-sided standard normal quantiles. */
const Z: Readonly<Record<Confidence, number>> = { 0.9: 1.6449, 0.95: 1.96, 0.99: 2.5758 };

export interface Interval {
  readonly lower: number;
  readonly upper: number;
}

/**
 * The Wilson score interval of a pass ratio over `n` cases: the cases are a sample of the
 * questions users ask, so 11 of 12 says less than 110 of 120. Unlike the normal approximation
 * it stays inside 0..1 and is not degenerate at 0 or 1 passes.
 */
export function wilson(ratio: number, n: number, confidence: Confidence): Interval {
  if (n <= 0) return { lower: 0, upper: 1 };
  const z = Z[confidence];
  const z2 = z * z;
  const centre = ratio + z2 / (2 * n);
  const spread = z * Math.sqrt((ratio * (1 - ratio)) / n + z2 / (4 * n * n));
  const scale = 1 + z2 / n;
  // At 0 or 1 the bound on that side is exact; rounding must not move it.
  return {
    lower: ratio <= 0 ? 0 : Math.max(0, (centre - spread) / scale),
    upper: ratio >= 1 ? 1 : Math.min(1, (centre + spread) / scale),
  };
}
