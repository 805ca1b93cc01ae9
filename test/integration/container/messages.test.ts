/**
 * SIP servlet messages (JSR 289 §4, §5): header access, the system headers an
 * application may not touch, committed messages, content and transport facts.
 *
 *   alice (scripted)                  Siplet: app "messages"                 bob
 *      | MESSAGE (X-Case) ---------------> | doMessage: reads and tries changes  |
 *      | <---------------------------- 200 |   on the request and its response   |
 *      |                                   | MESSAGE (factory, From/To changed) -> |
 *      |                                   | <------------------------------- 200  |
 *      | REGISTER -----------------------> | doRegister: Contact set on the 200    |
 *      | <------------------- 200 Contact  |                                       |
 *      | INVITE -------------------------> | doInvite: Contact refused on the 200  |
 *      | <----------------------------- 200|                                       |
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  inject,
  IllegalStateError,
  parseUri,
  SIP_FACTORY,
  SipApplication,
  SipServlet,
  SystemHeaderError,
  type SipFactory,
  type SipServletRequest,
  type SipServletResponse,
} from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { attempt, attemptAsync, darFor, waitUntil, type Outcome } from './flow-helpers.js';

const SYSTEM_HEADERS = ['Call-ID', 'CSeq', 'Via', 'Route', 'Record-Route', 'RSeq', 'RAck', 'Content-Length'];
const ADVICE: Record<string, RegExp> = {
  'Call-ID': /createRequestFrom/,
  CSeq: /SipSession\.createRequest/,
  Via: /getProxy\(\)|getB2buaHelper\(\)/,
  Route: /pushRoute/,
  'Record-Route': /setRecordRoute/,
  RSeq: /sendReliably/,
  RAck: /createPrack/,
  'Content-Length': /setContent/,
};

function caught(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** What the app observed, by case name. */
const results: Record<string, Record<string, unknown>> = {};
let bobUri = '';

@SipApplication({ name: 'messages' })
@SipServlet({ name: 'main' })
class MessagesServlet extends SipServlet {
  readonly #factory: SipFactory;

  constructor(@inject(SIP_FACTORY) factory: SipFactory) {
    super();
    this.#factory = factory;
  }

  override async doMessage(req: SipServletRequest): Promise<void> {
    const name = req.getHeader('X-Case') ?? '?';
    const r: Record<string, unknown> = (results[name] = {});
    if (name === 'system-headers') {
      const res = req.createResponse(200);
      const tried: Record<string, Outcome[]> = {};
      for (const h of SYSTEM_HEADERS) {
        tried[h] = [attempt(() => res.setHeader(h, 'x')), attempt(() => res.addHeader(h, 'x')), attempt(() => res.removeHeader(h))];
      }
      r.tried = tried;
      r.compact = ['i', 'v', 'l'].map((c) => attempt(() => res.setHeader(c, 'x')));
      r.fromOnResponse = attempt(() => res.setHeader('From', '<sip:x@y>'));
      r.contactOn200Message = attempt(() => res.setHeader('Contact', '<sip:x@10.0.0.1>'));
      r.free = attempt(() => res.setHeader('X-Free', 'yes'));
      r.classes = [caught(() => res.setHeader('Via', 'x')) instanceof SystemHeaderError, caught(() => req.createResponse(99)) instanceof RangeError];
      await res.send();
      return;
    }
    if (name === 'read') {
      const from = req.getAddressHeader('From');
      if (from) {
        from.displayName = 'Mallory';
        from.tag = 'changed';
      }
      const fromCopy = req.getFrom();
      fromCopy.displayName = 'Mallory';
      const accept = req.getParameterableHeader('Accept');
      Object.assign(r, {
        initial: req.isInitial(),
        remoteAddr: req.getRemoteAddr(),
        remotePort: req.getRemotePort(),
        localAddr: req.getLocalAddr(),
        localPort: req.getLocalPort(),
        transport: req.getTransport(),
        secure: req.isSecure(),
        f: req.getHeader('f'),
        From: req.getHeader('From'),
        t: req.getHeader('t'),
        To: req.getHeader('To'),
        i: req.getHeader('i'),
        callId: req.getCallId(),
        supported: req.getHeader('Supported'),
        fromAfterChange: req.getAddressHeader('From')?.toString(),
        fromAfterGetFrom: req.getFrom().toString(),
        acceptValue: accept?.value,
        acceptLevel: accept?.params.get('level'),
        acceptQ: accept?.params.get('q'),
        contentType: req.getContentType(),
        content: req.getContent(),
        contentLength: req.getContentLength(),
        rawContent: req.getRawContent().toString('hex'),
      });
      await req.createResponse(200).send();
      return;
    }
    if (name === 'committed') {
      const first = req.createResponse(200);
      const second = req.createResponse(202);
      await first.send();
      r.createAfterFinal = attempt(() => req.createResponse(202));
      r.sendSecond = await attemptAsync(() => second.send());
      r.changeSent = attempt(() => first.setHeader('X-Late', '1'));
      r.contentSent = attempt(() => first.setContent('late', 'text/plain'));
      r.classes = [caught(() => req.createResponse(202)) instanceof IllegalStateError];
      r.sendAgain = await attemptAsync(() => first.send());
      return;
    }
    if (name === 'new-request') {
      await req.createResponse(200).send();
      const out = this.#factory.createRequest({ appSession: this.#factory.createApplicationSession(), method: 'MESSAGE', from: 'sip:app@127.0.0.1', to: bobUri });
      const from = out.getFrom();
      from.displayName = 'The App';
      r.fromDisplay = attempt(() => out.setAddressHeader('From', from));
      const to = out.getTo();
      to.uri = parseUri(bobUri.replace('sip:bob@', 'sip:robert@').replace(/^<|>$/g, '')) ?? to.uri;
      r.toUri = attempt(() => out.setAddressHeader('To', to));
      const retagged = out.getFrom();
      retagged.tag = 'mine';
      r.fromTag = attempt(() => out.setAddressHeader('From', retagged));
      const toTagged = out.getTo();
      toTagged.tag = 'theirs';
      r.toTag = attempt(() => out.setAddressHeader('To', toTagged));
      r.fromBySetHeader = attempt(() => out.setHeader('From', '<sip:other@127.0.0.1>'));
      r.contactOnMessage = attempt(() => out.setHeader('Contact', '<sip:app@10.0.0.1>'));
      r.callId = attempt(() => out.setHeader('i', 'mine'));
      out.setContent('hi bob', 'text/plain');
      await out.send();
      r.afterSend = [
        attempt(() => out.setHeader('X-Late', '1')),
        attempt(() => out.removeHeader('X-Late')),
        attempt(() => out.setAddressHeader('From', from)),
        attempt(() => out.setContent('late', 'text/plain')),
        attempt(() => out.setRequestURI(parseUri('sip:late@127.0.0.1') ?? out.getRequestURI())),
      ];
      return;
    }
    await req.createResponse(200).send();
  }

