/** Shared by the dataset tests: projects in temp folders, imports through the real worker, pixels back out. */
import type { TestContext } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import dcmjs from 'dcmjs';
import type { ImportReport, NormaliseSettings } from '../../core/api/contract.js';
import { startImport, type ImportHandle } from '../../core/data/import-job.js';
import { JobManager } from '../../core/jobs/job-manager.js';
import type { ImportOptions } from '../../core/data/options.js';
import { DatasetStore } from '../../core/store/dataset.js';
import { Project } from '../../core/store/project.js';
import { tempDir } from './tmp.js';

export { tempDir };

export const EMOJI_DIR = join(import.meta.dirname, '../../node_modules/emoji-datasource-twitter/img/twitter/64');
export const EMOJI_JSON = join(import.meta.dirname, '../../node_modules/emoji-datasource-twitter/emoji.json');

export interface TestProject {
  dir: string;
  path: string;
  project: Project;
  store: DatasetStore;
}

export function newProject(t: TestContext, name = 'test'): TestProject {
  const dir = tempDir(t);
  const path = join(dir, `${name}.atelier`);
  const project = Project.create(path, name, { appVersion: 'test' });
  t.after(() => project.close());
  return { dir, path, project, store: new DatasetStore(project.db) };
}

export async function runImport(
  p: TestProject,
  sources: string[],
  settings: Partial<NormaliseSettings> = {},
  options: Partial<ImportOptions> = {},
): Promise<ImportReport> {
  const handle = await startImport(new JobManager(p.project), { sources, settings, options });
  return handle.done;
}

export async function begin(p: TestProject, sources: string[], settings: Partial<NormaliseSettings> = {}, options: Partial<ImportOptions> = {}): Promise<ImportHandle> {
  return startImport(new JobManager(p.project), { sources, settings, options });
}

/** Writes `data` to `path`, creating folders. */
export function put(path: string, data: Uint8Array | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  return path;
}

/** A PNG's pixels: [H, W, C] uint8 with its size. */
export async function pngPixels(png: Uint8Array): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const meta = await sharp(png).metadata();
  const img = meta.channels === 1 ? sharp(png).toColourspace('b-w') : sharp(png); // raw() alone would widen gray to RGB
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Stored pixels of every image, in id order, decoded from the project's PNGs. */
export function storedImages(p: TestProject): Array<{ id: number; label: string | null; source_path: string; source_frame: number | null; pixels: Buffer; thumb: Buffer; channels: number; width: number }> {
  return p.project.db
    .prepare('SELECT i.id, l.name AS label, i.source_path, i.source_frame, i.pixels, i.thumb, i.channels, i.width FROM images i LEFT JOIN labels l ON l.id = i.label_id ORDER BY i.id')
    .all() as never;
}

/** A DICOM Part 10 file written with dcmjs. `pixels` is the raw Pixel Data (or absent). */
export function dicomFile(fields: Record<string, unknown>, pixels?: ArrayBuffer, transferSyntax = '1.2.840.10008.1.2.1'): Buffer {
  const { DicomMetaDictionary, DicomDict } = dcmjs.data;
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.7',
    MediaStorageSOPInstanceUID: '1.2.826.0.1.3680043.2.1125.1',
    TransferSyntaxUID: transferSyntax,
    ImplementationClassUID: '1.2.826.0.1.3680043.2.1125.2',
  };
  const dataset: Record<string, unknown> = {
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.7',
    SOPInstanceUID: '1.2.826.0.1.3680043.2.1125.1',
    Modality: 'OT',
    ...fields,
  };
  if (pixels) {
    dataset.PixelData = pixels;
    dataset._vrMap = { PixelData: fields.BitsAllocated === 8 ? 'OB' : 'OW' };
  }
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return Buffer.from(dict.write());
}
