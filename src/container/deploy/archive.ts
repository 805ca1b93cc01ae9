import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, posix, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { checkDescriptor } from '../model/index.js';
import { errorText } from './error-text.js';

/**
 * Siplet application archives (`.sar`): a zip whose root holds the app's compiled JavaScript, its
 * descriptor `siplet.json` (required, with at least `"name"`), optional `config.json` and
 * `package.json` (`"main"` names the entry module, default `index.js`), and the app's own
 * dependencies under `node_modules/`.
 *
 * Reading an archive never trusts it: entry names that leave the extraction folder (`..`,
 * absolute paths, drive letters, backslashes), symbolic links and other special files (Unix mode
 * in the external attributes), encrypted entries, unknown compression, and sizes over the limits
 * (entry count, one entry, the total uncompressed, declared and counted while inflating: a zip
 * bomb stops at the limit) are refused before or while anything is written.
 */
export interface ArchiveLimits {
  /** Most bytes of the archive file itself. Default 64 MiB. */
  readonly maxArchiveBytes: number;
  /** Most bytes all entries hold uncompressed. Default 256 MiB. */
  readonly maxTotalBytes: number;
  /** Most bytes one entry holds uncompressed. Default 64 MiB. */
  readonly maxEntryBytes: number;
  /** Most entries (files and folders). Default 10 000. */
  readonly maxEntries: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = Object.freeze({
  maxArchiveBytes: 64 * 1024 * 1024,
  maxTotalBytes: 256 * 1024 * 1024,
  maxEntryBytes: 64 * 1024 * 1024,
  maxEntries: 10_000,
});

/** An archive read and checked, not yet extracted. */
export interface InspectedArchive {
  /** Where it came from, for messages: its path, or the label the caller gave a buffer. */
  readonly label: string;
  readonly bytes: Buffer;
  /** sha256 of the archive's bytes (hex): the same archive deployed again is recognised by it. */
  readonly hash: string;
  /** From siplet.json. */
  readonly name: string;
  /** From siplet.json, else package.json, else "0.0.0". */
  readonly version: string;
  /** Entry paths (folders end with '/'), in archive order. */
  readonly entries: readonly string[];
}

/**
 * `unreadable`: not a zip, or not a whole one (still being written?): a watcher retries it until the
 * file stops changing. `invalid`: a zip that is wrong in itself: retrying will not help.
 */
export type ArchiveProblem = { readonly kind: 'unreadable' | 'invalid'; readonly message: string };

export type InspectArchiveResult = { ok: true; archive: InspectedArchive } | { ok: false; problem: ArchiveProblem };

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * Reads an archive (a path or its bytes) and checks every entry against the limits and the rules
 * above, then its descriptor and its entry module. Never throws; nothing is written.
 */
export async function inspectArchive(
  source: Buffer | string,
  options: { label?: string; limits?: ArchiveLimits } = {},
): Promise<InspectArchiveResult> {
  const limits = options.limits ?? DEFAULT_ARCHIVE_LIMITS;
  const label = options.label ?? (typeof source === 'string' ? source : 'uploaded archive');
  const invalid = (message: string): InspectArchiveResult => ({ ok: false, problem: { kind: 'invalid', message } });
  let bytes: Buffer;
  if (typeof source === 'string') {
    const info = await stat(source).catch(() => undefined);
    if (!info?.isFile()) return { ok: false, problem: { kind: 'unreadable', message: 'the file does not exist or is not a regular file' } };
    if (info.size > limits.maxArchiveBytes) return invalid(tooLarge('the archive', info.size, limits.maxArchiveBytes, 'archive-max-size'));
    try {
      bytes = await readFile(source);
    } catch (err) {
      return { ok: false, problem: { kind: 'unreadable', message: `it cannot be read: ${errorText(err)}` } };
    }
  } else {
    bytes = source;
  }
  if (bytes.length > limits.maxArchiveBytes) return invalid(tooLarge('the archive', bytes.length, limits.maxArchiveBytes, 'archive-max-size'));

  let zip: ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(bytes, { strictFileNames: true, validateEntrySizes: true });
  } catch (err) {
    return {
      ok: false,
      problem: { kind: 'unreadable', message: `it is not a zip archive (${errorText(err)}); build it with "siplet pack <app folder>"` },
    };
  }
  if (zip.entryCount > limits.maxEntries) {
    zip.close();
    return invalid(`it has ${zip.entryCount} entries, more than the limit of ${limits.maxEntries}; remove files, or raise --archive-max-entries`);
  }
  const entries: string[] = [];
  const files = new Map<string, Entry>();
  let total = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      const problem = entryProblem(entry, limits);
      if (problem !== undefined) {
        zip.close();
        return invalid(problem);
      }
      total += entry.uncompressedSize;
      if (total > limits.maxTotalBytes) {
        zip.close();
        return invalid(tooLarge('its entries uncompressed', total, limits.maxTotalBytes, 'archive-max-size') + ' (a zip bomb?)');
      }
      entries.push(entry.fileName);
      if (!entry.fileName.endsWith('/')) files.set(entry.fileName, entry);
    }
  } catch (err) {
    zip.close();
    return invalid(zipNameProblem(err));
  }

  const readJson = async (name: string): Promise<{ ok: true; value: Record<string, unknown> | undefined } | { ok: false; message: string }> => {
    const entry = files.get(name);
    if (entry === undefined) return { ok: true, value: undefined };
    let text: string;
    try {
      text = (await readEntry(zip, entry, limits.maxEntryBytes)).toString('utf8');
    } catch (err) {
      return { ok: false, message: `its ${name} cannot be read: ${errorText(err)}` };
    }
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, message: `its ${name} must hold a JSON object ({ ... })` };
      return { ok: true, value: value as Record<string, unknown> };
    } catch (err) {
      return { ok: false, message: `its ${name} is not valid JSON (${errorText(err)}); fix the file` };
    }
  };
  try {
    const descriptor = await readJson('siplet.json');
    if (!descriptor.ok) return invalid(descriptor.message);
    if (descriptor.value === undefined) {
      return invalid('it has no descriptor: siplet.json is missing at the root of the archive. Add one with at least { "name": "<app name>" } and pack again');
    }
    const problems = checkDescriptor(descriptor.value);
    if (problems.length > 0) return invalid(`its siplet.json is invalid:${problems.map((p) => `\n  - ${p}`).join('')}`);
    const name = descriptor.value['name'];
    if (typeof name !== 'string') return invalid('its siplet.json has no "name": archives must name their application in siplet.json');
    const pkg = await readJson('package.json');
    if (!pkg.ok) return invalid(pkg.message);
    const main = pkg.value?.['main'];
    if (main !== undefined && typeof main !== 'string') return invalid('its package.json "main" is not a string; give the path of the entry module, e.g. "index.js"');
    const entryModule = posix.normalize(main ?? 'index.js').replace(/^\.\//, '');
    if (!files.has(entryModule)) {
      return invalid(
        main === undefined
          ? 'it has no entry module: index.js is missing at the root of the archive. Put the compiled entry there, or name it in package.json "main"'
          : `its package.json "main" names ${main}, which is not in the archive. Build the app and pack it again`,
      );
    }
    const version = [descriptor.value['version'], pkg.value?.['version']].find((v): v is string => typeof v === 'string') ?? '0.0.0';
    const hash = createHash('sha256').update(bytes).digest('hex');
    return { ok: true, archive: { label, bytes, hash, name, version, entries } };
  } finally {
    zip.close();
  }
}

