import { Writable } from 'node:stream';
import { crc32, deflateRawSync } from 'node:zlib';
import { ZipArchive } from 'archiver';

/** An archive's files: path → content. */
export type ArchiveFiles = Record<string, string | Buffer>;

/** A well-formed .sar built with archiver, as `siplet pack` builds them. */
export async function buildArchive(files: ArchiveFiles): Promise<Buffer> {
  const zip = new ZipArchive({ zlib: { level: 6 } });
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    zip.pipe(
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          callback();
        },
        final(callback) {
          callback();
          resolve();
        },
      }),
    );
    zip.on('error', reject);
  });
  for (const [name, content] of Object.entries(files)) zip.append(typeof content === 'string' ? Buffer.from(content) : content, { name, mode: 0o644 });
  await zip.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface RawEntry {
  /** Written as is: `../evil.js`, `/etc/x` and friends are what the malicious cases need. */
  name: string;
  data?: string | Buffer;
  /** Unix mode in the external attributes (0o120777 for a symbolic link). Default 0o100644. */
  mode?: number;
  /** Deflate the data (method 8) instead of storing it. */
  deflate?: boolean;
  /** Lie about the uncompressed size in the headers. */
  declaredSize?: number;
}

/**
 * A zip written byte by byte (local headers, central directory, end record), for archives no
 * well-behaved tool writes: zip slip, absolute paths, symlink entries, lying sizes.
 */
export function handMadeZip(entries: RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const data = Buffer.from(entry.data ?? '');
    const body = entry.deflate ? deflateRawSync(data) : data;
    const method = entry.deflate ? 8 : 0;
    const crc = crc32(data);
    const size = entry.declaredSize ?? data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((entry.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
