/**
 * Proves the SIPp harness before any Siplet test relies on it: SIPp's built-in UAC calls SIPp's
 * built-in UAS directly, no Siplet in between.
 *
 *   SIPp uac                     SIPp uas
 *      | INVITE ------------------> |
 *      | <------------------ 180   |
 *      | <------------------ 200   |
 *      | ACK --------------------> |
 *      | BYE --------------------> |
 *      | <------------------ 200   |      × 20 calls
 */
import { describe, expect, it } from 'vitest';
import { findSipp, freePort, parseScreen, parseStatsCsv, runSipp, startSipp } from './harness/sipp.js';
import type { SippResult } from './harness/sipp.js';

function explain(side: string, result: SippResult): string {
  return `${side}: sipp ${result.args.join(' ')}\ncounters ${JSON.stringify(result.counters)}\n${result.stderr}\n${result.errors}`;
}

describe('SIPp harness', () => {
  it('finds sipp on PATH, and fails loudly when it is not there', () => {
    expect(findSipp()).toMatch(/\/sipp$/);
    expect(() => findSipp('/nonexistent')).toThrow(
      'SIPp (Debian package sip-tester) is not installed: run .ci/run or apt-get install sip-tester',
    );
  });

  it('runs 20 calls from SIPp uac to SIPp uas over UDP with none failed', async () => {
    const port = await freePort();
    const uas = startSipp({ scenario: 'uas', localPort: port, calls: 20, killAfterMs: 30_000 });
    await uas.ready;
    const uac = await runSipp({ scenario: 'uac', remote: `127.0.0.1:${port}`, calls: 20, rate: 50, timeoutSeconds: 20 });
    const server = await uas.result;

    expect(uac, explain('uac', uac)).toMatchObject({ exitCode: 0, successful: 20, failed: 0, timedOut: false });
    expect(server, explain('uas', server)).toMatchObject({ exitCode: 0, successful: 20, failed: 0, timedOut: false });
  });

  it('runs 20 calls over TCP with none failed on the calling side', async () => {
    const port = await freePort();
    const uas = startSipp({ scenario: 'uas', transport: 'tcp', localPort: port, calls: 20, killAfterMs: 30_000 });
    await uas.ready;
    const uac = await runSipp({ scenario: 'uac', transport: 'tcp', remote: `127.0.0.1:${port}`, calls: 20, rate: 50, timeoutSeconds: 20 });
    const server = await uas.result;

    expect(uac, explain('uac', uac)).toMatchObject({ exitCode: 0, successful: 20, failed: 0, timedOut: false });
    // SIPp's uac closes its connection as soon as its last call ends, while the uas still holds that
    // call in its 4 s time-wait: the uas may count it as FailedTcpClosed. Nothing else may fail.
    expect(server.successful + server.failed, explain('uas', server)).toBe(20);
    expect(server.failed, explain('uas', server)).toBe(server.counters['FailedTcpClosed'] ?? 0);
  });

  it('stops a UAS that has no call limit', async () => {
    const port = await freePort();
    const uas = startSipp({ scenario: 'uas', localPort: port });
    await uas.ready;
    const result = await uas.stop(3000);
    expect(result.timedOut).toBe(false);
    expect(result.signal, explain('uas', result)).toBeNull();
  });

  it('reports a failed call when nobody answers', async () => {
    const port = await freePort();
    const uac = await runSipp({ scenario: 'uac', remote: `127.0.0.1:${port}`, calls: 1, timeoutSeconds: 2, extraArgs: ['-recv_timeout', '1000'] });
    expect(uac.exitCode).not.toBe(0);
    expect(uac.successful).toBe(0);
  });

  it('reads counts from the statistics CSV and from the screen', () => {
    const csv =
      'StartTime;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);FailedTcpClosed(C);\nx;0;0;0;0;0;\ny;3;17;1;2;2;\n';
    expect(parseStatsCsv(csv)).toEqual({ successful: 17, failed: 2, counters: { SuccessfulCall: 17, FailedCall: 2, FailedTcpClosed: 2 } });
    expect(parseStatsCsv('')).toBeUndefined();
    const screen = '  Successful call        |        0                  |        20                 \n  Failed call            |        0                  |        1   \n';
    expect(parseScreen(screen)).toEqual({ successful: 20, failed: 1, counters: {} });
  });
});
