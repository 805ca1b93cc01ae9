/**
 * Concurrency (JSR 289 §6.4.3): the events of one application session are
 * handled one at a time, in arrival order, even when a handler awaits; a slow
 * handler holds up only its own application session.
 *
 * CANCEL while doInvite is still awaiting:
 *
 *   alice (scripted)            Siplet: app "serial"
 *      | INVITE ------------------> | doInvite enters, awaits the test's gate
 *      | <------------------- 180   |
 *      | CANCEL ------------------> | container: 200 (CANCEL), 487 (INVITE) at once
 *      | <------------- 200 CANCEL  |
 *      | <------------- 487 INVITE  |
 *      | ACK ---------------------> |
 *      |                 (gate opens) doInvite exits, only then doCancel runs
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SipApplication, SipApplicationKey, SipServlet, type SipServletRequest } from 'siplet/sdk';
import { createTestSiplet, type TestSiplet } from 'siplet/sdk/testing';
import { gate, live, settle, until, type Gate } from './helpers.js';

const DAR = ['INVITE', 'MESSAGE', 'INFO', 'CANCEL'].map((m) => `${m}: ("serial", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")`).join('\n');

let siplet: TestSiplet | undefined;
afterEach(async () => {
  for (const g of gates.values()) g.open();
  gates.clear();
  await siplet?.close();
  siplet = undefined;
  vi.useRealTimers();
});

const order: string[] = [];
/** Gates by the X-Gate header of a request: its handler waits until the test opens it. */
const gates = new Map<string, Gate>();
const waitFor = async (req: SipServletRequest): Promise<void> => {
  const name = req.getHeader('X-Gate');
  if (name !== undefined) await gates.get(name)?.promise;
};

@SipApplication({ name: 'serial' })
@SipServlet({ name: 'serial' })
class SerialServlet extends SipServlet {
  /** Requests naming the same X-Key join one application session. */
  @SipApplicationKey()
  static key(req: SipServletRequest): string | undefined {
    return req.getHeader('X-Key');
  }

  override async doInvite(req: SipServletRequest): Promise<void> {
    const id = req.getHeader('X-Id') ?? 'invite';
    order.push(`${id}:enter`);
    await req.createResponse(180).send();
    await waitFor(req);
    // A CANCEL may have been answered meanwhile: the INVITE is then committed (487).
    if (!req.isCommitted()) await req.createResponse(200).send();
    order.push(`${id}:exit:${req.isCommitted() ? 'committed' : 'open'}`);
  }

  override async doCancel(req: SipServletRequest): Promise<void> {
    order.push('cancel:enter');
    await Promise.resolve();
    order.push(`cancel:exit:${req.getSession().getState()}`);
  }

  override async doMessage(req: SipServletRequest): Promise<void> {
    const id = req.getHeader('X-Id') ?? 'message';
    order.push(`${id}:enter`);
    await waitFor(req);
    // Some handlers give the event loop a few turns, to tempt interleaving.
    const turns = Number(req.getHeader('X-Turns') ?? '0');
    for (let i = 0; i < turns; i++) await new Promise((r) => setTimeout(r, 1));
    order.push(`${id}:exit`);
    await req.createResponse(200).send();
  }
}

