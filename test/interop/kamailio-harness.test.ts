/**
 * Proves the Kamailio harness before Siplet tests rely on it: SIPp uac → Kamailio (record-routing,
 * stateful) → SIPp uas, no Siplet involved.
 *
 *   SIPp uac            Kamailio (RR)            SIPp uas
 *     | INVITE ----------> | INVITE ----------------> |
 *     | <-------------------------- 180/200 -------- |
 *     | ACK, BYE (Route) -> | ACK, BYE --------------> |
 *     | <------------------------------------- 200 -- |
 */
import { describe, expect, it } from 'vitest';
import { findKamailio, startKamailio, KAMAILIO_MISSING } from './harness/kamailio.js';
import { freePort, runSipp, startSipp } from './harness/sipp.js';

describe('Kamailio harness', () => {
  it('finds kamailio, and fails loudly when it is missing', () => {
    expect(findKamailio()).toMatch(/kamailio$/);
    expect(KAMAILIO_MISSING).toContain('apt-get install kamailio');
  });

  it('relays 50 calls from SIPp uac to SIPp uas with 0 failures', async () => {
    const uasPort = await freePort();
    const kPort = await freePort();
    const uas = startSipp({ scenario: 'uas', localPort: uasPort, calls: 50, killAfterMs: 30_000 });
    await uas.ready;
    const kamailio = await startKamailio({ port: kPort, nextHop: `127.0.0.1:${uasPort}` });
    try {
      const uac = await runSipp({ scenario: 'uac', remote: `127.0.0.1:${uasPort}`, extraArgs: ['-rsa', `127.0.0.1:${kPort}`], calls: 50, rate: 50, timeoutSeconds: 30 });
      const server = await uas.result;
      expect(uac, kamailio.output().slice(-3000) + uac.errors).toMatchObject({ exitCode: 0, successful: 50, failed: 0 });
      expect(server).toMatchObject({ successful: 50, failed: 0 });
    } finally {
      await kamailio.stop();
    }
  }, 60_000);
});
