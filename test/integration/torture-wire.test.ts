/**
 * The RFC 4475 / RFC 5118 torture messages sent on the wire to a running
 * server without applications, over UDP and over TCP:
 *
 *   test peer                      Siplet
 *      |------ torture message ------>|
 *      |<----- answer (or nothing) ---|   status checked against the manifest
 *      |------ OPTIONS -------------->|
 *      |<----- 200 OK ----------------|   the server keeps running
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConfig } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { silentLogger } from '../../src/util/index.js';
import { freePort } from '../interop/harness/sipp.js';
import { expectedAnswers, tortureBytes, tortureCases, withRport } from '../support/torture.js';
import { optionsRequest, TcpPeer, UdpPeer } from '../support/wire.js';

let server: RunningServer | undefined;
const emptyApps = mkdtempSync(join(tmpdir(), 'siplet-no-apps-'));
let port: number;

/**
 * A fresh server per message: RFC 4475 reuses branches and sent-by hosts across
 * fixtures (z9hG4bKkdjuw …), so on one server a later fixture would rightly be
 * matched as a retransmission of an earlier one (RFC 3261 §17.2.3).
 */
function serverPerSuite(): void {
  beforeEach(async () => {
    port = await freePort();
    server = await startServer(
      // An empty apps folder: this is a server without applications, whatever ./apps holds.
      createConfig({ host: '127.0.0.1', sipPort: port, httpPort: await freePort(), tcpIdleTimeout: 1500, trying100: 'delayed', appsDir: emptyApps, dataDir: emptyApps }),
      silentLogger(),
    );
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
}

const final = (statuses: number[]) => statuses.find((s) => s >= 200);

const cases = tortureCases.filter((c) => c.verdict !== 'not-a-test');

describe('torture messages over UDP', () => {
  serverPerSuite();
  for (const c of cases) {
    const want = expectedAnswers(c);
    it(`${c.file}: ${c.expect}`, async () => {
      const peer = await UdpPeer.open();
      try {
        // ;rport on the top Via (RFC 3581) brings the answer back to this peer's port.
        await peer.send(c.kind === 'request' ? withRport(tortureBytes(c.file)) : tortureBytes(c.file), port);
        if (want === 'none') {
          await new Promise((r) => setTimeout(r, 200));
          expect(peer.raw).toHaveLength(0);
        } else {
          expect(await peer.waitFor(() => final(peer.statuses) !== undefined)).toBe(true);
          expect(want).toContain(final(peer.statuses));
        }
        await peer.send(optionsRequest(port), port);
        expect(await peer.waitFor((r) => r.some((x) => x.cseq.method === 'OPTIONS' && x.status === 200))).toBe(true);
      } finally {
        await peer.close();
      }
    });
  }
});

describe('torture messages over TCP', () => {
  serverPerSuite();
  for (const c of cases) {
    const want = expectedAnswers(c);
    it(`${c.file}: ${c.expect}`, async () => {
      const peer = await TcpPeer.open(port);
      try {
        peer.send(tortureBytes(c.file));
        if (c.file === 'rfc4475/clerr.dat' || c.file === 'rfc4475/baddn.dat') {
          // Content-Length larger than the body (clerr), no blank line after the headers (baddn): on a stream
          // the message is incomplete, so the server waits for the rest, then the idle timeout closes it.
          expect(await peer.waitFor((p) => p.closed, 4000)).toBe(true);
          expect(peer.statuses).toHaveLength(0);
        } else if (c.file === 'rfc4475/ncl.dat' || c.file === 'rfc4475/mcl01.dat' || c.file === 'rfc4475/inv2543.dat') {
          // A bad, doubled or (RFC 2543 style) missing Content-Length cannot frame a stream: that connection closes.
          expect(await peer.waitFor((p) => p.closed, 2000)).toBe(true);
        } else if (c.file === 'rfc4475/dblreq.dat') {
          // Both messages are framed by their Content-Length and answered (REGISTER: no registrar, 405; the INVITE
          // for a foreign domain: 403, no open relay); the bytes after them close the stream.
          expect(await peer.waitFor((p) => p.statuses.filter((s) => s >= 200).length === 2)).toBe(true);
          expect(peer.statuses.filter((s) => s >= 200)).toEqual([405, 403]);
        } else if (want === 'none') {
          await new Promise((r) => setTimeout(r, 200));
          expect(peer.statuses).toHaveLength(0);
        } else {
          expect(await peer.waitFor((p) => final(p.statuses) !== undefined)).toBe(true);
          expect(want).toContain(final(peer.statuses));
        }
      } finally {
        peer.close();
      }
      const probe = await TcpPeer.open(port);
      try {
        probe.send(optionsRequest(port, 'TCP'));
        expect(await probe.waitFor((p) => p.received.some((x) => x.status === 200))).toBe(true);
      } finally {
        probe.close();
      }
    });
  }
});
