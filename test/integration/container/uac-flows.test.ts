/**
 * A UAC application's requests: the basic call, and the failures the
 * container reports as responses (RFC 3261 §8.1.3.1: 408 on timeout, 503 on a
 * transport error).
 *
 *   alice             Siplet: app "caller"                       bob
 *     | MESSAGE <bob> --> | 202                                    |
 *     |                   | INVITE ------------------------------> |
 *     |                   | <------------------------------- 100   |  not given to the app
 *     |                   | <------------------------------- 180   |  doProvisionalResponse
 *     |                   | <------------------------------- 200   |  doSuccessResponse
 *     |                   | ACK (createAck().send()) ------------> |
 *     |                   | BYE (session.createRequest) ---------> |
 *     |                   | <------------------------------- 200   |  doSuccessResponse
 *
 *   bob retransmits the 200 after the BYE           → the same ACK again, app not told
 *   caller → nothing listening at 127.0.0.99      → 503 to doErrorResponse
 *   caller → bob, who never answers (T1 = 10 ms)  → 408 after Timer B / F (64*T1)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { inject, SIP_FACTORY, SipApplication, SipServlet, type SipFactory, type SipServletRequest, type SipServletResponse } from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { darFor, sleep, waitUntil } from './flow-helpers.js';

const seen: string[] = [];
const sendErrors: string[] = [];

@SipApplication({ name: 'caller' })
@SipServlet({ name: 'main' })
class CallerServlet extends SipServlet {
  readonly #factory: SipFactory;

  constructor(@inject(SIP_FACTORY) factory: SipFactory) {
    super();
    this.#factory = factory;
  }

  /** The body names whom to call (`<sip:…>`), X-Method with what (INVITE by default). */
  override async doMessage(req: SipServletRequest): Promise<void> {
    await req.createResponse(202).send();
    const method = req.getHeader('X-Method') ?? 'INVITE';
    const out = this.#factory.createRequest({
      appSession: this.#factory.createApplicationSession(),
      method,
      from: '"Caller" <sip:caller@127.0.0.1>',
      to: String(req.getContent()),
    });
    if (method === 'INVITE') out.setContent('v=0\r\n', 'application/sdp');
    else out.setContent('hello', 'text/plain');
    await out.send().catch((error: Error) => sendErrors.push(error.message));
  }

  override doProvisionalResponse(res: SipServletResponse): void {
    seen.push(`${res.getStatus()} ${res.getMethod()}`);
  }

  override async doSuccessResponse(res: SipServletResponse): Promise<void> {
    seen.push(`${res.getStatus()} ${res.getMethod()} ${res.getSession().getState()}`);
    if (res.getMethod() === 'INVITE') {
      await res.createAck().send();
      await res.getSession().createRequest('BYE').send();
    }
  }

  override doErrorResponse(res: SipServletResponse): void {
    seen.push(`${res.getStatus()} ${res.getMethod()} ${res.getSession().getState()}`);
  }
}

let siplet: TestSiplet | undefined;
afterEach(async () => {
  await siplet?.close();
  siplet = undefined;
  seen.length = 0;
  sendErrors.length = 0;
});

async function trigger(alice: ScriptedUa, target: string, method = 'INVITE'): Promise<void> {
  const msg = alice.createRequest('MESSAGE', { to: 'sip:caller@127.0.0.1', body: `<${target}>`, contentType: 'text/plain', headers: { 'X-Method': method } });
  await alice.send(msg);
  expect((await alice.expectResponse(msg)).status).toBe(202);
}

