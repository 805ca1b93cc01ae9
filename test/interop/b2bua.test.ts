/**
 * The b2bua sample against real peers, Siplet running as its own process.
 *
 *   SIPp uac                 Siplet: b2bua                         SIPp uas
 *     | INVITE (SDP) ---------> | INVITE (SDP, new Call-ID/tags) ---> |
 *     | <----------- 100        | <--------------------- 180, 200     |
 *     | <------------- 180, 200 |                                     |
 *     | ACK -----------------> | ACK -----------------------------> |
 *     | BYE -----------------> | BYE -----------------------------> |   (or the uas's BYE, relayed to the uac)
 *     | <------------- 200 ---- | <-------------------------- 200     |
 *
 *   CANCEL while it rings:
 *     | CANCEL --------------> | CANCEL ---------------------------> |
 *     | <------- 200, 487 ---- | <------------------- 200, 487       |
 *     | ACK -----------------> | ACK (transaction) ----------------> |
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, runSipp, startSipp, type SippResult } from './harness/sipp.js';
import { startSiplet, type SipletProcess } from './harness/siplet-process.js';

const scenarios = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');
const DAR = 'INVITE: ("b2bua", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")\n';

let siplet: SipletProcess | undefined;
afterEach(async () => {
  await siplet?.stop();
  siplet = undefined;
});

function explain(result: SippResult): string {
  return `sipp ${result.args.join(' ')}\ncounters ${JSON.stringify(result.counters)}\n${result.errors.slice(-3000)}\n--- siplet ---\n${siplet?.output().slice(-3000) ?? ''}`;
}

interface Run {
  uac: string;
  uas: string;
  calls: number;
  rate: number;
  limit: number;
}

/** Starts the uas, runs the uac through Siplet (-rsa) to it, and returns both results. */
async function calls(run: Run): Promise<{ uac: SippResult; uas: SippResult }> {
  const uasPort = await freePort();
  const uas = startSipp({ scenarioFile: join(scenarios, run.uas), localPort: uasPort, calls: run.calls, killAfterMs: 150_000, bufferSize: 4194304 });
  await uas.ready;
  const uac = await runSipp({
    scenarioFile: join(scenarios, run.uac),
    remote: `127.0.0.1:${uasPort}`,
    extraArgs: ['-rsa', `127.0.0.1:${siplet!.sipPort}`],
    calls: run.calls,
    rate: run.rate,
    limit: run.limit,
    timeoutSeconds: 120,
    bufferSize: 4194304,
    killAfterMs: 150_000,
  });
  // The uas ends by itself after its last call; a failed uac leaves it waiting.
  const uasResult = uac.failed === 0 ? await uas.result : await uas.stop(3000);
  return { uac, uas: uasResult };
}

/** Waits until Siplet holds no session: every call of the run was cleaned up. */
async function sessionsDrained(): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const health = await siplet!.health();
    const sessions = (health['container'] as { sessions?: Record<string, number> } | undefined)?.sessions ?? (health['sessions'] as Record<string, number> | undefined);
    if (sessions === undefined || (sessions['applicationSessions'] === 0 && sessions['sipSessions'] === 0)) return sessions ?? {};
    if (Date.now() > deadline) return sessions;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('b2bua sample between SIPp uac and SIPp uas', () => {
  it('completes 1,000 calls hung up by the caller with 0 failures, and keeps no session after them', async () => {
    siplet = await startSiplet({ apps: [{ name: 'b2bua', config: { target: '', ringTimeoutMs: 60000 } }], dar: DAR });
    const { uac, uas } = await calls({ uac: 'b2bua-uac.xml', uas: 'b2bua-uas.xml', calls: 1000, rate: 200, limit: 200 });
    expect(uac, explain(uac)).toMatchObject({ exitCode: 0, successful: 1000, failed: 0 });
    expect(uas, explain(uas)).toMatchObject({ successful: 1000, failed: 0 });
    expect(await sessionsDrained(), siplet.output().slice(-2000)).toMatchObject({ applicationSessions: 0, sipSessions: 0 });
  }, 180_000);

  it('relays the callee\'s BYE to the caller (200 calls)', async () => {
    siplet = await startSiplet({ apps: [{ name: 'b2bua' }], dar: DAR });
    const { uac, uas } = await calls({ uac: 'b2bua-uac-called-bye.xml', uas: 'b2bua-uas-bye.xml', calls: 200, rate: 100, limit: 100 });
    expect(uac, explain(uac)).toMatchObject({ exitCode: 0, successful: 200, failed: 0 });
    expect(uas, explain(uas)).toMatchObject({ successful: 200, failed: 0 });
    expect(await sessionsDrained()).toMatchObject({ applicationSessions: 0, sipSessions: 0 });
  }, 120_000);

  it('relays a CANCEL after the 180: the callee is cancelled and the caller gets 487 (200 calls)', async () => {
    siplet = await startSiplet({ apps: [{ name: 'b2bua' }], dar: DAR });
    const { uac, uas } = await calls({ uac: 'b2bua-uac-cancel.xml', uas: 'b2bua-uas-ring.xml', calls: 200, rate: 100, limit: 100 });
    expect(uac, explain(uac)).toMatchObject({ exitCode: 0, successful: 200, failed: 0 });
    expect(uas, explain(uas)).toMatchObject({ successful: 200, failed: 0 });
    expect(await sessionsDrained()).toMatchObject({ applicationSessions: 0, sipSessions: 0 });
  }, 120_000);
});
