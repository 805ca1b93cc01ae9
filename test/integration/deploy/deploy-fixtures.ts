import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { Deployer, type DeployerOptions } from '../../../src/container/index.js';
import type { SipRequest, SipResponse } from '../../../src/sip/message/index.js';
import { silentLogger } from '../../../src/util/index.js';
import { buildArchive, type ArchiveFiles } from '../../support/archives.js';
import { events, PRELUDE } from '../../unit/container/deploy/app-fixtures.js';

/*
 * Apps in these archives reach the Siplet API as the deploy unit tests' app folders do: through
 * the global the PRELUDE reads (see app-fixtures.ts), in place of `import … from 'siplet/sdk'`.
 */

export const DAR = 'INVITE: ("versioned", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")';

/**
 * App "versioned": answers INVITE 200 with `X-Version: <version>`, takes ACK and BYE. With
 * `ring`, it answers 180 only and leaves the INVITE pending (for the 503-on-undeploy case). With
 * `keyed`, initial requests with the same `X-Conf` header join one application session.
 */
export function versionedApp(version: string, options: VersionedOptions = {}): string {
  return `${PRELUDE}
let Versioned = class Versioned extends SipServlet {
  async doInvite(req) {
    events.push('${version}:invite');
    const provisional = req.createResponse(180);
    provisional.setHeader('X-Version', '${version}');
    await provisional.send();
    ${options.ring ? 'return;' : ''}
    const ok = req.createResponse(200);
    ok.setHeader('X-Version', '${version}');
    await ok.send();
  }
  doAck() { events.push('${version}:ack'); }
  async doBye(req) {
    events.push('${version}:bye');
    await req.createResponse(200).send();
  }
  doSuccessResponse(res) { events.push('${version}:response ' + res.getStatus() + ' ' + res.getMethod()); }
  static key(req) { return req.getHeader('X-Conf') || undefined; }
};
${options.keyed ? "__decorate([SipApplicationKey()], Versioned, 'key', null);" : ''}
Versioned = __decorate([SipApplication({ name: '${options.name ?? 'versioned'}' }), Servlet({ name: 'main' })], Versioned);
export { Versioned };
`;
}

export interface VersionedOptions {
  ring?: boolean;
  name?: string;
  keyed?: boolean;
}

/** The files of a good archive of the versioned app. */
export function versionedFiles(version: string, options: VersionedOptions = {}): ArchiveFiles {
  return {
    'siplet.json': JSON.stringify({ name: options.name ?? 'versioned', version, mainServlet: 'main' }),
    'index.js': versionedApp(version, options),
    'config.json': JSON.stringify({ greeting: version }),
  };
}

export function versionedArchive(version: string, options: VersionedOptions = {}): Promise<Buffer> {
  return buildArchive(versionedFiles(version, options));
}

export interface DeployHarness {
  siplet: TestSiplet;
  deployer: Deployer;
  deployDir: string;
  dataDir: string;
  close(): Promise<void>;
}

/** A TestSiplet (in-memory network) with a Deployer on temp deploy and data folders. */
export async function deployHarness(options: Partial<DeployerOptions> & { drainTimeoutMs?: number; start?: boolean } = {}): Promise<DeployHarness> {
  events();
  const root = await mkdtemp(join(tmpdir(), 'siplet-deploy-'));
  const deployDir = join(root, 'apps');
  const dataDir = join(root, 'data');
  await mkdir(deployDir);
  const siplet = await createTestSiplet({ dar: DAR, config: { drainTimeout: options.drainTimeoutMs ?? 300_000 } });
  const deployer = new Deployer({
    container: siplet.container,
    deployDir,
    dataDir,
    logger: silentLogger(),
    settleMs: 150,
    pollMs: 100,
    watch: false,
    ...options,
  });
  if (options.start !== false) await deployer.start();
  return {
    siplet,
    deployer,
    deployDir,
    dataDir,
    async close() {
      await deployer.close();
      await siplet.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Places a call (INVITE, 200, ACK) and returns what the in-dialog requests need. */
export async function call(ua: ScriptedUa, expectedVersion?: string): Promise<{ invite: SipRequest; ok: SipResponse }> {
  const invite = ua.createRequest('INVITE', { to: 'sip:bob@127.0.0.1' });
  await ua.send(invite);
  const ok = await ua.expectResponse(invite, 200);
  if (expectedVersion !== undefined) expect(ok.get('x-version')).toBe(expectedVersion);
  await ua.ack(invite, ok);
  return { invite, ok };
}

/** A whole probe call (INVITE, and ACK + BYE when answered 2xx): its final status and the version that answered. */
export async function inviteStatus(ua: ScriptedUa): Promise<{ status: number; version: string | undefined }> {
  const invite = ua.createRequest('INVITE', { to: 'sip:bob@127.0.0.1' });
  await ua.send(invite);
  const res = await ua.expectResponse(invite, (s) => s >= 200);
  await ua.ack(invite, res);
  if (res.status >= 200 && res.status < 300) {
    const bye = ua.createInDialog(invite, res, 'BYE');
    await ua.send(bye);
    expect((await ua.expectResponse(bye)).status).toBe(200);
  }
  return { status: res.status, version: res.get('x-version') };
}

/** Polls until `check` passes, for at most `ms`. */
export async function eventually(check: () => void | Promise<void>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
