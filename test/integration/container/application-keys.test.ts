/**
 * @SipApplicationKey (JSR 289 §15.11.2): initial requests whose key method
 * returns the same key join one application session; SipSessionsUtil finds
 * it by key and by id, and only within its own application.
 *
 *   alice               Siplet: app "rooms" (key = Request-URI user)      bob
 *     | INVITE room1 --> | key "room1": new application session A          |
 *     | <--------- 200   |                                                 |
 *     |                  | <------------------------------- INVITE room1  | key "room1": joins A
 *     |                  | 200 ------------------------------------------> |
 *     | INVITE room2 --> | key "room2": application session B              |
 *     | BYE (room1) ---> |                                                 |
 *     |                  | <-------------------------------------- BYE    | A has no SIP session left: gone
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  inject,
  SIP_FACTORY,
  SIP_SESSIONS_UTIL,
  SipApplication,
  SipApplicationKey,
  SipServlet,
  SipUri,
  type SipFactory,
  type SipServletRequest,
  type SipSessionsUtil,
} from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import type { SipResponse } from '../../../src/sip/message/index.js';
import { capturingLogger, until } from './helpers.js';

let siplet: TestSiplet | undefined;
afterEach(async () => {
  await siplet?.close();
  siplet = undefined;
});

const roomOf = (req: SipServletRequest): string | undefined => {
  const uri = req.getRequestURI();
  return uri instanceof SipUri ? uri.user : undefined;
};

/** Answers INVITE with the application session's id, what SipSessionsUtil finds, and who is in the room. */
function answerWithLookups(factory: SipFactory, sessions: SipSessionsUtil) {
  return async (req: SipServletRequest): Promise<void> => {
    const appSession = req.getApplicationSession();
    const room = roomOf(req) ?? '';
    const members = [...(appSession.getAttribute<string[]>('members') ?? []), req.getFrom().uri.toString()];
    appSession.setAttribute('members', members);
    const res = req.createResponse(200);
    res.setHeader('X-AS', appSession.getId());
    res.setHeader('X-By-Key', sessions.getApplicationSessionByKey(room)?.getId() ?? 'none');
    res.setHeader('X-By-Id', String(sessions.getApplicationSessionById(appSession.getId()) === appSession));
    res.setHeader('X-Members', String(members.length));
    res.setHeader('X-Sessions', String(appSession.getSessions().length));
    res.setHeader('X-Factory-By-Key', String(factory.createApplicationSessionByKey(room) === appSession));
    const other = req.getHeader('X-Lookup');
    if (other !== undefined) res.setHeader('X-Other', sessions.getApplicationSessionById(other)?.getId() ?? 'none');
    await res.send();
  };
}

@SipApplication({ name: 'rooms' })
@SipServlet({ name: 'rooms' })
class RoomServlet extends SipServlet {
  readonly #invite: (req: SipServletRequest) => Promise<void>;
  constructor(@inject(SIP_FACTORY) factory: SipFactory, @inject(SIP_SESSIONS_UTIL) private readonly sessions: SipSessionsUtil) {
    super();
    this.#invite = answerWithLookups(factory, sessions);
  }

  @SipApplicationKey()
  static key(req: SipServletRequest): string | undefined {
    const room = roomOf(req);
    if (room === 'broken') throw new Error('no key for this room');
    return room === 'nokey' ? undefined : room;
  }

  override doInvite(req: SipServletRequest): Promise<void> {
    return this.#invite(req);
  }
  override async doBye(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
  }
  /** MESSAGE "create <key>": SipSessionsUtil.getApplicationSessionByKey(key, true). */
  override async doMessage(req: SipServletRequest): Promise<void> {
    const key = String(req.getContent()).replace(/^create /, '');
    const before = this.sessions.getApplicationSessionByKey(key);
    const created = this.sessions.getApplicationSessionByKey(key, true);
    const again = this.sessions.getApplicationSessionByKey(key);
    const res = req.createResponse(200);
    res.setHeader('X-Before', before?.getId() ?? 'none');
    res.setHeader('X-Same', String(created !== undefined && again === created));
    await res.send();
  }
}

/** Another application using the same keys: its sessions are its own. */
@SipApplication({ name: 'lobby' })
@SipServlet({ name: 'lobby' })
class LobbyServlet extends SipServlet {
  readonly #invite: (req: SipServletRequest) => Promise<void>;
  constructor(@inject(SIP_FACTORY) factory: SipFactory, @inject(SIP_SESSIONS_UTIL) sessions: SipSessionsUtil) {
    super();
    this.#invite = answerWithLookups(factory, sessions);
  }
  @SipApplicationKey()
  static key(req: SipServletRequest): string | undefined {
    return roomOf(req);
  }
  override doInvite(req: SipServletRequest): Promise<void> {
    return this.#invite(req);
  }
}

const DAR = [
  'INVITE: ("rooms", "DAR:To", "ORIGINATING", "", "NO_ROUTE", "0")',
  'MESSAGE: ("rooms", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")',
].join('\n');

async function join(ua: ScriptedUa, room: string, headers: Record<string, string> = {}) {
  const invite = ua.createRequest('INVITE', { to: `sip:${room}@127.0.0.1`, headers });
  await ua.send(invite);
  const ok = await ua.expectResponse(invite, 200);
  await ua.ack(invite, ok);
  return { invite, ok };
}

