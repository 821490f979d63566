/**
 * Reading zip archives entry by entry: the central directory is read once (from the end of the
 * file), then each entry is read and inflated on its own, so a 5 GB archive never sits in memory.
 * ZIP64 is understood; stored and deflated entries are supported; the CRC is checked.
 *
 * Inflating streams, and stops: at the entry's declared size (a lying header), and before it
 * starts when the declared size is a zip bomb's — more than `ZIP_MAX_RATIO` times the compressed
 * bytes once past `ZIP_RATIO_FLOOR`, or above the file-size limit. So an archive of a few MB can
 * never make a decode thread hold gigabytes.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { crc32, createInflateRaw } from 'node:zlib';
import { escapeBytes } from './file-names.js';
import { skip, SkipError } from './skip.js';

/** How many times its compressed size an entry may inflate to (photos ~1×, raw scans ~2–20×; zeros ~1000×). */
export const ZIP_MAX_RATIO = 100;
/** Entries up to this size may inflate at any ratio (a blank 2048² bitmap compresses ~1000×, and is harmless). */
export const ZIP_RATIO_FLOOR = 16 * 2 ** 20;

export interface ZipEntry {
  /** Path inside the archive, '/'-separated. */
  name: string;
  method: number;
  encrypted: boolean;
  compressedSize: number;
  size: number;
  crc: number;
  /** Offset of the local file header. */
  offset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Lists the entries (files only, folders left out). Throws a plain Error when it is not a zip. */
export async function listZip(path: string): Promise<ZipEntry[]> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const tailLen = Math.min(size, 65_557 + 20);
    const tail = Buffer.alloc(tailLen);
    await fh.read(tail, 0, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error('no end-of-central-directory record: not a zip archive, or a truncated one');
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    if (eocd >= 20 && tail.readUInt32LE(eocd - 20) === ZIP64_LOCATOR) {
      const recOffset = Number(tail.readBigUInt64LE(eocd - 20 + 8));
      const rec = Buffer.alloc(56);
      await fh.read(rec, 0, 56, recOffset);
      if (rec.readUInt32LE(0) !== ZIP64_EOCD) throw new Error('damaged ZIP64 directory');
      count = Number(rec.readBigUInt64LE(32));
      cdSize = Number(rec.readBigUInt64LE(40));
      cdOffset = Number(rec.readBigUInt64LE(48));
    }
    if (cdOffset + cdSize > size) throw new Error('the central directory points past the end of the file (truncated archive)');
    const cd = Buffer.alloc(cdSize);
    await fh.read(cd, 0, cdSize, cdOffset);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw new Error('damaged central directory');
      const flags = cd.readUInt16LE(p + 8);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      let compressedSize = cd.readUInt32LE(p + 20);
      let uncompressed = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      let offset = cd.readUInt32LE(p + 42);
      // UTF-8 by the spec's flag, or by habit; bytes that are not (an old archiver's code page) are shown as \xHH.
      const name = escapeBytes(cd.subarray(p + 46, p + 46 + nameLen));
      // ZIP64 extra field: the 64-bit values, in order, for each 32-bit field that is 0xffffffff.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (uncompressed === 0xffffffff) {
            uncompressed = Number(cd.readBigUInt64LE(q));
            q += 8;
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = Number(cd.readBigUInt64LE(q));
            q += 8;
          }
          if (offset === 0xffffffff) offset = Number(cd.readBigUInt64LE(q));
        }
        e += 4 + len;
      }
      p = extraEnd + commentLen;
      if (name.endsWith('/')) continue;
      entries.push({ name, method, encrypted: (flags & 1) !== 0, compressedSize, size: uncompressed, crc, offset });
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/** The most an entry may inflate to: its declared size must stay at or below this. */
export function inflateLimit(compressedSize: number, maxBytes: number): number {
  return Math.min(maxBytes, Math.max(ZIP_RATIO_FLOOR, compressedSize * ZIP_MAX_RATIO));
}

