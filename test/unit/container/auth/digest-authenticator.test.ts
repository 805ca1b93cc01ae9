import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DigestAuthenticator, type AuthVerdict, type DigestAuthSettings } from '../../../../src/container/auth/index.js';
import type { ApplicationModel, SecurityConstraintModel } from '../../../../src/container/model/index.js';
import { parseMessage, type SipRequest, type SipResponse } from '../../../../src/sip/message/index.js';
import type { MessageSource } from '../../../../src/sip/transport/index.js';
import { silentLogger } from '../../../../src/util/index.js';
import { authorization, challengeParams, memoryCredentials, type AuthorizationInput } from './helpers.js';

const REALM = 'example.com';
const users = memoryCredentials([
  { username: 'alice', realm: REALM, password: 'wonderland', roles: ['caller'] },
  { username: 'bob', realm: REALM, password: 'builder' },
]);

function constraint(c: Partial<SecurityConstraintModel> = {}): SecurityConstraintModel {
  return { name: undefined, servletNames: [], methods: [], roles: [], proxyAuthentication: false, transportGuarantee: 'NONE', ...c };
}

function model(constraints: SecurityConstraintModel[], realm?: string): ApplicationModel {
  return { name: 'registrar', securityConstraints: constraints, realm } as unknown as ApplicationModel;
}