const h = (res: SipResponse, name: string): string | undefined => res.get(name);

describe('@SipApplicationKey', () => {
  it('puts initial requests with the same key in one application session, found by key and by id', async () => {
    siplet = await createTestSiplet({ apps: [{ exports: { RoomServlet } }], dar: DAR });
    const alice = await siplet.ua('alice');
    const bob = await siplet.ua('bob');
    const a = await join(alice, 'room1');
    const b = await join(bob, 'room1');
    const c = await join(alice, 'room2');
    const as1 = h(a.ok, 'X-AS');
    expect(h(b.ok, 'X-AS')).toBe(as1);
    expect(h(c.ok, 'X-AS')).not.toBe(as1);
    expect(h(a.ok, 'X-By-Key')).toBe(as1);
    expect(h(b.ok, 'X-By-Key')).toBe(as1);
    expect(h(c.ok, 'X-By-Key')).toBe(h(c.ok, 'X-AS'));
    for (const r of [a, b, c]) {
      expect(h(r.ok, 'X-By-Id')).toBe('true');
      // SipFactory.createApplicationSessionByKey returns the existing session.
      expect(h(r.ok, 'X-Factory-By-Key')).toBe('true');
    }
    // Two callers, two SIP sessions, one application session.
    expect(h(b.ok, 'X-Members')).toBe('2');
    expect(h(b.ok, 'X-Sessions')).toBe('2');
    expect(siplet.container.stats().sessions).toMatchObject({ applicationSessions: 2, sipSessions: 3, dialogs: 3 });
    expect(siplet.container.sessions.getApplicationSessionByKey('rooms', 'room1')?.getId()).toBe(as1);

    // The room's application session lives while one caller is in it.
    const byeA = alice.createInDialog(a.invite, a.ok, 'BYE');
    await alice.send(byeA);
    await alice.expectResponse(byeA, 200);
    await until(() => siplet?.container.stats().sessions.sipSessions === 2, 'alice to leave room1');
    expect(siplet.container.sessions.getApplicationSessionByKey('rooms', 'room1')?.isValid()).toBe(true);
    const byeB = bob.createInDialog(b.invite, b.ok, 'BYE');
    await bob.send(byeB);
    await bob.expectResponse(byeB, 200);
    await until(() => siplet?.container.sessions.getApplicationSessionByKey('rooms', 'room1') === undefined, 'room1 to be gone');

    // A new call to the room gets a new application session under the same key.
    const d = await join(bob, 'room1');
    expect(h(d.ok, 'X-AS')).not.toBe(as1);
    expect(h(d.ok, 'X-Members')).toBe('1');
  });

  it('gives every request its own application session when the key method returns undefined or throws', async () => {
    const { logger, records } = capturingLogger();
    siplet = await createTestSiplet({ apps: [{ exports: { RoomServlet } }], dar: DAR, logger });
    const alice = await siplet.ua('alice');
    const ids = [];
    for (const room of ['nokey', 'nokey', 'broken', 'broken']) ids.push(h((await join(alice, room)).ok, 'X-AS'));
    expect(new Set(ids).size).toBe(4);
    const failed = records.filter((r) => r.level >= 50);
    expect(failed).toHaveLength(2);
    expect(JSON.stringify(failed[0])).toContain('rooms');
    expect(JSON.stringify(failed[0])).toContain('no key for this room');
  });

  it('SipSessionsUtil.getApplicationSessionByKey(key, true) creates the session once', async () => {
    siplet = await createTestSiplet({ apps: [{ exports: { RoomServlet } }], dar: DAR });
    const alice = await siplet.ua('alice');
    const msg = alice.createRequest('MESSAGE', { to: 'sip:bob@127.0.0.1', body: 'create room9', contentType: 'text/plain' });
    await alice.send(msg);
    const ok = await alice.expectResponse(msg, 200);
    expect(h(ok, 'X-Before')).toBe('none');
    expect(h(ok, 'X-Same')).toBe('true');
    const created = siplet.container.sessions.getApplicationSessionByKey('rooms', 'room9');
    expect(created?.isValid()).toBe(true);
    // An INVITE to the room joins the session made by key.
    const j = await join(alice, 'room9');
    expect(h(j.ok, 'X-AS')).toBe(created?.getId());
  });

  it('keys and ids are per application: another app with the same key has its own session and cannot find the first', async () => {
    siplet = await createTestSiplet({ apps: [{ exports: { RoomServlet } }, { exports: { LobbyServlet } }], dar: DAR });
    const alice = await siplet.ua('alice');
    const inRooms = await join(alice, 'room1');
    siplet.setDar('INVITE: ("lobby", "DAR:To", "ORIGINATING", "", "NO_ROUTE", "0")');
    const roomsId = h(inRooms.ok, 'X-AS') as string;
    const inLobby = await join(alice, 'room1', { 'X-Lookup': roomsId });
    expect(h(inLobby.ok, 'X-AS')).not.toBe(roomsId);
    expect(h(inLobby.ok, 'X-Members')).toBe('1');
    expect(h(inLobby.ok, 'X-Other')).toBe('none');
    expect(siplet.container.sessions.getApplicationSessionByKey('lobby', 'room1')?.getId()).toBe(h(inLobby.ok, 'X-AS'));
    expect(siplet.container.sessions.getApplicationSessionByKey('rooms', 'room1')?.getId()).toBe(roomsId);
  });
});