/**
 * Reads and inflates one entry. Problems with the entry itself become SkipErrors; so does an entry
 * that would inflate past `inflateLimit` (checked on its declared size, before any inflating) or
 * past its declared size (checked while inflating, which then stops).
 */
export async function readZipEntry(path: string, entry: ZipEntry, maxBytes = 2 ** 31 - 1): Promise<Buffer> {
  if (entry.encrypted) throw new SkipError('unsupported', 'The zip entry is encrypted. Extract it with its password and import the files.');
  if (entry.method !== 0 && entry.method !== 8) {
    throw new SkipError('unsupported', `The zip entry uses compression method ${entry.method} (only stored and deflate are read). Re-zip it, or extract it and import the folder.`);
  }
  if (entry.method === 0 && entry.size !== entry.compressedSize) throw skip.corrupt('a stored zip entry whose sizes disagree');
  const limit = inflateLimit(entry.compressedSize, maxBytes);
  if (entry.size > limit) throw zipBomb(entry, maxBytes);
  const fh = await open(path, 'r');
  let data: Buffer;
  try {
    const header = Buffer.alloc(30);
    await fh.read(header, 0, 30, entry.offset);
    if (header.readUInt32LE(0) !== LOCAL) throw skip.corrupt('the zip entry header is damaged');
    const start = entry.offset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    // Never allocate for a compressed size the file cannot hold (a lying central directory).
    if (start + entry.compressedSize > (await fh.stat()).size) throw skip.corrupt('the archive ends inside this entry');
    if (entry.method === 0) {
      data = Buffer.alloc(entry.compressedSize);
      const { bytesRead } = await fh.read(data, 0, entry.compressedSize, start);
      if (bytesRead < entry.compressedSize) throw skip.corrupt('the archive ends inside this entry');
    } else {
      data = await inflateEntry(fh, start, entry);
    }
  } finally {
    await fh.close();
  }
  if (data.length !== entry.size || (crc32(data) >>> 0) !== entry.crc >>> 0) throw skip.corrupt('the zip entry fails its CRC check');
  return data;
}

function zipBomb(entry: ZipEntry, maxBytes: number): SkipError {
  const n = (v: number): string => v.toLocaleString('en-US');
  return new SkipError(
    'too-large',
    `The zip entry would inflate from ${n(entry.compressedSize)} to ${n(entry.size)} bytes, but an entry may grow at most ${ZIP_MAX_RATIO}-fold once past ` +
      `${ZIP_RATIO_FLOOR / 2 ** 20} MiB, and never past ${n(maxBytes)} bytes: a zip bomb, or an archive to extract with a tool you trust before importing its files.`,
  );
}

/** Inflates `entry.compressedSize` bytes from `start`, 64 KiB at a time, stopping one chunk past the declared size. */
async function inflateEntry(fh: FileHandle, start: number, entry: ZipEntry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  let stopped: SkipError | null = null; // the pipeline may report our own stop as an abort
  try {
    if (entry.compressedSize === 0) throw skip.corrupt('an empty deflate stream');
    await pipeline(
      fh.createReadStream({ start, end: start + entry.compressedSize - 1, autoClose: false, highWaterMark: 256 * 1024 }),
      createInflateRaw({ chunkSize: 64 * 1024 }),
      async (inflated: AsyncIterable<Buffer>) => {
        for await (const chunk of inflated) {
          total += chunk.length;
          if (total > entry.size) {
            stopped = skip.corrupt(`the zip entry inflates past its declared size of ${entry.size.toLocaleString('en-US')} bytes`);
            throw stopped;
          }
          chunks.push(chunk);
        }
      },
    );
  } catch (err) {
    if (stopped) throw stopped;
    if (err instanceof SkipError) throw err;
    throw skip.corrupt(`cannot inflate the zip entry: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks, total);
}
