/**
 * A run's selection history read back from a checkpoint's state, without TensorFlow.js (the
 * service shows it): each judge's state (core/vision/judge.ts, stored under its name
 * `vision.<backbone>` in the loop state's `extras`) remembers the selection that added it.
 */
import type { VisionSelection } from '../api/vision.js';

/** The selections in a checkpoint's loop extras, in order; [] when none was made. */
export function selectionsFromExtras(extras: unknown): VisionSelection[] {
  if (extras === null || typeof extras !== 'object') return [];
  const out: VisionSelection[] = [];
  for (const [name, state] of Object.entries(extras as Record<string, unknown>)) {
    if (!name.startsWith('vision.') || state === null || typeof state !== 'object') continue;
    const selection = (state as { selection?: unknown }).selection;
    if (selection !== null && typeof selection === 'object' && typeof (selection as VisionSelection).index === 'number') out.push(selection as VisionSelection);
  }
  return out.sort((a, b) => a.index - b.index);
}