let seq = 0;
function request(method: string, options: { uri?: string; from?: string; headers?: [string, string][]; toTag?: string } = {}): SipRequest {
  const uri = options.uri ?? `sip:${REALM}`;
  const lines = [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK${++seq}`,
    `From: <${options.from ?? `sip:alice@${REALM}`}>;tag=f${seq}`,
    `To: <sip:alice@${REALM}>${options.toTag ? `;tag=${options.toTag}` : ''}`,
    `Call-ID: call${seq}@192.0.2.7`,
    `CSeq: ${seq} ${method}`,
    'Max-Forwards: 70',
    ...(options.headers ?? []).map(([n, v]) => `${n}: ${v}`),
    'Content-Length: 0',
    '',
    '',
  ];
  const r = parseMessage(Buffer.from(lines.join('\r\n')));
  if (r.ok !== true || !r.message.isRequest) throw new Error('bad test request');
  return r.message;
}

const source = (address = '192.0.2.7'): MessageSource => ({
  protocol: 'udp',
  local: { address: '192.0.2.1', port: 5060, family: 4 },
  remote: { address, port: 5060, family: 4 },
});

function authenticator(settings: Partial<DigestAuthSettings> = {}, extra: { maxNonces?: number; maxSources?: number } = {}): DigestAuthenticator {
  return new DigestAuthenticator({ credentials: users, settings, logger: silentLogger(), ...extra });
}

/** An initial request for servlet 'main' from 192.0.2.7. */
function check(auth: DigestAuthenticator, m: ApplicationModel, req: SipRequest): AuthVerdict {
  return auth.authenticate({ request: req, source: source(), model: m, servlet: 'main', initial: true });
}

function refused(verdict: AuthVerdict): SipResponse {
  if (verdict.kind !== 'refused') throw new Error(`expected a refusal, got ${verdict.kind}`);
  return verdict.response;
}

/** Challenge → answer with `user` / `password` using the challenge of `algorithm`. */
function answer(
  auth: DigestAuthenticator,
  m: ApplicationModel,
  options: { method?: string; uri?: string; user?: string; password?: string; algorithm?: 'MD5' | 'SHA-256'; from?: string; address?: string; proxy?: boolean } & Partial<AuthorizationInput> = {},
): { verdict: AuthVerdict; challenge: string } {
  const method = options.method ?? 'REGISTER';
  const uri = options.uri ?? `sip:${REALM}`;
  const first = refused(auth.authenticate({ request: request(method, { uri, from: options.from }), source: source(options.address), model: m, servlet: 'main', initial: true }));
  const challenges = first.getAll(options.proxy ? 'proxy-authenticate' : 'www-authenticate');
  const challenge = challenges.find((c) => challengeParams(c)['algorithm'] === (options.algorithm ?? 'SHA-256'))!;
  const header = authorization({ challenge, username: options.user ?? 'alice', password: options.password ?? 'wonderland', method, uri, ...options });
  const verdict = auth.authenticate({
    request: request(method, { uri, from: options.from, headers: [[options.proxy ? 'Proxy-Authorization' : 'Authorization', header]] }),
    source: source(options.address),
    model: m,
    servlet: 'main',
    initial: true,
  });
  return { verdict, challenge };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('DigestAuthenticator: challenges', () => {
  it('lets a request no constraint covers through without looking at it', () => {
    const auth = authenticator();
    const m = model([constraint({ methods: ['REGISTER'] })]);
    expect(check(auth, m, request('OPTIONS'))).toEqual({ kind: 'open' });
    expect(auth.authenticate({ request: request('OPTIONS'), source: source(), model: model([]), servlet: 'main', initial: true }).kind).toBe('open');
  });

  it('offers MD5 then SHA-256 by default (RFC 8760 §2.4 order of preference: the first challenge is what most clients answer), each with realm, one nonce, opaque and qop="auth"', () => {
    const auth = authenticator();
    const res = refused(auth.authenticate({ request: request('REGISTER'), source: source(), model: model([constraint()]), servlet: 'main', initial: true }));
    expect(res.status).toBe(401);
    expect(res.to.tag).toBeDefined();
    const values = res.getAll('www-authenticate');
    expect(values).toHaveLength(2);
    const [md5, sha] = values.map(challengeParams);
    expect(sha).toMatchObject({ realm: REALM, algorithm: 'SHA-256', qop: 'auth' });
    expect(md5).toMatchObject({ realm: REALM, algorithm: 'MD5', qop: 'auth' });
    expect(sha!['nonce']).toBe(md5!['nonce']);
    expect(sha!['opaque']).toBeTruthy();
    expect(sha!['stale']).toBeUndefined();
    expect(values[0]).toMatch(/qop="auth"/);
    expect(res.getAll('proxy-authenticate')).toHaveLength(0);
  });

  it('takes no answer with an algorithm it does not offer', () => {
    const auth = authenticator({ algorithms: ['SHA-256'] });
    const m = model([constraint()]);
    const challenge = refused(check(auth, m, request('REGISTER'))).get('www-authenticate')!;
    const params = challengeParams(challenge);
    const md5Answer = authorization({ challenge, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: request('REGISTER').uriText, algorithm: 'MD5' } as AuthorizationInput);
    const verdict = check(auth, m, request('REGISTER', { headers: [['Authorization', md5Answer]] }));
    expect(verdict.kind).toBe('refused');
    expect(params['algorithm']).toBe('SHA-256');
  });

  it('offers the algorithms configured, in their order (SHA-256 first, or one of them only)', () => {
    const offered = (algorithms: DigestAuthSettings['algorithms']) =>
      refused(authenticator({ algorithms }).authenticate({ request: request('REGISTER'), source: source(), model: model([constraint()]), servlet: 'main', initial: true }))
        .getAll('www-authenticate')
        .map((v) => challengeParams(v)['algorithm']);
    expect(offered(['SHA-256', 'MD5'])).toEqual(['SHA-256', 'MD5']);
    expect(offered(['SHA-256'])).toEqual(['SHA-256']);
    expect(offered(['MD5'])).toEqual(['MD5']);
  });

  it('gives every challenge a new nonce', () => {
    const auth = authenticator();
    const m = model([constraint()]);
    const nonce = () => challengeParams(refused(check(auth, m, request('REGISTER'))).get('www-authenticate')!)['nonce'];
    expect(nonce()).not.toBe(nonce());
  });

  it('challenges with 407 and Proxy-Authenticate for a proxyAuthentication constraint, and reads Proxy-Authorization', () => {
    const auth = authenticator();
    const m = model([constraint({ methods: ['INVITE'], proxyAuthentication: true })]);
    const res = refused(check(auth, m, request('INVITE')));
    expect(res.status).toBe(407);
    expect(res.getAll('proxy-authenticate')).toHaveLength(2);
    expect(res.getAll('www-authenticate')).toHaveLength(0);
    const { verdict } = answer(auth, m, { method: 'INVITE', uri: 'sip:bob@example.org', proxy: true });
    expect(verdict).toMatchObject({ kind: 'authenticated', principal: 'alice' });
    // Credentials in Authorization do not satisfy a proxy: challenged again.
    const challenge = refused(check(auth, m, request('INVITE'))).get('proxy-authenticate')!;
    const header = authorization({ challenge, username: 'alice', password: 'wonderland', method: 'INVITE', uri: `sip:${REALM}` });
    expect(refused(check(auth, m, request('INVITE', { headers: [['Authorization', header]] }))).status).toBe(407);
  });

  it('takes the realm from the app, else the server setting, else the REGISTER Request-URI host, else the From host', () => {
    const realmOf = (auth: DigestAuthenticator, m: ApplicationModel, req: SipRequest) =>
      challengeParams(refused(auth.authenticate({ request: req, source: source(), model: m, servlet: 'main', initial: true })).get('www-authenticate')!)['realm'];
    const plain = authenticator();
    expect(realmOf(plain, model([constraint()], 'apps.example'), request('REGISTER'))).toBe('apps.example');
    expect(realmOf(authenticator({ realm: 'server.example' }), model([constraint()]), request('REGISTER'))).toBe('server.example');
    expect(realmOf(plain, model([constraint()]), request('REGISTER', { uri: 'sip:Registrar.Example.NET' }))).toBe('registrar.example.net');
    expect(realmOf(plain, model([constraint()]), request('INVITE', { uri: 'sip:bob@elsewhere.example', from: 'sip:carol@Home.Example' }))).toBe('home.example');
  });

  it('answers 500, and logs once, when no user store is configured', () => {
    const errors: unknown[] = [];
    const logger = Object.assign(silentLogger(), { error: (...args: unknown[]) => void errors.push(args) });
    const auth = new DigestAuthenticator({ logger });
    const m = model([constraint()]);
    for (let i = 0; i < 2; i++) {
      const res = refused(check(auth, m, request('REGISTER')));
      expect(res.status).toBe(500);
      expect(res.reason).toMatch(/no user store/);
    }
    expect(errors).toHaveLength(1);
  });
});

describe('DigestAuthenticator: verification', () => {
  it('authenticates a SHA-256 response computed from the password, with the user and roles', () => {
    const auth = authenticator();
    const { verdict } = answer(auth, model([constraint()]), { algorithm: 'SHA-256' });
    expect(verdict).toEqual({ kind: 'authenticated', principal: 'alice', roles: new Set(['caller']) });
    expect(auth.counters).toMatchObject({ challenges: 1, authenticated: 1, failures: 0 });
  });

  it('authenticates an MD5 response', () => {
    const { verdict } = answer(authenticator(), model([constraint()]), { algorithm: 'MD5', user: 'bob', password: 'builder' });
    expect(verdict).toMatchObject({ kind: 'authenticated', principal: 'bob' });
  });

  it('authenticates the -sess variants and an RFC 2069 client without qop (once per nonce)', () => {
    const auth = authenticator();
    const m = model([constraint()]);
    expect(answer(auth, m, { algorithm: 'MD5' }).verdict.kind).toBe('authenticated');
    const sess = answer(auth, m, { algorithm: 'SHA-256' });
    expect(sess.verdict.kind).toBe('authenticated');
    const md5sess = authorization({ challenge: sess.challenge.replace('SHA-256', 'MD5'), username: 'alice', password: 'wonderland', method: 'REGISTER', uri: `sip:${REALM}`, algorithm: 'MD5-sess', nc: 2 });
    expect(check(auth, m, request('REGISTER', { headers: [['Authorization', md5sess]] })).kind).toBe('authenticated');
    const shaSess = authorization({ challenge: sess.challenge, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: `sip:${REALM}`, algorithm: 'SHA-256-sess', nc: 3 });
    expect(check(auth, m, request('REGISTER', { headers: [['Authorization', shaSess]] })).kind).toBe('authenticated');

    const first = refused(check(auth, m, request('REGISTER'))).get('www-authenticate')!;
    const legacy = authorization({ challenge: first, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: `sip:${REALM}`, noQop: true });
    const send = () => check(auth, m, request('REGISTER', { headers: [['Authorization', legacy]] }));
    expect(send().kind).toBe('authenticated');
    expect(refused(send()).status).toBe(401);
  });

  it('never reads the password: only HA1 from the credential source', () => {
    const lookups = users.lookups;
    answer(authenticator(), model([constraint()]));
    expect(users.lookups).toBe(lookups + 1);
  });

  it('accepts a growing nonce-count on one nonce and refuses a repeated or lower one with a new challenge', () => {
    const auth = authenticator();
    const m = model([constraint()]);
    const { challenge } = answer(auth, m, { nc: 1 });
    const withNc = (nc: number) =>
      check(auth, m, request('REGISTER', { headers: [['Authorization', authorization({ challenge, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: `sip:${REALM}`, nc })]] }));
    expect(withNc(2).kind).toBe('authenticated');
    const replay = refused(withNc(2));
    expect(replay.status).toBe(401);
    expect(challengeParams(replay.get('www-authenticate')!)['stale']).toBeUndefined();
    expect(refused(withNc(1)).status).toBe(401);
    expect(withNc(7).kind).toBe('authenticated');
    expect(auth.counters.replays).toBe(2);
    // A replay is not a password failure: it never leads to a ban.
    expect(auth.counters.failures).toBe(0);
  });

  it('answers a correct response with an expired nonce with a new challenge carrying stale=true', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const auth = authenticator({ nonceLifetime: 300_000 });
    const m = model([constraint()]);
    const first = refused(check(auth, m, request('REGISTER'))).get('www-authenticate')!;
    const send = (password: string) =>
      check(auth, m, request('REGISTER', { headers: [['Authorization', authorization({ challenge: first, username: 'alice', password, method: 'REGISTER', uri: `sip:${REALM}` })]] }));
    vi.setSystemTime(Date.now() + 299_000);
    expect(send('wonderland').kind).toBe('authenticated');
    vi.setSystemTime(Date.now() + 2_000);
    const stale = refused(send('wonderland'));
    expect(stale.status).toBe(401);
    const params = stale.getAll('www-authenticate').map(challengeParams);
    expect(params.map((p) => p['stale'])).toEqual(['true', 'true']);
    expect(params[0]!['nonce']).not.toBe(challengeParams(first)['nonce']);
    // A wrong password with an expired nonce is a failure, not stale.
    const wrong = refused(send('guess'));
    expect(challengeParams(wrong.get('www-authenticate')!)['stale']).toBeUndefined();
    expect(auth.counters).toMatchObject({ stale: 1, failures: 1 });
  });

  it('re-challenges a nonce it did not issue, or a changed opaque, without counting a failure', () => {
    const auth = authenticator();
    const other = authenticator();
    const m = model([constraint()]);
    const foreign = refused(check(other, m, request('REGISTER'))).get('www-authenticate')!;
    const header = authorization({ challenge: foreign, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: `sip:${REALM}` });
    expect(refused(check(auth, m, request('REGISTER', { headers: [['Authorization', header]] }))).status).toBe(401);
    const { verdict } = answer(auth, m, { override: { opaque: '"tampered"' } });
    expect(refused(verdict).status).toBe(401);
    expect(auth.counters.failures).toBe(0);
  });

  it('answers 400 when the digest uri is not the Request-URI (RFC 2617 §3.2.2.5) or a field is missing', () => {
    const auth = authenticator();
    const m = model([constraint()]);
    const first = refused(check(auth, m, request('REGISTER'))).get('www-authenticate')!;
    const otherUri = authorization({ challenge: first, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: 'sip:other.example' });
    const res = refused(check(auth, m, request('REGISTER', { headers: [['Authorization', otherUri]] })));
    expect(res.status).toBe(400);
    expect(res.reason).toMatch(/uri/);
    const noCnonce = authorization({ challenge: first, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: `sip:${REALM}`, omit: ['cnonce'] });
    expect(refused(check(auth, m, request('REGISTER', { headers: [['Authorization', noCnonce]] }))).status).toBe(400);
  });

  it('accepts a digest uri equal to the Request-URI by RFC 3261 §19.1.4 comparison', () => {
    const auth = authenticator();
    const m = model([constraint()]);
    const first = refused(check(auth, m, request('REGISTER'))).get('www-authenticate')!;
    const header = authorization({ challenge: first, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: 'sip:EXAMPLE.COM' });
    expect(check(auth, m, request('REGISTER', { uri: 'sip:example.com', headers: [['Authorization', header]] })).kind).toBe('authenticated');
  });

  it('ignores credentials for another realm (RFC 3261 §22.3) and challenges', () => {
    const auth = authenticator();
    const m = model([constraint()]);
    const first = refused(check(auth, m, request('REGISTER'))).get('www-authenticate')!;
    const header = authorization({ challenge: first.replace(`realm="${REALM}"`, 'realm="other.example"'), username: 'alice', password: 'wonderland', method: 'REGISTER', uri: `sip:${REALM}` });
    expect(refused(check(auth, m, request('REGISTER', { headers: [['Authorization', header]] }))).status).toBe(401);
    expect(auth.counters.failures).toBe(0);
  });
});

describe('DigestAuthenticator: roles and coverage', () => {
  it('answers 403 to an authenticated user in none of the roles, and lets one in a role through', () => {
    const auth = authenticator();
    const m = model([constraint({ roles: ['caller', 'admin'] })]);
    expect(answer(auth, m).verdict.kind).toBe('authenticated');
    const bob = refused(answer(auth, m, { user: 'bob', password: 'builder' }).verdict);
    expect(bob.status).toBe(403);
    expect(bob.reason).toMatch(/role/);
    expect(auth.counters.forbidden).toBe(1);
  });

  it('combines covering constraints: any authenticated user when one names no roles', () => {
    const auth = authenticator();
    const m = model([constraint({ roles: ['admin'] }), constraint({ methods: ['REGISTER'] })]);
    expect(answer(auth, m, { user: 'bob', password: 'builder' }).verdict.kind).toBe('authenticated');
  });

  it('covers only the servlets named', () => {
    const auth = authenticator();
    const m = model([constraint({ servletNames: ['admin'] })]);
    expect(check(auth, m, request('REGISTER')).kind).toBe('open');
    expect(auth.authenticate({ request: request('REGISTER'), source: source(), model: m, servlet: 'admin', initial: true }).kind).toBe('refused');
  });

  it('checks requests inside a dialog only when the constraint lists their method, and never ACK or CANCEL', () => {
    const auth = authenticator();
    const every = model([constraint()]);
    const listed = model([constraint({ methods: ['INVITE', 'BYE'] })]);
    const inDialog = (method: string, m: ApplicationModel) => auth.authenticate({ request: request(method, { toTag: 't1' }), source: source(), model: m, servlet: 'main', initial: false }).kind;
    expect(inDialog('BYE', every)).toBe('open');
    expect(inDialog('BYE', listed)).toBe('refused');
    expect(inDialog('INFO', listed)).toBe('open');
    expect(inDialog('ACK', listed)).toBe('open');
    expect(check(auth, every, request('CANCEL')).kind).toBe('open');
  });
});

describe('DigestAuthenticator: brute-force protection', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
  });

  it('challenges a wrong password again and counts it; a request without credentials is no failure', () => {
    const auth = authenticator();
    const m = model([constraint()]);
    refused(check(auth, m, request('REGISTER')));
    const res = refused(answer(auth, m, { password: 'guess' }).verdict);
    expect(res.status).toBe(401);
    expect(res.getAll('www-authenticate')).toHaveLength(2);
    const unknown = refused(answer(auth, m, { user: 'mallory', password: 'x' }).verdict);
    expect(unknown.status).toBe(401);
    expect(auth.counters.failures).toBe(2);
  });

  it('bans a source after maxFailures within the window: 403 without a challenge until the ban ends', () => {
    const auth = authenticator({ maxFailures: 3, failureWindow: 60_000, banTime: 300_000 });
    const m = model([constraint()]);
    expect(refused(answer(auth, m, { password: 'a' }).verdict).status).toBe(401);
    expect(refused(answer(auth, m, { password: 'b' }).verdict).status).toBe(401);
    const third = refused(answer(auth, m, { password: 'c' }).verdict);
    expect(third.status).toBe(403);
    expect(third.getAll('www-authenticate')).toHaveLength(0);
    expect(auth.counters.bans).toBe(1);
    // Banned: even the right password and a bare request get 403, no challenge.
    const bare = refused(check(auth, m, request('REGISTER')));
    expect(bare.status).toBe(403);
    expect(bare.reason).toMatch(/too many failed/);
    // Another address is not affected.
    expect(answer(auth, m, { address: '192.0.2.99' }).verdict.kind).toBe('authenticated');
    vi.setSystemTime(Date.now() + 300_001);
    expect(answer(auth, m).verdict.kind).toBe('authenticated');
  });

  it('forgets failures older than the window, and a success resets the count', () => {
    const auth = authenticator({ maxFailures: 3, failureWindow: 60_000 });
    const m = model([constraint()]);
    answer(auth, m, { password: 'a' });
    answer(auth, m, { password: 'b' });
    vi.setSystemTime(Date.now() + 61_000);
    expect(refused(answer(auth, m, { password: 'c' }).verdict).status).toBe(401);
    expect(refused(answer(auth, m, { password: 'd' }).verdict).status).toBe(401);
    expect(answer(auth, m).verdict.kind).toBe('authenticated');
    expect(refused(answer(auth, m, { password: 'e' }).verdict).status).toBe(401);
    expect(refused(answer(auth, m, { password: 'f' }).verdict).status).toBe(401);
    expect(refused(answer(auth, m, { password: 'g' }).verdict).status).toBe(403);
  });

  it('never bans with maxFailures 0', () => {
    const auth = authenticator({ maxFailures: 0 });
    const m = model([constraint()]);
    for (let i = 0; i < 20; i++) expect(refused(answer(auth, m, { password: `x${i}` }).verdict).status).toBe(401);
    expect(auth.counters.bans).toBe(0);
  });

  it('keeps its tables bounded', () => {
    const auth = authenticator({ maxFailures: 100 }, { maxNonces: 4, maxSources: 8 });
    const m = model([constraint()]);
    for (let i = 0; i < 50; i++) answer(auth, m, { password: 'wrong', address: `198.51.100.${i}` });
    for (let i = 0; i < 20; i++) answer(auth, m);
    expect(auth.tracked.sources).toBeLessThanOrEqual(8);
    expect(auth.tracked.nonces).toBeLessThanOrEqual(4);
  });

  it('refuses, as stale, a nonce whose count record was evicted, so eviction opens no replay', () => {
    const auth = authenticator({}, { maxNonces: 2 });
    const m = model([constraint()]);
    const old = answer(auth, m);
    expect(old.verdict.kind).toBe('authenticated');
    vi.setSystemTime(Date.now() + 10);
    answer(auth, m);
    answer(auth, m);
    const again = authorization({ challenge: old.challenge, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: `sip:${REALM}`, nc: 1 });
    const res = refused(check(auth, m, request('REGISTER', { headers: [['Authorization', again]] })));
    expect(challengeParams(res.get('www-authenticate')!)['stale']).toBe('true');
  });
});
