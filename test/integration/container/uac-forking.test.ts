/**
 * A UAC application's INVITE forks: two early dialogs, one derived session
 * (JSR 289 §6.2.3.2), and the 2xx retransmission ACKed by the container.
 *
 *   alice            Siplet: app "forking"                     bob (two forks)
 *     | MESSAGE <bob> -> | 202                                       |
 *     |                  | INVITE -------------------------------->  |
 *     |                  | <----------------------- 180 To tag fork-a  session S (EARLY)
 *     |                  | <----------------------- 180 To tag fork-b  derived session D (EARLY)
 *     |                  | <----------------------- 200 To tag fork-b  D CONFIRMED
 *     |                  | ACK (app: createAck().send()) ---------->  |
 *     |                  | <----------------- 200 fork-b (retransmitted)
 *     |                  | ACK (the container, same ACK) --------->  |   app not told again
 *     |                  | <----------------------- 200 To tag fork-a  S: a second 2xx, to the app
 *     |                  | ACK, BYE (app) ------------------------>  |
 */
import { afterEach, describe, expect, it } from 'vitest';
import { inject, SIP_FACTORY, SipApplication, SipServlet, type SipFactory, type SipServletRequest, type SipServletResponse } from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import type { SipRequest } from '../../../src/sip/message/index.js';
import { darFor, sleep, waitUntil } from './flow-helpers.js';

interface SeenResponse {
  status: number;
  method: string;
  toTag: string | undefined;
  session: string;
  state: string;
  derived: boolean;
}

const seen: SeenResponse[] = [];
let original: string | undefined;

@SipApplication({ name: 'forking' })
@SipServlet({ name: 'main' })
class ForkingServlet extends SipServlet {
  readonly #factory: SipFactory;

  constructor(@inject(SIP_FACTORY) factory: SipFactory) {
    super();
    this.#factory = factory;
  }

  override async doMessage(req: SipServletRequest): Promise<void> {
    await req.createResponse(202).send();
    const invite = this.#factory.createRequest({
      appSession: this.#factory.createApplicationSession(),
      method: 'INVITE',
      from: 'sip:forking@127.0.0.1',
      to: String(req.getContent()),
    });
    original = invite.getSession().getId();
    invite.setContent('v=0\r\n', 'application/sdp');
    await invite.send();
  }

  override doProvisionalResponse(res: SipServletResponse): void {
    this.#record(res);
  }

  override async doSuccessResponse(res: SipServletResponse): Promise<void> {
    this.#record(res);
    if (res.getMethod() !== 'INVITE') return;
    await res.createAck().send();
    // RFC 3261 §13.2.2.4: a second fork's 2xx is acknowledged, and its dialog ended.
    const appSession = res.getApplicationSession();
    if (appSession.getAttribute('connected') === undefined) appSession.setAttribute('connected', res.getSession().getId());
    else await res.getSession().createRequest('BYE').send();
  }

  override doErrorResponse(res: SipServletResponse): void {
    this.#record(res);
  }

  override async doBye(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
  }

  #record(res: SipServletResponse): void {
    const session = res.getSession();
    seen.push({
      status: res.getStatus(),
      method: res.getMethod(),
      toTag: res.getTo().tag,
      session: session.getId(),
      state: session.getState(),
      derived: session.getId() !== original,
    });
  }
}

let siplet: TestSiplet | undefined;
afterEach(async () => {
  await siplet?.close();
  siplet = undefined;
  seen.length = 0;
  original = undefined;
});

/** alice asks the app to call bob; returns the INVITE bob got. */
async function appCalls(s: TestSiplet, alice: ScriptedUa, bob: ScriptedUa): Promise<SipRequest> {
  const msg = alice.createRequest('MESSAGE', { to: 'sip:forking@127.0.0.1', body: `<${bob.uri.toString()}>`, contentType: 'text/plain' });
  await alice.send(msg);
  expect((await alice.expectResponse(msg)).status).toBe(202);
  void s;
  return bob.expectRequest('INVITE');
}

const acks = (ua: ScriptedUa): SipRequest[] => ua.received.filter((m): m is SipRequest => m.isRequest && m.method === 'ACK');

