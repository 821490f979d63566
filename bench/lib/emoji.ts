/** Real images for benchmarks: Twemoji from the emoji-datasource-twitter package, flattened on white and resized. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

export const EMOJI_ROOT = new URL('../../node_modules/emoji-datasource-twitter/', import.meta.url).pathname;

/** File names (64 px PNGs) of the emoji in `categories` (all when empty), in the set's order. */
export function emojiFiles(categories: readonly string[] = []): string[] {
  const all = JSON.parse(readFileSync(join(EMOJI_ROOT, 'emoji.json'), 'utf8')) as Array<{ image: string; category: string; sort_order: number; has_img_twitter: boolean }>;
  return all
    .filter((e) => e.has_img_twitter && (categories.length === 0 || categories.includes(e.category)))
    .sort((a, b) => a.sort_order - b.sort_order)
    .map((e) => e.image);
}

/** The files at `r`² as uint8 [count, r, r, 3]. */
export async function loadEmoji(files: readonly string[], r: number): Promise<Uint8Array> {
  const per = r * r * 3;
  const out = new Uint8Array(files.length * per);
  await Promise.all(
    files.map(async (f, i) => {
      const { data } = await sharp(join(EMOJI_ROOT, 'img', 'twitter', '64', f)).flatten({ background: '#ffffff' }).resize(r, r).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      out.set(data, i * per);
    }),
  );
  return out;
}
