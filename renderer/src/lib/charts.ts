/** Metric series as uPlot wants them: one shared x (kimg) and a y array per line, null for a gap. */
import type uPlot from 'uplot';

/** A metric series: [kimg, value | null][] in kimg order. */
export type Series = Array<[number, number | null]>;

/**
 * Aligns the named series on the union of their kimg values: [xs, ys₁, ys₂, …]. A series without a
 * point at some kimg (R1 is lazy; a name reported only by some ticks) gets null there.
 */
export function alignSeries(series: ReadonlyMap<string, Series>, names: readonly string[]): uPlot.AlignedData {
  const lists = names.map((n) => series.get(n) ?? []);
  const longest = lists.reduce<Series>((a, b) => (b.length > a.length ? b : a), []);
  // The usual case: every series has a point at every tick.
  if (lists.every((l) => l.length === 0 || (l.length === longest.length && l.every((p, i) => p[0] === longest[i]![0])))) {
    return [longest.map((p) => p[0]), ...lists.map((l) => (l.length === 0 ? longest.map(() => null) : l.map((p) => p[1])))];
  }
  const xs = [...new Set(lists.flatMap((l) => l.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = lists.map((l) => {
    const y: Array<number | null> = new Array<number | null>(xs.length).fill(null);
    for (const [x, v] of l) y[index.get(x)!] = v;
    return y;
  });
  return [xs, ...ys];
}

/** The last value that is not a gap, or null. */
export function lastValue(values: ArrayLike<number | null | undefined>): number | null {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && v !== undefined && Number.isFinite(v)) return v;
  }
  return null;
}

/** One line of a chart. */
export interface ChartLine {
  /** Series name in the run ('Loss/G'). */
  name: string;
  /** What the legend calls it. */
  label: string;
  /** A custom property holding its colour ('--chart-1'). */
  colour: string;
  /** 'y' (left axis, default) or 'y2' (right axis). */
  scale?: 'y' | 'y2';
  dashed?: boolean;
}
