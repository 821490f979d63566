/**
 * A first guess at the normalisation from a sample of the data, for the import dialog: the
 * resolution from the images' shorter sides, grayscale when every sampled image is gray (DICOM
 * monochrome, one-channel files, or colour files whose pixels are all gray). Headers only, plus
 * a 32-pixel preview for the gray test: quick even on a folder of thousands.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import dicomParser from 'dicom-parser';
import type { NormaliseSettings, SuggestedSettings } from '../api/contract.js';
import { isDicomPart10 } from './dicom.js';
import { DEFAULT_NORMALISE, MAX_RESOLUTION, MIN_RESOLUTION } from './options.js';
import { expandSources, type SourceEntry } from './sources.js';
import { readZipEntry } from './zip.js';

const SAMPLE = 48; // files looked at, spread evenly over the sources
const SUGGEST_MAX = 512; // above this a first run trains slowly on one GPU; the user can raise it
const GRAY_TOLERANCE = 3; // largest R/G/B spread (0–255) of a pixel still called gray

interface Probe {
  shortSide: number;
  gray: boolean;
  alpha: boolean;
  dicom: boolean;
}

/** `confine`: a folder nothing may be read outside of, links included (the browser mode's root). */
export async function suggestSettings(paths: string[], confine: string | null = null): Promise<SuggestedSettings> {
  const { entries } = await expandSources(paths, 'folders', confine);
  const folders = folderSummary(entries);
  const picked: SourceEntry[] = [];
  const step = Math.max(1, entries.length / SAMPLE);
  for (let i = 0; i < entries.length && picked.length < SAMPLE; i += step) picked.push(entries[Math.floor(i)]!);
  const probes = (await Promise.all(picked.map((e) => probe(e).catch(() => null)))).filter((p): p is Probe => p !== null);

  const settings: NormaliseSettings = { ...DEFAULT_NORMALISE };
  const reasons: string[] = [];
  if (probes.length === 0) {
    reasons.push(`No readable image among ${picked.length} sampled files: the defaults (${settings.resolution}², ${settings.colourMode}) are suggested.`);
    return { settings, sampled: picked.length, medianShortSide: null, reasons, folders };
  }
  const sides = probes.map((p) => p.shortSide).sort((a, b) => a - b);
  const median = sides[Math.floor(sides.length / 2)]!;
  const natural = Math.max(MIN_RESOLUTION, Math.min(MAX_RESOLUTION, 2 ** Math.floor(Math.log2(Math.max(1, median)))));
  settings.resolution = Math.min(natural, SUGGEST_MAX);
  if (natural > SUGGEST_MAX) {
    reasons.push(`Half the images are at least ${median} px on their shorter side; ${SUGGEST_MAX}² keeps training practical on one GPU (up to ${natural}² keeps more detail).`);
  } else if (median < MIN_RESOLUTION) {
    reasons.push(`The images are tiny (median shorter side ${median} px): ${MIN_RESOLUTION}², the smallest size, is suggested.`);
  } else {
    reasons.push(`Half the images are at least ${median} px on their shorter side: ${settings.resolution}² needs no upscaling for most of them.`);
  }
  if (probes.every((p) => p.gray)) {
    settings.colourMode = 'grayscale';
    reasons.push(probes.some((p) => p.dicom) ? 'The files are grayscale DICOM: one channel.' : 'Every sampled image is gray: one channel trains faster and loses nothing.');
  } else {
    reasons.push('The images have colour: RGB.');
  }
  if (probes.some((p) => p.alpha)) reasons.push(`Some images are transparent: transparent pixels become ${settings.background} (the background colour).`);
  return { settings, sampled: probes.length, medianShortSide: median, reasons, folders };
}

/** A class this much smaller than the median class (or under TINY_MIN files) is flagged as tiny. */
const TINY_FRACTION = 0.2;
const TINY_MIN = 8;

/** First-level folders as classes: whether every file sits in one, their sizes, the tiny ones. */
export function folderSummary(entries: ReadonlyArray<Pick<SourceEntry, 'label'>>): SuggestedSettings['folders'] {
  const counts = new Map<string, number>();
  for (const e of entries) if (e.label !== null) counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
  const classes = [...counts].map(([name, files]) => ({ name, files })).sort((a, b) => b.files - a.files || a.name.localeCompare(b.name));
  const sizes = classes.map((c) => c.files).sort((a, b) => a - b);
  const median = sizes.length > 0 ? sizes[Math.floor(sizes.length / 2)]! : 0;
  const threshold = Math.max(TINY_MIN, Math.round(median * TINY_FRACTION));
  return {
    allInFolders: entries.length > 0 && classes.length >= 2 && entries.every((e) => e.label !== null),
    classes,
    tiny: classes.length >= 2 ? classes.filter((c) => c.files < threshold).map((c) => c.name) : [],
  };
}

async function probe(entry: SourceEntry): Promise<Probe | null> {
  if (entry.size === 0) return null;
  const bytes = entry.loc.kind === 'file' ? await readFile(entry.loc.path) : await readZipEntry(entry.loc.archive, entry.loc.entry);
  if (isDicomPart10(bytes) || /\.(dcm|dicom)$/i.test(entry.rel)) {
    const ds = dicomParser.parseDicom(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { untilTag: 'x7fe00010' });
    const rows = ds.uint16('x00280010') ?? 0;
    const cols = ds.uint16('x00280011') ?? 0;
    if (!rows || !cols) return null;
    const photometric = (ds.string('x00280004') ?? 'MONOCHROME2').trim().toUpperCase();
    return { shortSide: Math.min(rows, cols), gray: photometric.startsWith('MONOCHROME'), alpha: false, dicom: true };
  }
  const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  const w = meta.autoOrient?.width ?? meta.width ?? 0;
  const h = meta.autoOrient?.height ?? meta.height ?? 0;
  if (!w || !h) return null;
  let gray = (meta.channels ?? 3) <= 2 && meta.space !== 'cmyk';
  if (!gray && w * h <= 100_000_000) {
    const { data, info } = await sharp(bytes).resize(32, 32, { fit: 'inside' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    gray = info.channels >= 3;
    for (let i = 0; gray && i < data.length; i += info.channels) {
      const r = data[i]!;
      const g = data[i + 1]!;
      const b = data[i + 2]!;
      if (Math.max(r, g, b) - Math.min(r, g, b) > GRAY_TOLERANCE) gray = false;
    }
  }
  return { shortSide: Math.min(w, h), gray, alpha: meta.hasAlpha === true, dicom: false };
}
