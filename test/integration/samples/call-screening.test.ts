/**
 * The call-screening sample.
 *
 *   alice (allowed)          Siplet: call-screening             bob
 *     | INVITE -----------------> | INVITE (Record-Route) ------> |
 *     | <------------------------------------------ 180, 200 --- |
 *     | ACK, BYE (Route) -------> | ACK, BYE ------------------> |
 *
 *   spammer (blocked)
 *     | INVITE -----------------> | 403 Forbidden; the ACK is absorbed, bob sees nothing
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SipUri } from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { CallScreening, isBlocked } from '../../../samples/call-screening/index.js';

const DAR = 'INVITE: ("call-screening", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")';

let siplet: TestSiplet;
let alice: ScriptedUa;
let spammer: ScriptedUa;
let bob: ScriptedUa;

beforeEach(async () => {
  siplet = await createTestSiplet({ apps: [{ exports: { CallScreening }, config: { blocked: ['spammer@127.0.0.4'] } }], dar: DAR, reliable: false });
  alice = await siplet.ua('alice');
  bob = await siplet.ua('bob');
  spammer = await siplet.ua('spammer');
});

afterEach(async () => {
  await siplet.close();
});

describe('call screening', () => {
  it('proxies an allowed caller with record-routing, so ACK and BYE pass through Siplet', async () => {
    const invite = alice.createRequest('INVITE', { to: bob.uri, body: 'v=0\r\n' });
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    expect(atBob.recordRoute).toHaveLength(1);
    await bob.respond(atBob, 180, { toTag: 'b1' });
    await bob.respond(atBob, 200, { toTag: 'b1', body: 'v=0\r\n' });
    await alice.expectResponse(invite, 180);
    const ok = await alice.expectResponse(invite, 200);
    await alice.ack(invite, ok);
    const ack = await bob.expectRequest('ACK');
    expect(ack.topVia?.host).toBe('127.0.0.1');
    const bye = alice.createInDialog(invite, ok, 'BYE');
    await alice.send(bye);
    const byeAtBob = await bob.expectRequest('BYE');
    expect(byeAtBob.topVia?.host).toBe('127.0.0.1');
    await bob.respond(byeAtBob, 200);
    expect((await alice.expectResponse(bye)).status).toBe(200);
  });

  it('refuses a blocked caller with 403, absorbs its ACK, and never reaches the callee', async () => {
    const invite = spammer.createRequest('INVITE', { to: bob.uri, body: 'v=0\r\n' });
    await spammer.send(invite);
    const res = await spammer.expectResponse(invite);
    expect(res.status).toBe(403);
    await spammer.ack(invite, res);
    // Over UDP an unacknowledged 403 would be retransmitted after T1 (500 ms): none comes.
    await new Promise((r) => setTimeout(r, 700));
    expect(spammer.unread().filter((m) => !m.isRequest && m.status === 403)).toHaveLength(0);
    expect(bob.received).toHaveLength(0);
  });

  it('takes a new block list without a restart', async () => {
    const app = siplet.container.applications().find((a) => a.name === 'call-screening');
    app?.loaded.config.replace({ blocked: ['alice'] });
    const invite = alice.createRequest('INVITE', { to: bob.uri, body: 'v=0\r\n' });
    await alice.send(invite);
    expect((await alice.expectResponse(invite)).status).toBe(403);
  });

  it('matches callers on user@host or on the user alone', () => {
    const caller = new SipUri({ user: 'spammer', host: 'Example.COM' });
    expect(isBlocked(caller, ['spammer@example.com'])).toBe(true);
    expect(isBlocked(caller, ['spammer'])).toBe(true);
    expect(isBlocked(caller, ['spammer@other.example'])).toBe(false);
    expect(isBlocked(caller, ['alice'])).toBe(false);
  });
});
