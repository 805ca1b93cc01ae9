/**
 * Dialogs (RFC 3261 §12) as an application sees them and as the wire shows them.
 *
 *   alice (scripted)                 Siplet: app "dialogs"
 *      | INVITE  (CSeq 1) ------------> | doInvite (initial) → 200
 *      | <--------------------- 200     |
 *      | ACK ---------------------------> | doAck
 *      | re-INVITE (CSeq 2, To tag) ----> | doInvite (isInitial false) → 200, same tags
 *      | <--------------------- 200     |
 *      | ACK ---------------------------> |
 *      | UPDATE (CSeq 3) ---------------> | doUpdate → 200
 *      | <--------------------- 200     |
 *      | INFO "bye" --------------------> | doInfo → 200, then session.createRequest('BYE')
 *      | <--------------------- 200     |
 *      | <--------------------- BYE     |   to the remote target, Route = route set
 *      | 200 ---------------------------> |
 *
 * Route set on the UAC side (the app calls bob; bob's 200 carries Record-Route):
 *
 *   alice          Siplet "dialogs"          proxy (127.0.0.4)        bob
 *     | MESSAGE bob --> |                        |                      |
 *     |                 | INVITE --------------------------------------> |
 *     |                 | <----------------------------- 200 + Record-Route
 *     |                 | ACK ------------------> | (Route: proxy, far)  |
 *     |                 | <------------------------------------ INFO "bye"
 *     |                 | BYE ------------------> | (Request-URI: bob's Contact)
 *     |                 | <------------------ 200 |
 *
 * And the errors: a request with a lower CSeq than the last gets 500 (§12.2.2),
 * a request for no known dialog gets 481, and a 481 to a request the app sends
 * in a dialog ends that dialog (§12.2.1.2):
 *
 *   alice                            Siplet "dialogs"
 *      | INFO "info" -----------------> | doInfo → 200, then session.createRequest('INFO')
 *      | <------------------------ INFO |
 *      | 481 ---------------------------> | doErrorResponse: session TERMINATED
 */
import { afterEach, describe, expect, it } from 'vitest';
import { inject, SIP_FACTORY, SipApplication, SipServlet, type SipFactory, type SipServletRequest, type SipServletResponse } from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import type { SipRequest } from '../../../src/sip/message/index.js';
import { darFor, sleep, waitUntil } from './flow-helpers.js';

interface Seen {
  method: string;
  initial: boolean;
  state: string;
  cseq: number;
}

const seen: Seen[] = [];
const responses: { method: string; status: number; state: string }[] = [];

@SipApplication({ name: 'dialogs' })
@SipServlet({ name: 'main' })
class DialogServlet extends SipServlet {
  readonly #factory: SipFactory;

  constructor(@inject(SIP_FACTORY) factory: SipFactory) {
    super();
    this.#factory = factory;
  }

  #record(req: SipServletRequest): void {
    seen.push({ method: req.getMethod(), initial: req.isInitial(), state: req.getSession().getState(), cseq: req.getCSeq() });
  }

  override async doInvite(req: SipServletRequest): Promise<void> {
    this.#record(req);
    const ok = req.createResponse(200);
    ok.setContent('v=0\r\n', 'application/sdp');
    await ok.send();
  }

  override doAck(req: SipServletRequest): void {
    this.#record(req);
  }

  override async doUpdate(req: SipServletRequest): Promise<void> {
    this.#record(req);
    await req.createResponse(200).send();
  }

  override async doInfo(req: SipServletRequest): Promise<void> {
    this.#record(req);
    await req.createResponse(200).send();
    const content = req.getContent();
    if (content === 'bye' || content === 'info') await req.getSession().createRequest(content.toUpperCase()).send();
  }

  override async doBye(req: SipServletRequest): Promise<void> {
    this.#record(req);
    await req.createResponse(200).send();
  }

  /** A MESSAGE whose body is an address (`<sip:…>`) makes the app call it. */
  override async doMessage(req: SipServletRequest): Promise<void> {
    await req.createResponse(202).send();
    const invite = this.#factory.createRequest({
      appSession: this.#factory.createApplicationSession(),
      method: 'INVITE',
      from: 'sip:dialogs@127.0.0.1',
      to: String(req.getContent()),
    });
    await invite.send();
  }

  override async doSuccessResponse(res: SipServletResponse): Promise<void> {
    responses.push({ method: res.getMethod(), status: res.getStatus(), state: res.getSession().getState() });
    if (res.getMethod() === 'INVITE') await res.createAck().send();
  }

  override doErrorResponse(res: SipServletResponse): void {
    responses.push({ method: res.getMethod(), status: res.getStatus(), state: res.getSession().getState() });
  }
}

