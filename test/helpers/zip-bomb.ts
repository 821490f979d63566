/**
 * Zip archives built byte by byte, so a test (or bench/zip-bomb.ts) can write what no archiver
 * would: entries of zeros that inflate a thousandfold, sizes that lie, names with `..`. The deflate
 * stream of a large entry is produced from one reused chunk, so building a 2 GiB bomb costs the
 * builder a megabyte, not two gigabytes.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { constants, crc32, deflateRawSync, createDeflateRaw } from 'node:zlib';

export interface RawEntry {
  name: string | Buffer;
  /** The bytes stored after the local header (deflated, or stored as is). */
  data: Buffer;
  method: 0 | 8;
  /** Declared uncompressed size and CRC (the truth, or a lie). */
  size: number;
  crc: number;
}

/** A deflated entry of `bytes` zeros, built from a reused 1 MiB chunk; declared honestly unless `declare` says otherwise. */
export async function zerosEntry(name: string, bytes: number, declare?: number): Promise<RawEntry> {
  const chunk = Buffer.alloc(Math.min(bytes, 1 << 20));
  const deflater = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflater.on('data', (c: Buffer) => out.push(c));
  const finished = new Promise<void>((resolve, reject) => {
    deflater.on('end', resolve);
    deflater.on('error', reject);
  });
  let crc = 0;
  for (let left = bytes; left > 0; left -= chunk.length) {
    const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
    crc = crc32(part, crc);
    if (!deflater.write(part)) await new Promise((r) => deflater.once('drain', r));
  }
  deflater.end();
  await finished;
  return { name, data: Buffer.concat(out), method: 8, size: declare ?? bytes, crc };
}

/** A small entry holding `content` (deflated). */
export function fileEntry(name: string | Buffer, content: Buffer): RawEntry {
  return { name, data: deflateRawSync(content, { level: constants.Z_BEST_COMPRESSION }), method: 8, size: content.length, crc: crc32(content) };
}

/** Writes a zip of `entries` to `path` (no ZIP64: every size under 4 GiB). Returns its size in bytes. */
export function writeRawZip(path: string, entries: RawEntry[]): number {
  const fd = openSync(path, 'w');
  let offset = 0;
  const write = (b: Buffer): void => {
    writeSync(fd, b);
    offset += b.length;
  };
  const central: Buffer[] = [];
  try {
    for (const e of entries) {
      const name = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name, 'utf8');
      const utf8Flag = Buffer.isBuffer(e.name) ? 0 : 0x800;
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(utf8Flag, 6);
      local.writeUInt16LE(e.method, 8);
      local.writeUInt32LE(e.crc >>> 0, 14);
      local.writeUInt32LE(e.data.length, 18);
      local.writeUInt32LE(e.size >>> 0, 22);
      local.writeUInt16LE(name.length, 26);
      const at = offset;
      write(local);
      write(name);
      write(e.data);
      const cd = Buffer.alloc(46);
      cd.writeUInt32LE(0x02014b50, 0);
      cd.writeUInt16LE(20, 4);
      cd.writeUInt16LE(20, 6);
      cd.writeUInt16LE(utf8Flag, 8);
      cd.writeUInt16LE(e.method, 10);
      cd.writeUInt32LE(e.crc >>> 0, 16);
      cd.writeUInt32LE(e.data.length, 20);
      cd.writeUInt32LE(e.size >>> 0, 24);
      cd.writeUInt16LE(name.length, 28);
      cd.writeUInt32LE(at, 42);
      central.push(cd, name);
    }
    const cdStart = offset;
    for (const b of central) write(b);
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(entries.length, 8);
    eocd.writeUInt16LE(entries.length, 10);
    eocd.writeUInt32LE(offset - cdStart, 12);
    eocd.writeUInt32LE(cdStart, 16);
    write(eocd);
    return offset;
  } finally {
    closeSync(fd);
  }
}
