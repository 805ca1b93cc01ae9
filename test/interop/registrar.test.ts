/**
 * The registrar sample (digest authentication required) against real peers, Siplet running as its
 * own process. Realms and users are created with the CLI, as an operator would, on the data folder
 * Siplet then starts on.
 *
 *   sipsak -U -C <contact> -a <password>     Siplet: registrar (constraint: REGISTER)
 *     | REGISTER sip:example.com ---------> | 401: WWW-Authenticate SHA-256, then MD5 (RFC 8760 §2.4)
 *     | (reads the first challenge only; Debian's sipsak computes MD5 only: exit 2, nothing bound)
 *
 *   sipsak -s sip:example.com:  OPTIONS ─► 200 (exit 0)
 *
 * SIPp 3.6.1, sipsak 0.9.8 and baresip 1.0 all stop at a SHA-256 first challenge (baresip at any
 * SHA-256 challenge): registering them needs the server to offer MD5 first.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BARESIP_MISSING, findBaresip } from './harness/baresip.js';
import { findSipsak, runSipsak, SIPSAK_MISSING, type SipsakResult } from './harness/sipsak.js';
import { startSiplet, type SipletProcess } from './harness/siplet-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', '..', 'bin', 'siplet.js');
const REALM = 'example.com';
const DAR = 'REGISTER: ("registrar", "DAR:To", "TERMINATING", "", "NO_ROUTE", "0")\n';

let siplet: SipletProcess | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await siplet?.stop();
  siplet = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

/**
 * `siplet <args> --data <dataDir>`, as an operator types it; `input` is what standard input reads
 * (a password). Asynchronous: a blocked event loop would leave the harness's sockets unserviced.
 */
function operator(args: string[], input?: string): Promise<string> {
  const child = spawn(process.execPath, [cli, ...args, '--data', dataDir!], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stdin.end(input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`siplet ${args.join(' ')} exited with ${code}:\n${out}`));
    });
  });
}

/** A data folder with realm example.com and these users, made with the CLI; then Siplet on it. */
async function startWithUsers(users: { name: string; password: string }[]): Promise<SipletProcess> {
  dataDir = mkdtempSync(join(tmpdir(), 'siplet-registrar-data-'));
  await operator(['realms', 'add', REALM]);
  // One at a time: each opens the SQLite store (and the first creates it).
  for (const user of users) await operator(['users', 'add', `${user.name}@${REALM}`], `${user.password}\n`);
  // The last --data wins over the harness's own empty folder.
  siplet = await startSiplet({
    apps: [{ name: 'registrar' }],
    dar: DAR,
    extraArgs: ['--data', dataDir],
  });
  return siplet;
}

/** `siplet registrations list`: the contacts bound to each address of record. */
async function bindings(): Promise<Map<string, string[]>> {
  const byAor = new Map<string, string[]>();
  for (const line of (await operator(['registrations', 'list'])).split('\n')) {
    const [aor, contact] = line.split('\t');
    if (aor?.startsWith('sip:') && contact) byAor.set(aor, [...(byAor.get(aor) ?? []), contact]);
  }
  return byAor;
}

function explain(result: SipsakResult): string {
  return `sipsak ${result.args.join(' ')}\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-2000)}\n--- siplet ---\n${siplet?.output().slice(-3000) ?? ''}`;
}

describe('peers', () => {
  it('finds sipsak and baresip on PATH, and fails loudly naming the Debian package when one is missing', () => {
    expect(findSipsak()).toMatch(/\/sipsak$/);
    expect(findBaresip()).toMatch(/\/baresip$/);
    expect(() => findSipsak('/nonexistent')).toThrow(SIPSAK_MISSING);
    expect(() => findBaresip('/nonexistent')).toThrow(BARESIP_MISSING);
    expect(SIPSAK_MISSING).toContain('apt-get install sipsak');
    expect(BARESIP_MISSING).toContain('baresip-core');
  });
});

describe('registrar with digest authentication: sipsak', () => {
  it('challenges an unauthenticated REGISTER with SHA-256 then MD5 by default, which sipsak cannot answer, and binds nothing', async () => {
    await startWithUsers([{ name: 'carol', password: 'c4r0l-pw' }]);
    const result = await runSipsak({
      proxy: `127.0.0.1:${siplet!.sipPort}`,
      uri: `sip:carol@${REALM}`,
      register: { contact: 'sip:carol@127.0.0.1:5999', username: 'carol', password: 'c4r0l-pw' },
    });
    // sipsak reads the first challenge only, and Debian's build computes MD5 only: exit 2.
    expect(result, explain(result)).toMatchObject({ exitCode: 2, timedOut: false });
    expect(result.stderr, explain(result)).toMatch(
      /^SIP\/2\.0 401 Unauthorized\r?\n(?:.*\r?\n)*?WWW-Authenticate: Digest realm="example\.com", .*algorithm=SHA-256.*\r?\nWWW-Authenticate: Digest realm="example\.com", .*algorithm=MD5[\s\S]*error: unsupported authentication algorithm/m,
    );
    expect(await bindings()).toEqual(new Map());
  }, 30_000);

  it('gets 200 for OPTIONS to the realm (no application takes OPTIONS: the core answers for its domains)', async () => {
    await startWithUsers([]);
    const options = await runSipsak({ proxy: `127.0.0.1:${siplet!.sipPort}`, uri: `sip:${REALM}` });
    expect(options, explain(options)).toMatchObject({ exitCode: 0, timedOut: false });
    expect(options.stdout, explain(options)).toMatch(/^SIP\/2\.0 200 OK\r?\n(?:.*\r?\n)*?Allow: .*REGISTER/m);
  }, 30_000);
});
