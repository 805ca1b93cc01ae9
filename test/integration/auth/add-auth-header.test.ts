/**
 * The UAC side: an app answers a registrar's 401 (and a proxy's 407) with
 * `request.addAuthHeader(response, authInfo)` (JSR 289), and the scripted peer checks the
 * credentials with its own node:crypto computation.
 *
 *   alice            Siplet: app "uac"                                   bob (scripted registrar)
 *     | MESSAGE ---> | doMessage → 200; REGISTER sip:bob ------------------> |
 *     |              | <------------- 401 WWW-Authenticate (SHA-256, MD5) -- |
 *     |              | doErrorResponse: createRequestFrom + addAuthHeader    |
 *     |              | REGISTER + Authorization (SHA-256, nc, cnonce) -----> | verified
 *     |              | <------------------------------------------ 200 ---- |
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inject, SIP_FACTORY, SipApplication, SipServlet, type AuthInfo, type SipFactory, type SipServletRequest, type SipServletResponse } from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import type { SipRequest } from '../../../src/sip/message/index.js';
import { until } from '../container/helpers.js';
import { challengeParams, h } from '../../unit/container/auth/helpers.js';

const outcomes: string[] = [];
let target = '';
let useUsernameForm = false;

@SipApplication({ name: 'uac' })
@SipServlet({ name: 'main' })
class Uac extends SipServlet {
  readonly #factory: SipFactory;
  readonly #auth: AuthInfo;

  constructor(@inject(SIP_FACTORY) factory: SipFactory) {
    super();
    this.#factory = factory;
    this.#auth = factory.createAuthInfo();
    this.#auth.addAuthInfo(401, 'registrar.example', 'app', 's3cret');
    this.#auth.addAuthInfo(407, 'proxy.example', 'app', 'pr0xy');
  }

  override async doMessage(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
    const register = this.#factory.createRequest({
      appSession: this.#factory.createApplicationSession(),
      method: 'REGISTER',
      from: 'sip:app@registrar.example',
      to: 'sip:app@registrar.example',
      requestUri: target,
    });
    await register.send();
  }

  override async doErrorResponse(res: SipServletResponse): Promise<void> {
    outcomes.push(String(res.getStatus()));
    if (res.getStatus() !== 401 && res.getStatus() !== 407) return;
    const retry = this.#factory.createRequestFrom(res.getRequest(), { sameCallId: true });
    try {
      if (useUsernameForm) retry.addAuthHeader(res, 'app', 's3cret');
      else retry.addAuthHeader(res, this.#auth);
    } catch (error) {
      outcomes.push(`error: ${(error as Error).message}`);
      return;
    }
    await retry.send();
  }

  override doSuccessResponse(res: SipServletResponse): void {
    outcomes.push(String(res.getStatus()));
  }
}

let siplet: TestSiplet;
let alice: ScriptedUa;
let bob: ScriptedUa;

beforeEach(async () => {
  outcomes.length = 0;
  useUsernameForm = false;
  siplet = await createTestSiplet({ apps: [{ exports: { Uac } }], dar: 'MESSAGE: ("uac", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")' });
  alice = await siplet.ua('alice');
  bob = await siplet.ua('bob');
  target = bob.uri.toString();
});

afterEach(async () => {
  await siplet.close();
});

async function trigger(): Promise<SipRequest> {
  const message = alice.createRequest('MESSAGE', { to: 'sip:uac@127.0.0.1', body: 'go', contentType: 'text/plain' });
  await alice.send(message);
  expect((await alice.expectResponse(message)).status).toBe(200);
  return bob.expectRequest('REGISTER');
}

/** What the scripted peer checks: the response recomputed from the password with node:crypto. */
function expectedResponse(p: Record<string, string>, password: string, method: string): string {
  const hash = p['algorithm'] === 'MD5' ? 'MD5' : 'SHA-256';
  const ha1 = h(hash, `${p['username']}:${p['realm']}:${password}`);
  const ha2 = h(hash, `${method}:${p['uri']}`);
  return h(hash, `${ha1}:${p['nonce']}:${p['nc']}:${p['cnonce']}:${p['qop']}:${ha2}`);
}

describe('request.addAuthHeader (UAC)', () => {
  it('answers a 401 with an Authorization for the first challenge (SHA-256) from the AuthInfo', async () => {
    const first = await trigger();
    expect(first.get('authorization')).toBeUndefined();
    await bob.respond(first, 401, {
      headers: {
        'WWW-Authenticate': [
          'Digest realm="registrar.example", nonce="n0nce-1", opaque="o1", algorithm=SHA-256, qop="auth"',
          'Digest realm="registrar.example", nonce="n0nce-1", opaque="o1", algorithm=MD5, qop="auth"',
        ],
      },
    });
    const retry = await bob.expectRequest('REGISTER');
    expect(retry.callId).toBe(first.callId);
    const p = challengeParams(retry.get('authorization')!);
    expect(p).toMatchObject({ username: 'app', realm: 'registrar.example', nonce: 'n0nce-1', opaque: 'o1', algorithm: 'SHA-256', qop: 'auth', nc: '00000001', uri: retry.uriText });
    expect(p['response']).toBe(expectedResponse(p, 's3cret', 'REGISTER'));
    await bob.respond(retry, 200);
    await until(() => outcomes.includes('200'), 'the 200 to reach the app');
    expect(outcomes).toEqual(['401', '200']);
  });

  it('answers a 407 with a Proxy-Authorization, and takes a user name and password directly', async () => {
    const first = await trigger();
    await bob.respond(first, 407, { headers: { 'Proxy-Authenticate': 'Digest realm="proxy.example", nonce="p1", algorithm=MD5, qop="auth"' } });
    const retry = await bob.expectRequest('REGISTER');
    expect(retry.get('authorization')).toBeUndefined();
    const p = challengeParams(retry.get('proxy-authorization')!);
    expect(p).toMatchObject({ username: 'app', realm: 'proxy.example', algorithm: 'MD5' });
    expect(p['response']).toBe(expectedResponse(p, 'pr0xy', 'REGISTER'));
    await bob.respond(retry, 200);
    await until(() => outcomes.includes('200'), 'the 200 to reach the app');

    useUsernameForm = true;
    const again = await trigger();
    await bob.respond(again, 401, { headers: { 'WWW-Authenticate': 'Digest realm="anything.example", nonce="u1", algorithm=SHA-256, qop="auth"' } });
    const direct = challengeParams((await bob.expectRequest('REGISTER')).get('authorization')!);
    expect(direct).toMatchObject({ username: 'app', realm: 'anything.example' });
    expect(direct['response']).toBe(expectedResponse(direct, 's3cret', 'REGISTER'));
  });

  it('says which realm it has no credentials for', async () => {
    const first = await trigger();
    await bob.respond(first, 401, { headers: { 'WWW-Authenticate': 'Digest realm="unknown.example", nonce="x", algorithm=MD5' } });
    await until(() => outcomes.length === 2, 'the app to try');
    expect(outcomes[1]).toMatch(/no credentials for the realm\(s\) challenged \("unknown.example"\): add them with authInfo.addAuthInfo\(401, realm, username, password\)/);
  });
});
