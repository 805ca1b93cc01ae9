/**
 * The servlet container against SIPp, with Siplet running as its own process.
 *
 *   SIPp uac                 Siplet: hello-uas            Siplet: outbound-caller        SIPp uas
 *     | INVITE -------------> |                             | INVITE -----------------------> |
 *     | <------------ 180/200 |                             | <------------------------ 180/200
 *     | ACK ----------------> |                             | ACK ---------------------------> |
 *     | BYE ----------------> |                             | (ServletTimer) BYE ------------> |
 *     | <---------------- 200 |                             | <---------------------------- 200 |
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, runSipp, startSipp, type SippResult } from './harness/sipp.js';
import { startSiplet, type SipletProcess } from './harness/siplet-process.js';

let siplet: SipletProcess | undefined;
afterEach(async () => {
  await siplet?.stop();
  siplet = undefined;
});

function explain(result: SippResult, server?: SipletProcess): string {
  return `sipp ${result.args.join(' ')}\ncounters ${JSON.stringify(result.counters)}\n${result.errors.slice(-3000)}\n--- siplet ---\n${server?.output().slice(-4000) ?? ''}`;
}

describe('hello-uas sample answered by SIPp uac', () => {
  for (const transport of ['udp', 'tcp'] as const) {
    it(`completes 500 calls over ${transport.toUpperCase()} with 0 failures`, async () => {
      siplet = await startSiplet({
        apps: [{ name: 'hello-uas' }],
        dar: 'INVITE: ("hello-uas", "DAR:To", "TERMINATING", "", "NO_ROUTE", "0")\n',
      });
      const result = await runSipp({ scenario: 'uac', transport, remote: `127.0.0.1:${siplet.sipPort}`, calls: 500, rate: 200, limit: 100, timeoutSeconds: 60, bufferSize: 4194304, killAfterMs: 90_000 });
      expect(result, explain(result, siplet)).toMatchObject({ exitCode: 0, successful: 500, failed: 0 });
      // Every call's sessions were cleaned up once it ended.
      await new Promise((r) => setTimeout(r, 300));
      const health = (await siplet.health()) as { container: { sessions: { applicationSessions: number; sipSessions: number } } };
      expect(health.container.sessions).toMatchObject({ applicationSessions: 0, sipSessions: 0 });
    }, 120_000);
  }
});

describe('outbound-caller sample calling SIPp uas', () => {
  it('places 200 calls (INVITE, ACK, timer, BYE) with 0 failures', async () => {
    const sippPort = await freePort();
    const uas = startSipp({ scenario: 'uas', localPort: sippPort, calls: 200, killAfterMs: 90_000, bufferSize: 4194304 });
    await uas.ready;
    siplet = await startSiplet({
      apps: [{ name: 'outbound-caller', config: { target: `sip:service@127.0.0.1:${sippPort}`, calls: 200, concurrency: 20, holdMs: 50 } }],
      dar: '',
    });
    await siplet.waitForOutput('all calls done', 60_000);
    const server = await uas.result;
    expect(siplet.output()).toContain('"completed":200,"failed":0,"msg":"all calls done"');
    expect(server, explain(server, siplet)).toMatchObject({ successful: 200, failed: 0 });
  }, 120_000);
});
