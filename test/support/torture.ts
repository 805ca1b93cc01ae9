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

/**
 * What a Siplet server without applications must answer to each torture message
 * (a UAS, per the manifest's `expect`): the allowed statuses, or 'none' where
 * nothing may be sent back. Statuses the parser decides are in the parser test.
 */
export function expectedAnswers(c: TortureCase): number[] | 'none' {
  const special: Record<string, number[] | 'none'> = {
    'rfc4475/intmeth.dat': [501],
    'rfc4475/esc02.dat': [501],
    'rfc4475/unreason.dat': 'none',
    'rfc4475/noreason.dat': 'none',
    'rfc4475/scalarlg.dat': 'none',
    'rfc4475/bigcode.dat': 'none',
    'rfc4475/bcast.dat': 'none',
    'rfc4475/clerr.dat': [400],
    'rfc4475/ncl.dat': [400],
    'rfc4475/mcl01.dat': [400],
    'rfc4475/badvers.dat': [505],
    'rfc4475/mismatch02.dat': [400, 501],
    'rfc4475/unkscm.dat': [416],
    'rfc4475/novelsc.dat': [416, 404],
    'rfc4475/bext01.dat': [420],
    'rfc4475/invut.dat': [415],
    'rfc4475/regaut01.dat': [405, 401],
    'rfc4475/unksm2.dat': [405, 400],
    'rfc4475/sdp01.dat': [406, 400],
    'rfc4475/cparam01.dat': [405],
    'rfc4475/cparam02.dat': [405],
    'rfc4475/regescrt.dat': [405],
  };
  const s = special[c.file];
  if (s !== undefined) return s;
  if (c.kind === 'response') return 'none';
  // "400, or tolerated": either a 400 or the normal answer of a UAS without applications
  // 403: the Request-URI is not one of the server's domains and no relay is configured (no open relay).
  if (/^400, or/.test(c.expect)) return [400, 200, 403, 404, 481];
  if (c.verdict === 'invalid' && /^400\b/.test(c.expect)) return [400];
  return [200, 403, 404, 405, 481, 501];
}

/**
 * The message with `;rport` added to its top Via value (RFC 3581), so that a UDP
 * answer comes back to the test's own port instead of the fixture's sent-by
 * port. Handles folded and compact Via lines; leaves everything else as is.
 */
export function withRport(data: Buffer): Buffer {
  const text = data.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const m = /\r\n(via|v)[ \t]*:/i.exec(head);
  if (!m) return data;
  let i = m.index + m[0].length;
  let quoted = false;
  for (; i < head.length; i++) {
    const c = head[i];
    if (c === '"') quoted = !quoted;
    if (quoted) continue;
    if (c === ',') break;
    if (c === '\r' && head[i + 2] !== ' ' && head[i + 2] !== '\t') break;
  }
  return Buffer.from(text.slice(0, i) + ';rport' + text.slice(i), 'latin1');
}