describe('one application session, one event at a time', () => {
  it('runs doCancel only after the awaiting doInvite returned, though the container answered the CANCEL at once', async () => {
    order.length = 0;
    gates.set('g', gate());
    siplet = await createTestSiplet({ apps: [{ exports: { SerialServlet } }], dar: DAR });
    const alice = await siplet.ua('alice');
    const invite = alice.createRequest('INVITE', { to: 'sip:bob@127.0.0.1', headers: { 'X-Gate': 'g' } });
    await alice.send(invite);
    await alice.expectResponse(invite, 180);
    const cancel = await alice.cancel(invite);
    expect((await alice.expectResponse(cancel, 200)).status).toBe(200);
    const terminated = await alice.expectResponse(invite, 487);
    await alice.ack(invite, terminated);
    await settle();
    expect(order).toEqual(['invite:enter']);
    (gates.get('g') as Gate).open();
    await until(() => order.length === 4, 'doCancel to run');
    expect(order).toEqual(['invite:enter', 'invite:exit:committed', 'cancel:enter', 'cancel:exit:TERMINATED']);
    // No 200 ever went out for the cancelled INVITE.
    await settle();
    expect(alice.unread().filter((m) => !m.isRequest && m.status === 200)).toEqual([]);
    await until(() => siplet?.container.stats().sessions.applicationSessions === 0, 'the sessions to go');
    expect(live(siplet.container.stats().sessions)).toEqual({ applicationSessions: 0, sipSessions: 0, dialogs: 0 });
  });

  /*
   *   alice                        Siplet: app "serial", one application session (X-Key: k)
   *     | MESSAGE m1 (gate) -----> | m1 enters, awaits
   *     | MESSAGE m2 ------------> |   (queued)
   *     | MESSAGE m3 ------------> |   (queued)
   *     |                (gate opens) m1 exits → 200; m2 enters/exits → 200; m3 …
   */
  it('serialises requests of one application session in arrival order while a handler awaits', async () => {
    order.length = 0;
    gates.set('m1', gate());
    siplet = await createTestSiplet({ apps: [{ exports: { SerialServlet } }], dar: DAR });
    const alice = await siplet.ua('alice');
    const msgs = ['m1', 'm2', 'm3', 'm4'].map((id, i) =>
      alice.createRequest('MESSAGE', {
        to: 'sip:bob@127.0.0.1',
        headers: { 'X-Key': 'k', 'X-Id': id, 'X-Turns': String(3 - i), ...(id === 'm1' ? { 'X-Gate': 'm1' } : {}) },
        body: id,
        contentType: 'text/plain',
      }),
    );
    for (const m of msgs) await alice.send(m);
    await settle();
    expect(order).toEqual(['m1:enter']);
    expect(siplet.container.stats().sessions.applicationSessions).toBe(1);
    (gates.get('m1') as Gate).open();
    for (const m of msgs) expect((await alice.expectResponse(m)).status).toBe(200);
    expect(order).toEqual(['m1:enter', 'm1:exit', 'm2:enter', 'm2:exit', 'm3:enter', 'm3:exit', 'm4:enter', 'm4:exit']);
    // Responses went out in the same order.
    const answered = alice.received.filter((m) => !m.isRequest).map((m) => m.callId);
    expect(answered).toEqual(msgs.map((m) => m.callId));
  });
});

describe('a slow handler delays only its own application session', () => {
  /*
   *   alice                Siplet "serial"                bob
   *     | INVITE (gate) --> | doInvite awaits               |
   *     |                   | <------------------- INVITE   |
   *     |                   | 200 ------------------------> |  bob's call is answered meanwhile
   *     |                   | <------------------- MESSAGE  |  (another application session)
   *     |                   | 200 ------------------------> |
   *     |      (gate opens) | 200 --> alice                 |
   */
  it('answers another call and another request while one doInvite awaits', async () => {
    order.length = 0;
    gates.set('slow', gate());
    siplet = await createTestSiplet({ apps: [{ exports: { SerialServlet } }], dar: DAR });
    const alice = await siplet.ua('alice');
    const bob = await siplet.ua('bob');
    const slow = alice.createRequest('INVITE', { to: 'sip:carol@127.0.0.1', headers: { 'X-Gate': 'slow', 'X-Id': 'slow' } });
    await alice.send(slow);
    await alice.expectResponse(slow, 180);
    const fast = bob.createRequest('INVITE', { to: 'sip:carol@127.0.0.1', headers: { 'X-Id': 'fast' } });
    await bob.send(fast);
    const fastOk = await bob.expectResponse(fast, 200);
    await bob.ack(fast, fastOk);
    const msg = bob.createRequest('MESSAGE', { to: 'sip:carol@127.0.0.1', headers: { 'X-Id': 'msg' }, body: 'x', contentType: 'text/plain' });
    await bob.send(msg);
    expect((await bob.expectResponse(msg)).status).toBe(200);
    expect(order).toEqual(['slow:enter', 'fast:enter', 'fast:exit:committed', 'msg:enter', 'msg:exit']);
    expect(alice.unread().filter((m) => !m.isRequest && m.status === 200)).toEqual([]);
    (gates.get('slow') as Gate).open();
    const slowOk = await alice.expectResponse(slow, 200);
    await alice.ack(slow, slowOk);
    expect(order.at(-1)).toBe('slow:exit:committed');
  });
});
