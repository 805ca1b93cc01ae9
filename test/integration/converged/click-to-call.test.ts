/**
 * The click-to-call sample, its HTTP API driven with fetch against the test kit's HTTP side, the
 * two parties scripted UAs on the in-memory network.
 *
 *   test (HTTP)           Siplet: click-to-call              alice (first)        bob (second)
 *     | POST /calls ----------> |                                 |                    |
 *     | <- 201 { id } calling --| INVITE (no SDP) --------------> |                    |
 *     | GET: ringing (first) ---| <------------------------- 180  |                    |
 *     |                         | <------------------- 200 (offer A)                   |
 *     | GET: calling (second) --| INVITE (offer A) ------------------------------------> |
 *     | GET: ringing (second) --| <-------------------------------------------- 180    |
 *     |                         | <-------------------------------------- 200 (answer B)
 *     |                         | ACK ---------------------------------------------->  |
 *     | GET: answered ----------| ACK (answer B) -----------------> |                    |
 *     | DELETE -----------------| BYE ----------------------------> | BYE ------------> |
 *     | GET: ended "hung up"    | <----------------------------- 200 <-------------- 200
 *
 *   bob busy: 486 ─► alice's 200 is ACKed with an answer refusing its streams, then BYE; ended
 *   alice hangs up (BYE) ─► bob gets BYE; ended "first party hung up"
 *   DELETE while bob rings ─► alice: ACK + BYE; bob: CANCEL (487)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import type { SipRequest } from '../../../src/sip/message/index.js';
import * as clickToCall from '../../../samples/click-to-call/index.js';
import type { CallView } from '../../../samples/click-to-call/index.js';

const OFFER = 'v=0\r\no=alice 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const ANSWER = 'v=0\r\no=bob 1 1 IN IP4 127.0.0.3\r\ns=-\r\nc=IN IP4 127.0.0.3\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n';

let siplet: TestSiplet;
let alice: ScriptedUa;
let bob: ScriptedUa;
let base: string;

beforeEach(async () => {
  siplet = await createTestSiplet({ apps: [{ exports: clickToCall, config: { ringTimeoutMs: 5000 } }], http: true });
  alice = await siplet.ua('alice');
  bob = await siplet.ua('bob');
  base = `${siplet.httpUrl}/click-to-call`;
});

afterEach(async () => {
  await siplet.close();
});

async function place(from = alice.uri.toString(), to = bob.uri.toString()): Promise<{ id: string; call: CallView; cookie: string | null }> {
  const res = await fetch(`${base}/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from, to }) });
  expect(res.status, await res.clone().text()).toBe(201);
  const body = (await res.json()) as { id: string; call: CallView };
  expect(res.headers.get('location')).toBe(`/click-to-call/calls/${body.id}`);
  return { ...body, cookie: res.headers.get('set-cookie') };
}

async function get(id: string): Promise<CallView> {
  const res = await fetch(`${base}/calls/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as CallView;
}

/** Polls GET until the call matches. */
async function until(id: string, expected: Partial<CallView>): Promise<CallView> {
  const deadline = Date.now() + 3000;
  let last: CallView | undefined;
  while (Date.now() < deadline) {
    last = await get(id);
    if (Object.entries(expected).every(([k, v]) => JSON.stringify((last as unknown as Record<string, unknown>)[k]) === JSON.stringify(v))) return last;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the call never became ${JSON.stringify(expected)}; last ${JSON.stringify(last)}`);
}

/** Runs a call up to both parties answered; returns what the parties received. */
async function connect(): Promise<{ id: string; inviteA: SipRequest; inviteB: SipRequest; cookie: string | null }> {
  const { id, call, cookie } = await place();
  expect(call).toMatchObject({ id, state: 'calling', calling: 'first', from: { uri: alice.uri.toString(), state: 'calling' }, to: { state: 'idle' } });
  const inviteA = await alice.expectRequest('INVITE');
  expect(inviteA.body.length).toBe(0);
  await alice.respond(inviteA, 180, { toTag: 'a1' });
  await until(id, { state: 'ringing', calling: 'first' });
  await alice.respond(inviteA, 200, { toTag: 'a1', body: OFFER });
  const inviteB = await bob.expectRequest('INVITE');
  expect(inviteB.body.toString()).toBe(OFFER);
  expect(inviteB.from.uri.toString()).toBe(alice.uri.toString());
  const calling = await until(id, { state: 'calling', calling: 'second' });
  expect(calling.from).toMatchObject({ state: 'answered', sip: 'CONFIRMED' });
  // Flow I: alice's 200 waits for bob's answer; no ACK yet.
  expect(alice.unread().filter((m) => m.isRequest && m.method === 'ACK')).toHaveLength(0);
  await bob.respond(inviteB, 180, { toTag: 'b1' });
  const ringing = await until(id, { state: 'ringing', calling: 'second' });
  expect(ringing.to).toMatchObject({ state: 'ringing', sip: 'EARLY' });
  await bob.respond(inviteB, 200, { toTag: 'b1', body: ANSWER });
  const ackB = await bob.expectRequest('ACK');
  expect(ackB.body.length).toBe(0);
  const ackA = await alice.expectRequest('ACK');
  expect(ackA.body.toString()).toBe(ANSWER);
  const answered = await until(id, { state: 'answered' });
  expect(answered).toMatchObject({ from: { state: 'answered', sip: 'CONFIRMED' }, to: { state: 'answered', sip: 'CONFIRMED' } });
  expect(answered.answeredAt).toBeDefined();
  return { id, inviteA, inviteB, cookie };
}

describe('click-to-call over HTTP', () => {
  it('places a third-party call (RFC 3725 flow I), reports each step, and hangs up both parties on DELETE', async () => {
    const { id } = await connect();
    const del = await fetch(`${base}/calls/${id}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(await del.json()).toMatchObject({ state: 'ended', reason: 'hung up' });
    const byeA = await alice.expectRequest('BYE');
    const byeB = await bob.expectRequest('BYE');
    await alice.respond(byeA, 200);
    await bob.respond(byeB, 200);
    const ended = await until(id, { state: 'ended' });
    expect(ended).toMatchObject({ reason: 'hung up', from: { state: 'ended' }, to: { state: 'ended' } });
    expect(ended.endedAt).toBeDefined();
  });

  it('ends the call when the first party hangs up: BYE to the second party', async () => {
    const { id, inviteA } = await connect();
    const bye = alice.createInDialogAsUas(inviteA, 'a1', 'BYE');
    await alice.send(bye);
    expect((await alice.expectResponse(bye)).status).toBe(200);
    const byeB = await bob.expectRequest('BYE');
    await bob.respond(byeB, 200);
    expect(await until(id, { state: 'ended' })).toMatchObject({ reason: 'first party hung up', from: { state: 'ended' }, to: { state: 'ended' } });
  });

  it('refuses the first party\'s offer in its ACK and hangs up when the second party is busy', async () => {
    const { id } = await place();
    const inviteA = await alice.expectRequest('INVITE');
    await alice.respond(inviteA, 200, { toTag: 'a1', body: OFFER });
    const inviteB = await bob.expectRequest('INVITE');
    await bob.respond(inviteB, 486, { toTag: 'b1' });
    await bob.expectRequest('ACK');
    const ackA = await alice.expectRequest('ACK');
    expect(ackA.body.toString()).toContain('m=audio 0 RTP/AVP 0');
    const byeA = await alice.expectRequest('BYE');
    await alice.respond(byeA, 200);
    expect(await until(id, { state: 'ended' })).toMatchObject({
      reason: 'second party did not answer: 486 Busy Here',
      to: { state: 'failed', status: 486, reason: 'Busy Here' },
      from: { state: 'ended' },
    });
  });

  it('cancels the second party and releases the first on DELETE while the second party rings', async () => {
    const { id } = await place();
    const inviteA = await alice.expectRequest('INVITE');
    await alice.respond(inviteA, 200, { toTag: 'a1', body: OFFER });
    const inviteB = await bob.expectRequest('INVITE');
    await bob.respond(inviteB, 180, { toTag: 'b1' });
    await until(id, { state: 'ringing', calling: 'second' });
    expect((await fetch(`${base}/calls/${id}`, { method: 'DELETE' })).status).toBe(200);
    const cancel = await bob.expectRequest('CANCEL');
    await bob.respond(cancel, 200);
    await bob.respond(inviteB, 487, { toTag: 'b1' });
    await alice.expectRequest('ACK');
    const byeA = await alice.expectRequest('BYE');
    await alice.respond(byeA, 200);
    expect(await until(id, { state: 'ended' })).toMatchObject({ reason: 'hung up', to: { state: 'failed' }, from: { state: 'ended' } });
  });

  it('ends the call when the first party does not answer', async () => {
    const { id } = await place();
    const inviteA = await alice.expectRequest('INVITE');
    await alice.respond(inviteA, 480, { toTag: 'a1' });
    await alice.expectRequest('ACK');
    expect(await until(id, { state: 'ended' })).toMatchObject({ reason: 'first party did not answer: 480 Temporarily Unavailable', to: { state: 'idle' } });
    expect(bob.received).toHaveLength(0);
  });

  it('refuses addresses that are not SIP URIs with 400', async () => {
    for (const body of [{ from: 'alice', to: bob.uri.toString() }, { from: alice.uri.toString() }, { from: 'http://example.com/', to: bob.uri.toString() }]) {
      const res = await fetch(`${base}/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/SIP|sip:/);
    }
    const bad = await fetch(`${base}/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{ not json' });
    expect(bad.status).toBe(400);
    expect(alice.received).toHaveLength(0);
    expect(siplet.container.stats().sessions.applicationSessions).toBe(0);
  });

  it('finds the browser\'s last call by its session cookie, and 404 for an unknown call', async () => {
    const { id, cookie } = await place();
    expect(cookie).toMatch(/^siplet-session=[\w-]+; Path=\/click-to-call; HttpOnly; SameSite=Lax$/);
    const current = await fetch(`${base}/calls/current`, { headers: { cookie: (cookie as string).split(';')[0] as string } });
    expect(await current.json()).toMatchObject({ id, state: 'calling' });
    expect((await fetch(`${base}/calls/current`)).status).toBe(404);
    expect((await fetch(`${base}/calls/nope`)).status).toBe(404);
    await alice.respond(await alice.expectRequest('INVITE'), 486);
  });

  it('serves its web page and script', async () => {
    const page = await fetch(`${base}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('id="from"');
    expect(html).toContain('src="/click-to-call/page.js"');
    const script = await fetch(`${base}/page.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(await script.text()).toContain("fetch(base + '/calls'");
  });

  it('removes its routes when undeployed', async () => {
    expect((await fetch(`${base}/`)).status).toBe(200);
    await siplet.container.undeploy('click-to-call', { force: true });
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${siplet.httpUrl}/health`)).status).toBe(200);
  });
});
