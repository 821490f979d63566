/**
 * sharp, loaded on first use. Every decode thread used to load it at start-up (the native module
 * and libvips: about 0.1 s of a thread's start, before its first image); an import of small plain
 * PNGs, decoded in JavaScript, never needs it.
 */
import type Sharp from 'sharp';

let loading: Promise<typeof Sharp> | null = null;

export function loadSharp(): Promise<typeof Sharp> {
  loading ??= import('sharp').then((m) => {
    const sharp = m.default;
    sharp.cache(false); // every input is new: the cache would only hold memory
    return sharp;
  });
  return loading;
}
