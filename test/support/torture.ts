import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TortureCase {
  file: string;
  rfc: string;
  kind: 'request' | 'response';
  verdict: 'valid' | 'invalid' | 'not-a-test';
  expect: string;
  note: string;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'torture');

export const tortureCases: TortureCase[] = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'));

/**
 * The bytes of a torture message as a receiver would get them. RFC 5118 files are
 * stored with LF line ends and some with a wrong Content-Length: convert the head to
 * CRLF and recompute Content-Length here, never in the fixture files.
 */
export function tortureBytes(file: string): Buffer {
  const raw = readFileSync(join(root, file));
  if (!file.startsWith('rfc5118/')) return raw;
  const text = raw.toString('latin1');
  const sep = text.indexOf('\n\n');
  const head = sep < 0 ? text : text.slice(0, sep);
  const body = sep < 0 ? '' : text.slice(sep + 2).replace(/\r?\n/g, '\r\n');
  const lines = head.split('\n').map((l) => (/^content-length\s*:/i.test(l) ? `Content-Length: ${Buffer.byteLength(body, 'latin1')}` : l));
  return Buffer.from(lines.join('\r\n') + (sep < 0 ? '\r\n' : '\r\n\r\n' + body), 'latin1');
}