  override doSuccessResponse(res: SipServletResponse): void {
    const r = (results['response'] = {} as Record<string, unknown>);
    r.status = res.getStatus();
    r.committed = res.isCommitted();
    r.change = attempt(() => res.setHeader('X-Mine', '1'));
    r.transport = res.getTransport();
    r.remote = `${res.getRemoteAddr()}:${res.getRemotePort()}`;
  }

  override async doRegister(req: SipServletRequest): Promise<void> {
    const r: Record<string, unknown> = (results['register'] = {});
    const ok = req.createResponse(200);
    r.contact = attempt(() => ok.setHeader('Contact', '<sip:alice@10.0.0.2:5060>;expires=60'));
    r.addContact = attempt(() => ok.addHeader('m', '<sip:alice@10.0.0.3:5060>;expires=60'));
    await ok.send();
  }

  override async doInvite(req: SipServletRequest): Promise<void> {
    const r: Record<string, unknown> = (results['invite'] = {});
    const ok = req.createResponse(200);
    r.contact = attempt(() => ok.setHeader('Contact', '<sip:app@10.0.0.9>'));
    r.removeContact = attempt(() => ok.removeHeader('Contact'));
    r.content = req.getContent();
    r.initial = req.isInitial();
    const redirect = req.createResponse(302);
    r.contactOn302 = attempt(() => redirect.setHeader('Contact', '<sip:elsewhere@10.0.0.9>'));
    await ok.send();
  }

  override doAck(): void {}

  override async doBye(req: SipServletRequest): Promise<void> {
    results['bye'] = { initial: req.isInitial() };
    await req.createResponse(200).send();
  }

  override async doInfo(req: SipServletRequest): Promise<void> {
    const r: Record<string, unknown> = (results[`info ${req.getContentType() ?? 'none'}`] = {});
    const content = req.getContent();
    r.kind = Buffer.isBuffer(content) ? 'Buffer' : typeof content;
    r.content = Buffer.isBuffer(content) ? content.toString('hex') : content;
    const info = req.getSession().createRequest('INFO');
    const from = info.getFrom();
    from.displayName = 'Nope';
    r.fromInDialog = attempt(() => info.setAddressHeader('From', from));
    r.initial = req.isInitial();
    await req.createResponse(200).send();
  }
}

let siplet: TestSiplet | undefined;
afterEach(async () => {
  await siplet?.close();
  siplet = undefined;
  for (const k of Object.keys(results)) delete results[k];
});

