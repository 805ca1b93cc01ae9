/**
 * Deploying archives into a running Siplet process: the call-screening sample packed with
 * `siplet pack` (TypeScript compiled, `siplet/sdk` imported from the server's own copy), dropped
 * into the watched apps folder, replaced by a new version while SIPp calls go through, then
 * removed.
 *
 *   operator                     Siplet (apps/ watched)                 SIPp uac ─► Siplet ─► SIPp uas
 *     | cp call-screening.sar ──► | deployed (1.0.0)                      200 calls, 0 failed
 *     | cp (1.0.1) over it ─────► | redeployed while calls run:           calls in flight stay on 1.0.0,
 *     |                           |   1.0.0 drains                        new ones go to 1.0.1: 0 failed
 *     | rm call-screening.sar ──► | undeployed                            INVITE for us ─► 404
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpPeer } from '../support/wire.js';
import { freePort, runSipp, startSipp, type SippResult } from './harness/sipp.js';
import { startSiplet, type SipletProcess } from './harness/siplet-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const scenarios = join(here, 'scenarios');
const DAR = 'INVITE: ("call-screening", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")\n';

let siplet: SipletProcess | undefined;
let work: string | undefined;
afterEach(async () => {
  await siplet?.stop();
  siplet = undefined;
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
  work = undefined;
});

/** `siplet pack` on a copy of the call-screening sample, with the given version. */
function pack(version: string, into: string): string {
  const folder = join(into, `call-screening-${version}`);
  cpSync(join(root, 'samples', 'call-screening'), folder, { recursive: true });
  writeFileSync(join(folder, 'siplet.json'), JSON.stringify({ name: 'call-screening', version, mainServlet: 'screening' }));
  const archive = join(into, `call-screening-${version}.sar`);
  const result = spawnSync(process.execPath, [join(root, 'bin', 'siplet.js'), 'pack', folder, '-o', archive], { encoding: 'utf8', timeout: 120_000 });
  expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
  expect(result.stdout).toContain('(TypeScript compiled)');
  return archive;
}

function explain(result: SippResult): string {
  return `sipp ${result.args.join(' ')}\ncounters ${JSON.stringify(result.counters)}\n${result.errors.slice(-3000)}\n--- siplet ---\n${siplet?.output().slice(-4000) ?? ''}`;
}

async function calls(count: number, rate: number, during?: () => Promise<void>): Promise<{ uac: SippResult; uas: SippResult }> {
  const uasPort = await freePort();
  const uas = startSipp({ scenarioFile: join(scenarios, 'uas-rr.xml'), localPort: uasPort, calls: count, killAfterMs: 120_000, bufferSize: 4194304 });
  await uas.ready;
  const uacRun = runSipp({
    scenarioFile: join(scenarios, 'uac-rr.xml'),
    remote: `127.0.0.1:${uasPort}`,
    extraArgs: ['-rsa', `127.0.0.1:${siplet!.sipPort}`],
    calls: count,
    rate,
    limit: 100,
    timeoutSeconds: 90,
    bufferSize: 4194304,
    killAfterMs: 120_000,
  });
  await during?.();
  return { uac: await uacRun, uas: await uas.result };
}

describe('archives in the watched apps folder of a running Siplet', () => {
  it('deploys a packed archive, redeploys it under load with 0 failed calls, and undeploys it when removed', async () => {
    work = mkdtempSync(join(tmpdir(), 'siplet-interop-deploy-'));
    const v1 = pack('1.0.0', work);
    const v2 = pack('1.0.1', work);
    siplet = await startSiplet({ apps: [], dar: DAR, extraArgs: ['--deploy-settle-time', '300', '--deploy-poll-interval', '200'] });
    const target = join(siplet.appsDir, 'call-screening.sar');

    copyFileSync(v1, target);
    await siplet.waitForOutput(/"version":"1\.0\.0".*"msg":"application deployed"/, 20_000);
    const first = await calls(200, 100);
    expect(first.uac, explain(first.uac)).toMatchObject({ exitCode: 0, successful: 200, failed: 0 });

    // Replaced while 600 calls run (about 6 s at 100/s): the new version takes over, nobody fails.
    const second = await calls(600, 100, async () => {
      await new Promise((r) => setTimeout(r, 1500));
      const staging = join(siplet!.appsDir, '.call-screening.sar.part');
      copyFileSync(v2, staging);
      cpSync(staging, target);
      rmSync(staging);
      await siplet!.waitForOutput(/"version":"1\.0\.1".*"msg":"application redeployed"/, 20_000);
    });
    expect(second.uac, explain(second.uac)).toMatchObject({ exitCode: 0, successful: 600, failed: 0 });
    expect(second.uas, explain(second.uas)).toMatchObject({ successful: 600, failed: 0 });
    await siplet.waitForOutput(/"version":"1\.0\.0".*"msg":"application undeployed"/, 20_000);

    rmSync(target);
    await siplet.waitForOutput(/"version":"1\.0\.1".*"msg":"application undeployed"/, 20_000);
    const peer = await UdpPeer.open();
    try {
      await peer.send(
        Buffer.from(
          `INVITE sip:nobody@127.0.0.1:${siplet.sipPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-after-undeploy\r\n` +
            `From: <sip:probe@127.0.0.1>;tag=a1\r\nTo: <sip:nobody@127.0.0.1:${siplet.sipPort}>\r\nCall-ID: after-undeploy@test\r\nCSeq: 1 INVITE\r\n` +
            `Contact: <sip:probe@127.0.0.1:${peer.port}>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
        ),
        siplet.sipPort,
      );
      expect(await peer.waitFor((r) => r.some((res) => res.status >= 200), 5000)).toBe(true);
      expect(peer.received.find((res) => res.status >= 200)?.status).toBe(404);
    } finally {
      await peer.close();
    }
  }, 240_000);
});
