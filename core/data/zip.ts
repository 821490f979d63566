/**
 * Reading zip archives entry by entry: the central directory is read once (from the end of the
 * file), then each entry is read and inflated on its own, so a 5 GB archive never sits in memory.
 * ZIP64 is understood; stored and deflated entries are supported; the CRC is checked.
 */
import { open } from 'node:fs/promises';
import { crc32, inflateRawSync } from 'node:zlib';
import { skip, SkipError } from './skip.js';

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
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
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

/** Reads and inflates one entry. Problems with the entry itself become SkipErrors. */
export async function readZipEntry(path: string, entry: ZipEntry): Promise<Buffer> {
  if (entry.encrypted) throw new SkipError('unsupported', 'The zip entry is encrypted. Extract it with its password and import the files.');
  if (entry.method !== 0 && entry.method !== 8) {
    throw new SkipError('unsupported', `The zip entry uses compression method ${entry.method} (only stored and deflate are read). Re-zip it, or extract it and import the folder.`);
  }
  const fh = await open(path, 'r');
  let raw: Buffer;
  try {
    const header = Buffer.alloc(30);
    await fh.read(header, 0, 30, entry.offset);
    if (header.readUInt32LE(0) !== LOCAL) throw skip.corrupt('the zip entry header is damaged');
    const start = entry.offset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    raw = Buffer.alloc(entry.compressedSize);
    const { bytesRead } = await fh.read(raw, 0, entry.compressedSize, start);
    if (bytesRead < entry.compressedSize) throw skip.corrupt('the archive ends inside this entry');
  } finally {
    await fh.close();
  }
  let data: Buffer;
  if (entry.method === 0) data = raw;
  else {
    try {
      // Never inflate past the declared size: a zip bomb stops here.
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
    } catch (err) {
      throw skip.corrupt(`cannot inflate the zip entry: ${(err as Error).message}`);
    }
  }
  if (data.length !== entry.size || (crc32(data) >>> 0) !== entry.crc >>> 0) throw skip.corrupt('the zip entry fails its CRC check');
  return data;
}
