/**
 * Converged HTTP + SIP sessions: an app ("notes") whose HTTP routes and SIP servlet share
 * application sessions, found by @SipApplicationKey (SIP), by key or id through SipSessionsUtil
 * (HTTP), by the siplet-as parameter encodeURL adds, and by the HTTP session cookie.
 *
 *   test (HTTP)                          Siplet: notes                          alice (SIP)
 *     | POST /notes/k1 {note} --------> | app session key k1 ← note             |
 *     | <-- { id, url: encodeURL(...) } |                                        |
 *     |                                 | <-------- MESSAGE sip:k1@… (key k1) -- |
 *     |                                 | 200 "hello" (the note HTTP stored) --> |
 *     | GET url (?siplet-as=id) ------> | same app session: lastMessage from SIP |
 *     | <-- Set-Cookie: siplet-session  |                                        |
 *     | GET /session (cookie) --------> | same app session                       |
 *
 *   POST /slow/k2 holds k2's queue 150 ms ─ a MESSAGE for k2 meanwhile runs after it
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  express,
  getConvergedSession,
  IllegalStateError,
  SipApplication,
  SipApplicationKey,
  SipServlet,
  type HttpContext,
  type SipServletRequest,
} from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import type { IncomingMessage } from 'node:http';

@SipApplication({ name: 'notes', http: { router: 'routes' } })
@SipServlet({ name: 'notes' })
class Notes extends SipServlet {
  @SipApplicationKey()
  static key(req: SipServletRequest): string | undefined {
    return (req.getRequestURI() as { user?: string }).user;
  }

  override async doMessage(req: SipServletRequest): Promise<void> {
    const s = req.getApplicationSession();
    s.setAttribute('lastMessage', req.getContent()?.toString());
    const res = req.createResponse(200);
    res.setContent(`${String(s.getAttribute('note') ?? '(none)')}|${String(s.getAttribute('phase') ?? '-')}`, 'text/plain');
    await res.send();
  }
}

function routes(ctx: HttpContext) {
  const router = express.Router();
  router.use(express.json());
  router.post('/notes/:key', async (req, res) => {
    const appSession = ctx.sessionsUtil.getApplicationSessionByKey(req.params.key, true);
    if (appSession === undefined) throw new Error('no session');
    const conv = getConvergedSession(req);
    await conv.join(appSession);
    appSession.setAttribute('note', (req.body as { note: string }).note);
    conv.setAttribute('by', 'the poster');
    res.json({ id: appSession.getId(), url: appSession.encodeURL(`${ctx.basePath}/session`), httpSession: conv.getId(), isNew: conv.isNew() });
  });
  router.get('/session', async (req, res) => {
    const conv = getConvergedSession(req);
    const appSession = await conv.getApplicationSession(false);
    if (appSession === undefined) {
      res.status(404).json({ error: 'no session' });
      return;
    }
    res.json({ id: appSession.getId(), note: appSession.getAttribute('note'), lastMessage: appSession.getAttribute('lastMessage'), by: conv.getAttribute('by') ?? null, isNew: conv.isNew() });
  });
  router.post('/slow/:key', async (req, res) => {
    const appSession = ctx.sessionsUtil.getApplicationSessionByKey(req.params.key, true);
    if (appSession === undefined) throw new Error('no session');
    await getConvergedSession(req).join(appSession);
    appSession.setAttribute('phase', 'http');
    await new Promise((r) => setTimeout(r, 150));
    appSession.setAttribute('phase', 'http-done');
    res.end('done');
  });
  router.post('/logout', (req, res) => {
    getConvergedSession(req).invalidate();
    res.end();
  });
  router.get('/boom', () => {
    throw new Error('boom');
  });
  return router;
}

let siplet: TestSiplet;
let alice: ScriptedUa;
let base: string;

beforeEach(async () => {
  siplet = await createTestSiplet({ apps: [{ exports: { Notes, routes } }], http: true, dar: 'MESSAGE: ("notes", "DAR:To", "TERMINATING", "", "NO_ROUTE", "0")' });
  alice = await siplet.ua('alice');
  base = `${siplet.httpUrl}/notes`;
});

afterEach(async () => {
  await siplet.close();
});

async function message(key: string, body = 'hi'): Promise<string> {
  const req = alice.createRequest('MESSAGE', { to: `sip:${key}@127.0.0.1`, body, contentType: 'text/plain' });
  await alice.send(req);
  const res = await alice.expectResponse(req);
  expect(res.status).toBe(200);
  return res.body.toString();
}

const cookieOf = (res: Response): string => (res.headers.get('set-cookie') ?? '').split(';')[0] as string;

describe('converged HTTP + SIP sessions', () => {
  it('shares an application session between HTTP (by key) and SIP (@SipApplicationKey), both ways', async () => {
    const posted = await fetch(`${base}/notes/k1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ note: 'hello' }) });
    const { id, url, isNew } = (await posted.json()) as { id: string; url: string; isNew: boolean };
    expect(isNew).toBe(true);
    expect(url).toBe(`/notes/session?siplet-as=${encodeURIComponent(id)}`);
    // The SIP servlet reads what the HTTP handler stored, and stores what HTTP reads back.
    expect(await message('k1', 'from SIP')).toBe('hello|-');
    const viaUrl = await fetch(`${siplet.httpUrl}${url}`);
    expect(await viaUrl.json()).toMatchObject({ id, note: 'hello', lastMessage: 'from SIP', by: null });
    expect(siplet.container.stats().sessions.applicationSessions).toBe(1);
  });

  it('joins the application session encodeURL names, then the one the session cookie names', async () => {
    const posted = await fetch(`${base}/notes/k1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ note: 'n' }) });
    const { id, url } = (await posted.json()) as { id: string; url: string };
    expect((await fetch(`${base}/session`)).status).toBe(404);
    // A client without the cookie joins through the URL, and gets a cookie of its own.
    const first = await fetch(`${siplet.httpUrl}${url}`);
    expect(await first.json()).toMatchObject({ id, isNew: true, by: null });
    const cookie = cookieOf(first);
    expect(cookie).toMatch(/^siplet-session=/);
    const again = await fetch(`${base}/session`, { headers: { cookie } });
    expect(await again.json()).toMatchObject({ id, isNew: false });
    // The poster's own HTTP session has its own attributes.
    const mine = await fetch(`${base}/session`, { headers: { cookie: cookieOf(posted) } });
    expect(await mine.json()).toMatchObject({ id, by: 'the poster' });
    // Ending the HTTP session leaves the application session.
    const out = await fetch(`${base}/logout`, { method: 'POST', headers: { cookie } });
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect((await fetch(`${base}/session`, { headers: { cookie } })).status).toBe(404);
    expect((await fetch(`${siplet.httpUrl}${url}`)).status).toBe(200);
  });

  it('ignores a siplet-as parameter naming no session of this app', async () => {
    expect((await fetch(`${base}/session?siplet-as=nonsense`)).status).toBe(404);
  });

  it('runs HTTP work in the application session\'s serial queue: a SIP request waits for the HTTP response', async () => {
    const slow = fetch(`${base}/slow/k2`, { method: 'POST' });
    await new Promise((r) => setTimeout(r, 50));
    expect(await message('k2')).toBe('(none)|http-done');
    expect((await slow).status).toBe(200);
  });

  it('answers an error of the app\'s routes with 500 and goes on serving', async () => {
    const boom = await fetch(`${base}/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.json()).toEqual({ error: 'Internal Server Error' });
    expect((await fetch(`${base}/session`)).status).toBe(404);
  });

  it('gives getConvergedSession only to requests that came through a converged app\'s routes', () => {
    expect(() => getConvergedSession({} as IncomingMessage)).toThrow(IllegalStateError);
  });

  it('removes the routes on undeploy and mounts them again on a new deployment', async () => {
    await siplet.container.undeploy('notes', { force: true });
    expect((await fetch(`${base}/session`)).status).toBe(404);
    await siplet.deploy({ exports: { Notes, routes } });
    expect((await fetch(`${base}/boom`)).status).toBe(500);
  });

  it('does not mount an app named after Siplet\'s own paths; its SIP side still deploys', async () => {
    await siplet.deploy({ exports: { Notes, routes }, descriptor: { name: 'admin' } });
    expect(siplet.container.applications().map((a) => a.name)).toContain('admin');
    expect((await fetch(`${siplet.httpUrl}/admin/boom`)).status).toBe(404);
  });
});