/**
 * Writes an inspected archive's entries under `target` (created; it must not exist yet), counting
 * the bytes actually inflated against the limits. Rejects with a message naming the entry on any
 * problem; the caller removes `target` then.
 */
export async function extractArchive(archive: InspectedArchive, target: string, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<void> {
  const root = resolve(target);
  await mkdir(dirname(root), { recursive: true });
  await mkdir(root, { recursive: false });
  const zip = await yauzl.fromBufferPromise(archive.bytes, { strictFileNames: true, validateEntrySizes: true });
  let total = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      const problem = entryProblem(entry, limits);
      if (problem !== undefined) throw new Error(problem);
      const path = resolve(root, ...entry.fileName.split('/').filter((part) => part !== ''));
      if (path !== root && !path.startsWith(root + sep)) throw new Error(`entry ${entry.fileName} would be written outside the extraction folder`);
      if (entry.fileName.endsWith('/')) {
        await mkdir(path, { recursive: true });
        continue;
      }
      await mkdir(dirname(path), { recursive: true });
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          total += chunk.length;
          if (total > limits.maxTotalBytes) done(new Error(tooLarge('its entries uncompressed', total, limits.maxTotalBytes, 'archive-max-size')));
          else done(null, chunk);
        },
      });
      await pipeline(await zip.openReadStreamPromise(entry), counter, createWriteStream(path, { flags: 'wx', mode: 0o644 }));
    }
  } catch (err) {
    throw new Error(zipNameProblem(err), { cause: err });
  } finally {
    zip.close();
  }
}

