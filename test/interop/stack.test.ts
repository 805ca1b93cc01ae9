/**
 * Siplet's SIP stack (transport, parser, transactions) against SIPp's built-in scenarios.
 *
 *   SIPp uac               Siplet stack UAS           Siplet stack UAC              SIPp uas
 *     | INVITE ------------> |                          | INVITE ---------------------> |
 *     | <--------- 100/180/200 (200 resent until ACK)   | <------------------- 180/200  |
 *     | ACK ---------------> |                          | ACK (again on a resent 200) > |
 *     | BYE ---------------> |                          | BYE -------------------------> |
 *     | <--------------- 200 |                          | <------------------------ 200  |
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, runSipp, startSipp, type SippResult } from './harness/sipp.js';
import { StackUa } from './support/stack-ua.js';

const scenarios = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');
let ua: StackUa | undefined;
afterEach(async () => {
  await ua?.close();
  ua = undefined;
});

function explain(result: SippResult): string {
  return `sipp ${result.args.join(' ')}\ncounters ${JSON.stringify(result.counters)}\n${result.stderr.slice(-2000)}\n${result.errors.slice(-3000)}`;
}

const failures: string[] = [];

async function runCalls(count: number, parallel: number, call: () => Promise<number>): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      statuses.push(
        await call().catch((error: unknown) => {
          failures.push(String(error));
          return 0;
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return statuses;
}

describe('SIPp uac → Siplet stack UAS', () => {
  for (const transport of ['udp', 'tcp'] as const) {
    it(`completes 200 calls over ${transport.toUpperCase()} with 0 failures`, async () => {
      ua = new StackUa({ port: await freePort() });
      await ua.listen();
      const result = await runSipp({ scenario: 'uac', transport, remote: `127.0.0.1:${ua.port}`, calls: 200, rate: 100, timeoutSeconds: 60, killAfterMs: 90_000 });
      expect(result, explain(result)).toMatchObject({ exitCode: 0, successful: 200, failed: 0 });
      expect(ua.ended).toBe(200);
    }, 120_000);
  }

  it('completes every call over UDP with 10% of packets lost, through retransmissions', async () => {
    ua = new StackUa({ port: await freePort(), t1: 100 });
    await ua.listen();
    const result = await runSipp({ scenario: 'uac', transport: 'udp', remote: `127.0.0.1:${ua.port}`, calls: 200, rate: 50, lost: 10, timeoutSeconds: 80, killAfterMs: 100_000, extraArgs: ['-T2', '800'] });
    expect(result, explain(result)).toMatchObject({ successful: 200, failed: 0 });
    expect(result.counters['Retransmissions'] ?? 0, explain(result)).toBeGreaterThan(0);
  }, 120_000);
});

describe('Siplet stack UAC → SIPp uas', () => {
  for (const transport of ['udp', 'tcp'] as const) {
    it(`completes 200 calls over ${transport.toUpperCase()} with 0 failures`, async () => {
      const sippPort = await freePort();
      const uas = startSipp({ scenario: 'uas', transport, localPort: sippPort, calls: 200, killAfterMs: 90_000 });
      await uas.ready;
      ua = new StackUa({ port: await freePort() });
      await ua.listen();
      const local = ua;
      const statuses = await runCalls(200, 20, () => local.call({ host: '127.0.0.1', port: sippPort, protocol: transport }));
      const server = await uas.result;
      expect(statuses.filter((s) => s === 200)).toHaveLength(200);
      expect(server.successful, explain(server)).toBe(200);
      // Over TCP SIPp's uas may count the last call as FailedTcpClosed when we close first (see sipp-harness.test.ts).
      expect(server.failed, explain(server)).toBe(transport === 'tcp' ? server.counters['FailedTcpClosed'] ?? 0 : 0);
    }, 120_000);
  }

  it('completes every call over UDP when SIPp loses 10% of our requests', async () => {
    const sippPort = await freePort();
    // The scenario drops 10% of what it receives (lost="10" on each request): the same loss as SIPp's
    // -lost 10, applied to our requests, which our transactions must recover. (With the global -lost,
    // SIPp's uas also drops its own 200s and then aborts calls on the INVITE retransmissions it
    // provoked: a limit of SIPp, seen here, not of the caller.)
    const uas = startSipp({ scenarioFile: join(scenarios, 'uas-lossy.xml'), transport: 'udp', localPort: sippPort, calls: 200, killAfterMs: 100_000 });
    await uas.ready;
    ua = new StackUa({ port: await freePort(), t1: 100 });
    await ua.listen();
    const local = ua;
    failures.length = 0;
    const statuses = await runCalls(200, 20, () => local.call({ host: '127.0.0.1', port: sippPort, protocol: 'udp' }));
    const server = await uas.result;
    expect(statuses.filter((s) => s === 200), `${failures.join('\n')}\nstatuses ${statuses.filter((s) => s !== 200).join(',')}\n${explain(server)}`).toHaveLength(200);
    expect(server, explain(server)).toMatchObject({ successful: 200, failed: 0 });
    // The losses were recovered by our retransmissions (Timers A and E).
    expect(local.transactions.counters.retransmissions).toBeGreaterThan(10);
  }, 120_000);
});
