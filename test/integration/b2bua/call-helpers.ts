/**
 * What the b2bua() call tests share: the DAR, SDP bodies, the caller's INVITE,
 * answering a call end to end, and waiting for the container to drop every session.
 */
import { queryObjects, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'vitest';
import type { ScriptedUa, TestSiplet } from 'siplet/sdk/testing';
import type { SipMessageValue } from 'siplet/sdk/testing';

export const DAR = 'INVITE: ("b2b", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")\nMESSAGE: ("b2b", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")';
export const SDP_A = 'v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nm=audio 4000 RTP/AVP 0\r\n';
export const SDP_B = 'v=0\r\no=bob 1 1 IN IP4 192.0.2.20\r\ns=-\r\nm=audio 5000 RTP/AVP 0\r\n';

type Request = Extract<SipMessageValue, { isRequest: true }>;
type Response = Exclude<SipMessageValue, Request>;

/** alice's INVITE for bob, through the b2bua() app (X-Target names bob). */
export function callerInvite(alice: ScriptedUa, bob: ScriptedUa, headers: Record<string, string> = {}): Request {
  return alice.createRequest('INVITE', { to: 'sip:bob@example.com', from: 'sip:alice@example.com', body: SDP_A, headers: { 'X-Target': bob.uri.toString(), ...headers } });
}

/**
 * One call through the b2bua sample (alice calls bob's URI): INVITE, bob's 180 and 200 with tag
 * `b<n>`, alice's ACK reaching bob. Returns alice's INVITE and 200 and bob's INVITE.
 */
export async function establishCall(alice: ScriptedUa, bob: ScriptedUa, n: number): Promise<{ invite: Request; ok: Response; atBob: Request }> {
  const invite = alice.createRequest('INVITE', { to: bob.uri, body: SDP_A });
  await alice.send(invite);
  const atBob = await bob.expectRequest('INVITE');
  await bob.respond(atBob, 180, { toTag: `b${n}` });
  await bob.respond(atBob, 200, { toTag: `b${n}`, body: SDP_B });
  const ok = await alice.expectResponse(invite, 200);
  await alice.ack(invite, ok);
  await bob.expectRequest('ACK');
  return { invite, ok, atBob };
}

/** bob rings and answers (tag b1); alice gets the 180 and the 200 and ACKs; bob gets the ACK. */
export async function answer(alice: ScriptedUa, bob: ScriptedUa, invite: Request, atBob: Request): Promise<{ ok: Response; ackAtBob: Request }> {
  await bob.respond(atBob, 180, { toTag: 'b1' });
  await alice.expectResponse(invite, 180);
  await bob.respond(atBob, 200, { toTag: 'b1', body: SDP_B });
  const ok = await alice.expectResponse(invite, 200);
  await alice.ack(invite, ok);
  const ackAtBob = await bob.expectRequest('ACK');
  return { ok, ackAtBob };
}

/** Resolves once the container holds no application session, SIP session or dialog. */
export async function noSessionsLeft(siplet: TestSiplet, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { applicationSessions, sipSessions, dialogs } = siplet.container.stats().sessions;
    if (applicationSessions === 0 && sipSessions === 0 && dialogs === 0) return;
    if (Date.now() > deadline) {
      expect({ applicationSessions, sipSessions, dialogs }, 'sessions left after the call').toEqual({ applicationSessions: 0, sipSessions: 0, dialogs: 0 });
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Live instances of a class after a full collection (v8.queryObjects), without what the scripted
 * UAs received: their logs are emptied first, as they hold every message of every call.
 */
export async function liveObjects(uas: ScriptedUa[], ctor: { prototype: unknown }): Promise<number> {
  for (const ua of uas) {
    ua.received.length = 0;
    (ua.unread() as unknown[]).length = 0;
  }
  await sleep(20);
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return queryObjects(ctor as unknown as (...args: unknown[]) => unknown, { format: 'count' }) as number;
}