/** What is wrong with one entry, or `undefined`. */
function entryProblem(entry: Entry, limits: ArchiveLimits): string | undefined {
  const name = entry.fileName;
  if (name.includes('\0') || name.includes('\\') || name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    return `entry ${JSON.stringify(name)} has an absolute or non-portable path; archive entries must be relative paths with '/'`;
  }
  if (name.split('/').some((part) => part === '..')) return `entry ${JSON.stringify(name)} climbs out of the archive with '..' (zip slip); remove it`;
  const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
  if (mode === S_IFLNK) return `entry ${JSON.stringify(name)} is a symbolic link; archives may hold only regular files and folders: copy the file it points to instead`;
  if (mode !== 0 && mode !== S_IFREG && mode !== S_IFDIR) return `entry ${JSON.stringify(name)} is a special file (mode ${mode.toString(8)}); archives may hold only regular files and folders`;
  if (entry.isEncrypted()) return `entry ${JSON.stringify(name)} is encrypted; Siplet reads unencrypted archives only`;
  if (!entry.canDecodeFileData()) return `entry ${JSON.stringify(name)} uses compression method ${entry.compressionMethod}; use deflate or store`;
  if (entry.uncompressedSize > limits.maxEntryBytes) {
    return `${tooLarge(`entry ${JSON.stringify(name)}`, entry.uncompressedSize, limits.maxEntryBytes, 'archive-max-entry-size')}`;
  }
  return undefined;
}

/** yauzl's own file-name checks, in the words of the rules above. */
function zipNameProblem(err: unknown): string {
  const text = errorText(err);
  if (/invalid relative path/i.test(text)) return `an entry climbs out of the archive with '..' (zip slip: ${text}); remove it`;
  if (/absolute path/i.test(text)) return `an entry has an absolute path (${text}); archive entries must be relative paths`;
  if (/invalid characters in fileName/i.test(text)) return `an entry name has a backslash (${text}); archive entries must use '/'`;
  return `it is damaged: ${text}`;
}

function tooLarge(what: string, size: number, limit: number, flag: string): string {
  return `${what} holds ${size} bytes, more than the limit of ${limit}; make the app smaller, or raise --${flag}`;
}

async function readEntry(zip: ZipFile, entry: Entry, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await zip.openReadStreamPromise(entry)) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error(`more than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The folder an archive's version is extracted to: `<deployments>/<name>-<version>-<n>`. */
export function extractionFolder(deployments: string, archive: Pick<InspectedArchive, 'name' | 'version'>, n: number): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, '_');
  return join(deployments, `${safe(archive.name)}-${safe(archive.version)}-${n}`);
}