describe('forked early dialogs on the UAC side', () => {
  it('gives the second To tag a derived session, both EARLY; the 2xx confirms one and is ACKed again when retransmitted', async () => {
    const s = (siplet = await createTestSiplet({ apps: [{ exports: { ForkingServlet } }], dar: darFor('forking'), config: { t1: 20 } }));
    const alice = await s.ua('alice');
    const bob = await s.ua('bob');
    const invite = await appCalls(s, alice, bob);

    await bob.respond(invite, 180, { toTag: 'fork-a' });
    await waitUntil(() => seen.length === 1, 'the first 180');
    await bob.respond(invite, 180, { toTag: 'fork-b' });
    await waitUntil(() => seen.length === 2, 'the second 180');

    const [a, b] = seen;
    expect(a).toMatchObject({ status: 180, toTag: 'fork-a', state: 'EARLY', derived: false });
    expect(b).toMatchObject({ status: 180, toTag: 'fork-b', state: 'EARLY', derived: true });
    expect(a?.session).not.toBe(b?.session);

    const ok = await bob.respond(invite, 200, { toTag: 'fork-b', body: 'v=0\r\n' });
    const ack = await bob.expectRequest('ACK');
    expect(ack.to.tag).toBe('fork-b');
    expect(ack.cseq).toMatchObject({ seq: invite.cseq.seq, method: 'ACK' });
    expect(ack.uriText).toBe(`sip:bob@${bob.address}:${bob.port};transport=tcp`);
    expect(seen[2]).toMatchObject({ status: 200, toTag: 'fork-b', session: b?.session, state: 'CONFIRMED' });

    // The 2xx again (the ACK was lost, as bob sees it): the container re-sends the same ACK.
    await bob.resend(ok);
    const again = await bob.expectRequest('ACK');
    expect(again.toString()).toBe(ack.toString());
    await sleep(20);
    expect(acks(bob)).toHaveLength(2);
    expect(seen.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('hands a 2xx from the other fork to the app on that fork\'s session, which ACKs it and sends BYE', async () => {
    const s = (siplet = await createTestSiplet({ apps: [{ exports: { ForkingServlet } }], dar: darFor('forking'), config: { t1: 20 } }));
    const alice = await s.ua('alice');
    const bob = await s.ua('bob');
    const invite = await appCalls(s, alice, bob);

    await bob.respond(invite, 180, { toTag: 'fork-a' });
    await bob.respond(invite, 180, { toTag: 'fork-b' });
    await waitUntil(() => seen.length === 2, 'both 180s');
    await bob.respond(invite, 200, { toTag: 'fork-b' });
    expect((await bob.expectRequest('ACK')).to.tag).toBe('fork-b');
    await bob.respond(invite, 200, { toTag: 'fork-a' });
    const ackA = await bob.expectRequest('ACK');
    expect(ackA.to.tag).toBe('fork-a');
    const bye = await bob.expectRequest('BYE');
    expect(bye.to.tag).toBe('fork-a');
    expect(bye.cseq).toMatchObject({ seq: invite.cseq.seq + 1, method: 'BYE' });
    await bob.respond(bye, 200);

    const oks = seen.filter((r) => r.status === 200 && r.method === 'INVITE');
    expect(oks.map((r) => [r.toTag, r.derived])).toEqual([
      ['fork-b', true],
      ['fork-a', false],
    ]);
  });

  it('ends the early dialog that never answered 64*T1 after the 2xx, so every session goes once the call is over', async () => {
    const s = (siplet = await createTestSiplet({ apps: [{ exports: { ForkingServlet } }], dar: darFor('forking'), config: { t1: 10 } }));
    const alice = await s.ua('alice');
    const bob = await s.ua('bob');
    const invite = await appCalls(s, alice, bob);

    await bob.respond(invite, 180, { toTag: 'fork-a' });
    await bob.respond(invite, 180, { toTag: 'fork-b' });
    await waitUntil(() => seen.length === 2, 'both 180s');
    const ok = await bob.respond(invite, 200, { toTag: 'fork-b' });
    await bob.expectRequest('ACK');

    const bye = bob.createInDialogAsUas(invite, 'fork-b', 'BYE');
    await bob.send(bye);
    expect((await bob.expectResponse(bye)).status).toBe(200);
    void ok;
    // RFC 3261 §13.2.2.4: early dialogs that were not confirmed end when the INVITE transaction
    // would have ended (64*T1 after the first 2xx): fork-a's session is invalidated then.
    await waitUntil(() => s.container.stats().sessions.sipSessions === 0, 'every SIP session to be invalidated', 3000);
    expect(s.container.stats().sessions).toMatchObject({ applicationSessions: 0, dialogs: 0 });
  });

  it('ends every early dialog, derived sessions included, when the INVITE fails', async () => {
    const s = (siplet = await createTestSiplet({ apps: [{ exports: { ForkingServlet } }], dar: darFor('forking') }));
    const alice = await s.ua('alice');
    const bob = await s.ua('bob');
    const invite = await appCalls(s, alice, bob);

    await bob.respond(invite, 180, { toTag: 'fork-a' });
    await bob.respond(invite, 180, { toTag: 'fork-b' });
    await waitUntil(() => seen.length === 2, 'both 180s');
    await bob.respond(invite, 486, { toTag: 'fork-b' });
    await bob.expectRequest('ACK');
    await waitUntil(() => seen.length === 3, 'the 486');
    expect(seen[2]).toMatchObject({ status: 486 });
    await waitUntil(() => s.container.stats().sessions.sipSessions === 0, 'every SIP session to be invalidated');
    expect(s.container.stats().sessions).toMatchObject({ applicationSessions: 0, dialogs: 0 });
  });
});
