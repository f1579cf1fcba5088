/** A uniform random number in [0, 1): injected, so a seeded simulation replays exactly. */
export type Random = () => number;

/** mulberry32: small, fast and good enough to make traffic look like traffic. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How many events of a Poisson process with this mean happen (Knuth; the means here are small). */
export function poisson(mean: number, random: Random): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * (random() * 2 - 1)));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}

/** Uniform in [low, high). */
export const between = (random: Random, low: number, high: number): number =>
  low + (high - low) * random();