async function start(): Promise<{ s: TestSiplet; alice: ScriptedUa }> {
  siplet = await createTestSiplet({ apps: [{ exports: { MessagesServlet } }], dar: darFor('messages') });
  return { s: siplet, alice: await siplet.ua('alice') };
}

async function message(alice: ScriptedUa, name: string, options: { body?: string; contentType?: string; headers?: Record<string, string> } = {}) {
  const msg = alice.createRequest('MESSAGE', {
    to: 'sip:messages@127.0.0.1',
    body: options.body ?? 'hello',
    contentType: options.contentType ?? 'text/plain',
    headers: { 'X-Case': name, ...options.headers },
  });
  await alice.send(msg);
  return alice.expectResponse(msg);
}

const refused = (header: string) => expect.objectContaining({ ok: false, name: 'SystemHeaderError', header });
const illegalState = expect.objectContaining({ ok: false, name: 'IllegalStateError' });

describe('SIP servlet messages', () => {
  it('refuses set/add/remove of every system header with a SystemHeaderError naming it and saying what to use', async () => {
    const { alice } = await start();
    const ok = await message(alice, 'system-headers');
    expect(ok.status).toBe(200);
    const tried = results['system-headers']?.tried as Record<string, Outcome[]>;
    for (const h of SYSTEM_HEADERS) {
      expect(tried[h], h).toEqual([refused(h), refused(h), refused(h)]);
      for (const o of tried[h] ?? []) {
        expect(o.message).toContain(`${h} is a system header`);
        expect(o.message).toMatch(ADVICE[h] as RegExp);
      }
    }
    // Compact names are the same headers.
    expect(results['system-headers']?.compact).toEqual([refused('Call-ID'), refused('Via'), refused('Content-Length')]);
    expect(results['system-headers']?.fromOnResponse).toEqual(refused('From'));
    expect(results['system-headers']?.contactOn200Message).toEqual(refused('Contact'));
    expect(results['system-headers']?.free).toEqual({ ok: true });
    expect(results['system-headers']?.classes).toEqual([true, true]);
    // What went out is intact, with the free header.
    expect(ok.get('x-free')).toBe('yes');
    expect(ok.getAll('via')).toHaveLength(1);
    expect(ok.get('content-length')).toBe('0');
  });

  it('reads headers by long and compact name, parameterable headers, address copies, content and transport facts', async () => {
    const { alice } = await start();
    const ok = await message(alice, 'read', { headers: { k: '100rel', Accept: 'application/sdp;level=1;q=0.5' } });
    expect(ok.status).toBe(200);
    const r = results['read'] as Record<string, unknown>;
    expect(r).toMatchObject({
      initial: true,
      remoteAddr: alice.address,
      remotePort: alice.port,
      localAddr: '127.0.0.1',
      localPort: 5060,
      transport: 'tcp',
      secure: false,
      supported: '100rel',
      acceptValue: 'application/sdp',
      acceptLevel: '1',
      acceptQ: '0.5',
      contentType: 'text/plain',
      content: 'hello',
      contentLength: 5,
      rawContent: Buffer.from('hello').toString('hex'),
    });
    expect(r.f).toBe(r.From);
    expect(r.t).toBe(r.To);
    expect(r.i).toBe(r.callId);
    expect(r.f).toContain(`sip:alice@${alice.address}`);
    // Changing what getAddressHeader / getFrom returned changed nothing in the request.
    expect(r.fromAfterChange).not.toContain('Mallory');
    expect(r.fromAfterChange).not.toContain('changed');
    expect(r.fromAfterGetFrom).not.toContain('Mallory');
  });

  it('gives text bodies (text/*, application/sdp) as strings and others as a Buffer', async () => {
    const { s, alice } = await start();
    const invite = alice.createRequest('INVITE', { to: 'sip:messages@127.0.0.1', body: 'v=0\r\n' });
    await alice.send(invite);
    const ok = await alice.expectResponse(invite, 200);
    await alice.ack(invite, ok);
    expect(results['invite']?.content).toBe('v=0\r\n');

    for (const [type, body] of [
      ['application/octet-stream', Buffer.from([0, 1, 2, 255])],
      ['text/plain', Buffer.from('plain')],
      ['application/json', Buffer.from('{"a":1}')],
    ] as const) {
      const info = alice.createInDialog(invite, ok, 'INFO', { body, contentType: type });
      await alice.send(info);
      expect((await alice.expectResponse(info)).status).toBe(200);
    }
    expect(results['info application/octet-stream']).toMatchObject({ kind: 'Buffer', content: '000102ff', initial: false });
    expect(results['info text/plain']).toMatchObject({ kind: 'string', content: 'plain' });
    expect(results['info application/json']).toMatchObject({ kind: 'string', content: '{"a":1}' });
    // From/To of a request inside a dialog belong to the dialog.
    expect(results['info text/plain']?.fromInDialog).toEqual(refused('From'));

    const bye = alice.createInDialog(invite, ok, 'BYE');
    await alice.send(bye);
    expect((await alice.expectResponse(bye)).status).toBe(200);
    expect(results['bye']).toEqual({ initial: false });
    await waitUntil(() => s.container.stats().sessions.sipSessions === 0, 'the session to be invalidated');
  });

  it('lets the app set Contact on a REGISTER response and a 3xx, never on a 200 to INVITE', async () => {
    const { alice } = await start();
    const register = alice.createRequest('REGISTER', { to: 'sip:alice@127.0.0.1', requestUri: 'sip:127.0.0.1', headers: { Contact: alice.contact } });
    await alice.send(register);
    const regOk = await alice.expectResponse(register, 200);
    expect(results['register']).toEqual({ contact: { ok: true }, addContact: { ok: true } });
    expect(regOk.getAll('contact')).toEqual(['<sip:alice@10.0.0.2:5060>;expires=60', '<sip:alice@10.0.0.3:5060>;expires=60']);

    const invite = alice.createRequest('INVITE', { to: 'sip:messages@127.0.0.1' });
    await alice.send(invite);
    const ok = await alice.expectResponse(invite, 200);
    await alice.ack(invite, ok);
    expect(results['invite']?.contact).toEqual(refused('Contact'));
    expect(results['invite']?.removeContact).toEqual(refused('Contact'));
    expect(results['invite']?.contactOn302).toEqual({ ok: true });
    expect((results['invite']?.contact as Outcome).message).toMatch(/REGISTER/);
    // The container's Contact went out instead.
    expect(ok.getAll('contact')).toEqual(['<sip:127.0.0.1:5060;transport=tcp>']);
  });

  it('changes From/To URI and display name on a new request, never their tags, and nothing once it is sent', async () => {
    const { s, alice } = await start();
    const bob = await s.ua('bob');
    bobUri = `<${bob.uri.toString()}>`;
    expect((await message(alice, 'new-request')).status).toBe(200);
    const got = await bob.expectRequest('MESSAGE');
    await waitUntil(() => results['new-request']?.afterSend !== undefined, 'the app to finish');
    const r = results['new-request'] as Record<string, unknown>;
    expect(r.fromDisplay).toEqual({ ok: true });
    expect(r.toUri).toEqual({ ok: true });
    expect(r.fromTag).toEqual(refused('From'));
    expect(r.toTag).toEqual(refused('To'));
    expect(r.fromBySetHeader).toEqual(refused('From'));
    expect(r.contactOnMessage).toEqual(refused('Contact'));
    expect(r.callId).toEqual(refused('Call-ID'));
    expect(r.afterSend).toEqual([illegalState, illegalState, illegalState, illegalState, illegalState]);
    expect((r.afterSend as Outcome[])[0]?.message).toMatch(/committed/);

    expect(got.from.displayName).toBe('The App');
    expect(got.from.tag).toBeDefined();
    expect(got.from.tag).not.toBe('mine');
    expect(got.to.uri.toString()).toBe(`sip:robert@${bob.address}:${bob.port};transport=tcp`);
    expect(got.to.tag).toBeUndefined();
    // The Request-URI was fixed when the request was created (JSR 289 §4.1.1).
    expect(got.uriText).toBe(bob.uri.toString());
    expect(got.get('x-late')).toBeUndefined();
    expect(got.body.toString()).toBe('hi bob');

    await bob.respond(got, 200);
    await waitUntil(() => results['response'] !== undefined, 'the 200 to reach the app');
    expect(results['response']).toEqual({ status: 200, committed: true, change: illegalState, transport: 'tcp', remote: `${bob.address}:${bob.port}` });
  });

  it('refuses a second final response: createResponse after one throws, so does sending another', async () => {
    const { alice } = await start();
    const msg = alice.createRequest('MESSAGE', { to: 'sip:messages@127.0.0.1', body: 'x', contentType: 'text/plain', headers: { 'X-Case': 'committed' } });
    await alice.send(msg);
    expect((await alice.expectResponse(msg)).status).toBe(200);
    await waitUntil(() => results['committed']?.sendAgain !== undefined, 'the app to finish');
    expect(results['committed']).toEqual({
      createAfterFinal: illegalState,
      sendSecond: illegalState,
      changeSent: illegalState,
      contentSent: illegalState,
      classes: [true],
      sendAgain: illegalState,
    });
    expect((results['committed']?.createAfterFinal as Outcome).message).toMatch(/already answered/);
    // Only one final response on the wire.
    await new Promise((r) => setTimeout(r, 20));
    expect(alice.unread()).toEqual([]);
  });
});