describe('UAC flows', () => {
  it('calls, gets 180 and 200 (never the 100), ACKs and hangs up with BYE', async () => {
    const s = (siplet = await createTestSiplet({ apps: [{ exports: { CallerServlet } }], dar: darFor('caller') }));
    const alice = await s.ua('alice');
    const bob = await s.ua('bob');
    await trigger(alice, bob.uri.toString());

    const invite = await bob.expectRequest('INVITE');
    expect(invite.uriText).toBe(bob.uri.toString());
    expect(invite.from.displayName).toBe('Caller');
    expect(invite.from.tag).toBeDefined();
    expect(invite.to.tag).toBeUndefined();
    expect(invite.cseq).toMatchObject({ seq: 1, method: 'INVITE' });
    // The container's Contact on a dialog-creating request (RFC 3261 §8.1.1.8).
    expect(invite.contact[0]?.uri.toString()).toBe('sip:127.0.0.1:5060;transport=tcp');
    expect(invite.body.toString()).toBe('v=0\r\n');

    await bob.respond(invite, 100);
    await bob.respond(invite, 180, { toTag: 'bob1' });
    await bob.respond(invite, 200, { toTag: 'bob1', body: 'v=0\r\n' });

    const ack = await bob.expectRequest('ACK');
    expect(ack.uriText).toBe(`sip:bob@${bob.address}:${bob.port};transport=tcp`);
    expect(ack.cseq).toMatchObject({ seq: 1, method: 'ACK' });
    expect(ack.from.tag).toBe(invite.from.tag);
    expect(ack.to.tag).toBe('bob1');
    expect(ack.callId).toBe(invite.callId);
    expect(ack.topVia?.branch).not.toBe(invite.topVia?.branch);

    const bye = await bob.expectRequest('BYE');
    expect(bye.cseq).toMatchObject({ seq: 2, method: 'BYE' });
    expect(bye.to.tag).toBe('bob1');
    expect(bye.from.tag).toBe(invite.from.tag);
    await bob.respond(bye, 200);

    await waitUntil(() => seen.length === 3, 'the 200 to the BYE');
    expect(seen).toEqual(['180 INVITE', '200 INVITE CONFIRMED', '200 BYE TERMINATED']);
    await waitUntil(() => s.container.stats().sessions.sipSessions === 0, 'the sessions to be invalidated');
    expect(s.container.stats().sessions).toMatchObject({ applicationSessions: 0, dialogs: 0 });
  });

  it('ACKs a retransmitted 2xx again, even after the call has ended, without telling the app', async () => {
    const s = (siplet = await createTestSiplet({ apps: [{ exports: { CallerServlet } }], dar: darFor('caller') }));
    const alice = await s.ua('alice');
    const bob = await s.ua('bob');
    await trigger(alice, bob.uri.toString());
    const invite = await bob.expectRequest('INVITE');
    const ok = await bob.respond(invite, 200, { toTag: 'bob1' });
    const ack = await bob.expectRequest('ACK');
    await bob.respond(await bob.expectRequest('BYE'), 200);
    await waitUntil(() => s.container.stats().sessions.sipSessions === 0, 'the call to be over');

    // bob did not see the ACK, as far as it knows: its 2xx again (the INVITE transaction is still Accepted).
    await bob.resend(ok);
    const again = await bob.expectRequest('ACK');
    expect(again.toString()).toBe(ack.toString());
    await sleep(20);
    expect(seen).toEqual(['200 INVITE CONFIRMED', '200 BYE TERMINATED']);
    expect(s.container.stats().sessions).toMatchObject({ sipSessions: 0, applicationSessions: 0, dialogs: 0 });
  });

  for (const method of ['INVITE', 'MESSAGE']) {
    it(`delivers a 503 to doErrorResponse when nothing listens at the target (${method})`, async () => {
      const s = (siplet = await createTestSiplet({ apps: [{ exports: { CallerServlet } }], dar: darFor('caller') }));
      const alice = await s.ua('alice');
      await trigger(alice, 'sip:nobody@127.0.0.99:5060;transport=tcp', method);
      await waitUntil(() => seen.length === 1, 'the 503');
      expect(seen).toEqual([`503 ${method} INITIAL`]);
      expect(sendErrors).toEqual([]);
      await waitUntil(() => s.container.stats().sessions.sipSessions === 0, 'the sessions to be invalidated');
    });

    it(`delivers a 408 when the request is never answered: Timer ${method === 'INVITE' ? 'B' : 'F'} = 64*T1 (${method})`, async () => {
      const t1 = 10;
      const s = (siplet = await createTestSiplet({ apps: [{ exports: { CallerServlet } }], dar: darFor('caller'), config: { t1 } }));
      const alice = await s.ua('alice');
      const bob = await s.ua('bob');
      const sentAt = Date.now();
      await trigger(alice, bob.uri.toString(), method);
      await bob.expectRequest(method);
      await waitUntil(() => seen.length === 1, 'the 408', 64 * t1 + 1000);
      const elapsed = Date.now() - sentAt;
      expect(seen).toEqual([`408 ${method} INITIAL`]);
      expect(elapsed).toBeGreaterThanOrEqual(64 * t1 - 5);
      // A reliable transport: no retransmissions (Timer A / E do not run).
      expect(bob.unread()).toEqual([]);
      await waitUntil(() => s.container.stats().sessions.sipSessions === 0, 'the sessions to be invalidated');
    });
  }

  it('retransmits an unanswered request over UDP and still gives up with 408', async () => {
    const t1 = 10;
    const s = (siplet = await createTestSiplet({ apps: [{ exports: { CallerServlet } }], dar: darFor('caller'), reliable: false, config: { t1, t2: 40 } }));
    const alice = await s.ua('alice');
    const bob = await s.ua('bob');
    await trigger(alice, bob.uri.toString(), 'MESSAGE');
    await waitUntil(() => seen.length === 1, 'the 408', 64 * t1 + 1000);
    expect(seen).toEqual(['408 MESSAGE INITIAL']);
    const copies = bob.received.filter((m) => m.isRequest && m.method === 'MESSAGE');
    expect(copies.length).toBeGreaterThan(3);
    expect(new Set(copies.map((m) => m.toString())).size).toBe(1);
    await sleep(5);
  });
});
