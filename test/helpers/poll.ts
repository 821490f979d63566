/** Waiting in tests: poll a condition until it holds, failing with what was awaited. */

/** Resolves once `pred()` is true (checked every 20 ms); rejects after `ms` naming `what`. */
export async function until(pred: () => boolean, what = 'the condition', ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