let siplet: TestSiplet | undefined;
afterEach(async () => {
  await siplet?.close();
  siplet = undefined;
  seen.length = 0;
  responses.length = 0;
});

async function start(): Promise<TestSiplet> {
  siplet = await createTestSiplet({ apps: [{ exports: { DialogServlet } }], dar: darFor('dialogs') });
  return siplet;
}

/** alice calls the app and ACKs its 200: the confirmed dialog the tests work in. */
async function call(alice: ScriptedUa, headers: Record<string, string | string[]> = {}) {
  const invite = alice.createRequest('INVITE', { to: 'sip:dialogs@127.0.0.1', body: 'v=0\r\n', headers });
  await alice.send(invite);
  const ok = await alice.expectResponse(invite, 200);
  await alice.ack(invite, ok);
  await waitUntil(() => seen.some((s) => s.method === 'ACK'), 'the app to get the ACK');
  return { invite, ok };
}

const routes = (req: SipRequest): string[] => req.getAll('route');

describe('dialogs (RFC 3261 §12)', () => {
  it('delivers a re-INVITE and an UPDATE in a confirmed dialog as subsequent requests, answered with the dialog tags and the request CSeq', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const { invite, ok } = await call(alice);
    const localTag = ok.to.tag;
    expect(localTag).toBeDefined();

    const reInvite = alice.createInDialog(invite, ok, 'INVITE', { body: 'v=0\r\n' });
    await alice.send(reInvite);
    const reOk = await alice.expectResponse(reInvite, 200);
    expect(reOk.to.tag).toBe(localTag);
    expect(reOk.from.tag).toBe(invite.from.tag);
    expect(reOk.callId).toBe(invite.callId);
    expect(reOk.cseq).toMatchObject({ seq: 2, method: 'INVITE' });
    // A 2xx to a target refresh carries the UAS's Contact (§12.2.2, RFC 3261 §13.3.1.4).
    expect(reOk.contact[0]?.uri.toString()).toContain('127.0.0.1:5060');
    await alice.ack(reInvite, reOk);

    const update = alice.createInDialog(invite, ok, 'UPDATE');
    await alice.send(update);
    const upOk = await alice.expectResponse(update, 200);
    expect(upOk.to.tag).toBe(localTag);
    expect(upOk.from.tag).toBe(invite.from.tag);
    expect(upOk.cseq).toMatchObject({ seq: 3, method: 'UPDATE' });

    await waitUntil(() => seen.some((x) => x.method === 'UPDATE'), 'doUpdate');
    expect(seen.map((x) => [x.method, x.initial, x.state, x.cseq])).toEqual([
      ['INVITE', true, 'INITIAL', 1],
      ['ACK', false, 'CONFIRMED', 1],
      ['INVITE', false, 'CONFIRMED', 2],
      ['ACK', false, 'CONFIRMED', 2],
      ['UPDATE', false, 'CONFIRMED', 3],
    ]);
    // Answered: no 2xx is retransmitted waiting for an ACK that came.
    await sleep(20);
    expect(alice.unread()).toEqual([]);

    const bye = alice.createInDialog(invite, ok, 'BYE');
    await alice.send(bye);
    expect((await alice.expectResponse(bye)).status).toBe(200);
    await waitUntil(() => s.container.stats().sessions.sipSessions === 0, 'the session to be invalidated');
  });

  it('sends the app\'s BYE of a UAS dialog to the remote Contact with the Record-Route of the INVITE as Route, in order', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const bob = await s.ua('bob');
    const proxy = await s.ua('proxy');
    const proxyRoute = `<sip:${proxy.address}:${proxy.port};transport=tcp;lr>`;
    const { invite, ok } = await call(alice, { 'Record-Route': [proxyRoute, '<sip:far.example;lr>'] });
    // RFC 3261 §12.1.1: the UAS copies the Record-Route into its 2xx.
    expect(ok.getAll('record-route')).toEqual([proxyRoute, '<sip:far.example;lr>']);
    expect(bob.unread()).toEqual([]);

    const info = alice.createInDialog(invite, ok, 'INFO', { body: 'bye', contentType: 'text/plain' });
    await alice.send(info);
    expect((await alice.expectResponse(info)).status).toBe(200);

    // §12.2.1.1: the route set is the Record-Route in order; the first (loose) route is the next hop.
    const bye = await proxy.expectRequest('BYE');
    expect(bye.uriText).toBe(`sip:alice@${alice.address}:${alice.port};transport=tcp`);
    expect(routes(bye)).toEqual([proxyRoute, '<sip:far.example;lr>']);
    expect(bye.from.tag).toBe(ok.to.tag);
    expect(bye.to.tag).toBe(invite.from.tag);
    expect(bye.cseq).toMatchObject({ seq: 1, method: 'BYE' });
    await proxy.respond(bye, 200);
    await waitUntil(() => responses.some((r) => r.method === 'BYE' && r.status === 200), 'the app to get the 200 to its BYE');
    await waitUntil(() => s.container.stats().sessions.sipSessions === 0, 'the sessions to be invalidated');
  });

  it('uses the Record-Route of the 2xx, reversed, as the route set of a UAC dialog (ACK and BYE)', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const bob = await s.ua('bob');
    const proxy = await s.ua('proxy');
    const proxyRoute = `<sip:${proxy.address}:${proxy.port};transport=tcp;lr>`;

    const msg = alice.createRequest('MESSAGE', { to: 'sip:dialogs@127.0.0.1', body: `<${bob.uri.toString()}>`, contentType: 'text/plain' });
    await alice.send(msg);
    expect((await alice.expectResponse(msg)).status).toBe(202);

    const invite = await bob.expectRequest('INVITE');
    // The proxy nearest the app is the last Record-Route value (it was added first).
    await bob.respond(invite, 200, { toTag: 'bob1', headers: { 'Record-Route': ['<sip:far.example;lr>', proxyRoute] }, body: 'v=0\r\n' });

    const ack = await proxy.expectRequest('ACK');
    expect(ack.uriText).toBe(`sip:bob@${bob.address}:${bob.port};transport=tcp`);
    expect(routes(ack)).toEqual([proxyRoute, '<sip:far.example;lr>']);
    expect(ack.cseq).toMatchObject({ seq: 1, method: 'ACK' });
    expect(ack.to.tag).toBe('bob1');

    const info = bob.createInDialogAsUas(invite, 'bob1', 'INFO', { body: 'bye', contentType: 'text/plain' });
    await bob.send(info);
    expect((await bob.expectResponse(info)).status).toBe(200);

    const bye = await proxy.expectRequest('BYE');
    expect(bye.uriText).toBe(`sip:bob@${bob.address}:${bob.port};transport=tcp`);
    expect(routes(bye)).toEqual([proxyRoute, '<sip:far.example;lr>']);
    expect(bye.cseq).toMatchObject({ seq: 2, method: 'BYE' });
    expect(bye.to.tag).toBe('bob1');
    expect(bye.from.tag).toBe(invite.from.tag);
    await proxy.respond(bye, 200);
    await waitUntil(() => responses.some((r) => r.method === 'BYE'), 'the app to get the 200 to its BYE');
    expect(bob.unread()).toEqual([]);
    await waitUntil(() => s.container.stats().sessions.sipSessions === 0, 'the sessions to be invalidated');
    expect(s.container.stats().sessions).toMatchObject({ applicationSessions: 0, dialogs: 0 });
  });

  it('answers 500 to a request with a lower CSeq than the last one in the dialog, and does not bother the app', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const { invite, ok } = await call(alice);

    const info5 = alice.createInDialog(invite, ok, 'INFO', { headers: { CSeq: '5 INFO' } });
    await alice.send(info5);
    expect((await alice.expectResponse(info5)).status).toBe(200);

    const info3 = alice.createInDialog(invite, ok, 'INFO', { headers: { CSeq: '3 INFO' } });
    await alice.send(info3);
    const refused = await alice.expectResponse(info3);
    expect(refused.status).toBe(500);
    expect(refused.to.tag).toBe(ok.to.tag);

    await sleep(20);
    expect(seen.filter((x) => x.method === 'INFO').map((x) => x.cseq)).toEqual([5]);

    // The dialog goes on: a higher CSeq is served.
    const info6 = alice.createInDialog(invite, ok, 'INFO', { headers: { CSeq: '6 INFO' } });
    await alice.send(info6);
    expect((await alice.expectResponse(info6)).status).toBe(200);
  });

  it('answers 481 to a request for a dialog it does not know', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const { invite } = await call(alice);

    const bye = alice.createRequest('BYE', { to: 'sip:dialogs@127.0.0.1' });
    bye.set('To', '<sip:dialogs@127.0.0.1>;tag=no-such-dialog');
    await alice.send(bye);
    expect((await alice.expectResponse(bye)).status).toBe(481);

    // Right Call-ID and From tag, wrong To tag: still no dialog.
    const stray = alice.createRequest('BYE', { to: 'sip:dialogs@127.0.0.1' });
    stray.set('Call-ID', invite.callId);
    stray.set('From', invite.get('from') as string);
    stray.set('To', '<sip:dialogs@127.0.0.1>;tag=other');
    await alice.send(stray);
    expect((await alice.expectResponse(stray)).status).toBe(481);
    expect(seen.filter((x) => x.method === 'BYE')).toEqual([]);
  });

  it('ends the dialog when the peer answers an in-dialog request of the app with 481 (§12.2.1.2)', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const { invite, ok } = await call(alice);

    const trigger = alice.createInDialog(invite, ok, 'INFO', { body: 'info', contentType: 'text/plain' });
    await alice.send(trigger);
    expect((await alice.expectResponse(trigger)).status).toBe(200);
    const info = await alice.expectRequest('INFO');
    expect(info.cseq).toMatchObject({ seq: 1, method: 'INFO' });
    await alice.respond(info, 481);

    await waitUntil(() => responses.length === 1, 'the 481 to reach the app');
    expect(responses).toEqual([{ method: 'INFO', status: 481, state: 'TERMINATED' }]);
    await waitUntil(() => s.container.stats().sessions.sipSessions === 0, 'the session to be invalidated');
    // The dialog is gone: alice's BYE now finds nothing.
    const bye = alice.createInDialog(invite, ok, 'BYE');
    await alice.send(bye);
    expect((await alice.expectResponse(bye)).status).toBe(481);
  });

  it('refreshes the remote target from a re-INVITE\'s Contact: the app\'s next BYE goes there', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const moved = await s.ua('moved');
    const { invite, ok } = await call(alice);

    const reInvite = alice.createInDialog(invite, ok, 'INVITE', { headers: { Contact: moved.contact }, body: 'v=0\r\n' });
    await alice.send(reInvite);
    const reOk = await alice.expectResponse(reInvite, 200);
    await alice.ack(reInvite, reOk);

    const info = alice.createInDialog(invite, ok, 'INFO', { body: 'bye', contentType: 'text/plain' });
    await alice.send(info);
    expect((await alice.expectResponse(info)).status).toBe(200);

    const bye = await moved.expectRequest('BYE');
    expect(bye.uriText).toBe(`sip:moved@${moved.address}:${moved.port};transport=tcp`);
    expect(bye.callId).toBe(invite.callId);
    await moved.respond(bye, 200);
    await sleep(20);
    expect(alice.unread().filter((m) => m.isRequest)).toEqual([]);
    await waitUntil(() => responses.some((r) => r.method === 'BYE' && r.status === 200), 'the 200 to the app\'s BYE');
  });
});
