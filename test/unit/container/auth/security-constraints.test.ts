/**
 * Security constraints and the realm in the application model: from @SipApplication, from
 * siplet.json (which replaces the decorator's list), and the messages that say what to fix.
 */
import { describe, expect, it } from 'vitest';
import { Servlet, SipApplication, SipServlet, type SipApplicationOptions } from '../../../../src/api/index.js';
import { buildApplicationModel, type DescriptorShape } from '../../../../src/container/model/index.js';

function app(options: Partial<SipApplicationOptions>) {
  @SipApplication({ name: 'secure', ...options })
  @Servlet({ name: 'main' })
  class Main extends SipServlet {}
  @Servlet({ name: 'admin' })
  class Admin extends SipServlet {}
  return { Main, Admin };
}

function build(options: Partial<SipApplicationOptions>, descriptor: Partial<DescriptorShape> = {}) {
  return buildApplicationModel(app(options), { mainServlet: 'main', ...descriptor });
}

function errorsOf(result: ReturnType<typeof build>): string[] {
  if (result.ok) throw new Error('expected errors, got a model');
  return result.errors;
}

describe('security constraints in the application model', () => {
  it('has none and no realm by default', () => {
    const r = build({});
    expect(r.ok && r.model.securityConstraints).toEqual([]);
    expect(r.ok && r.model.realm).toBeUndefined();
  });

  it('takes the decorator\'s constraints and realm, methods in upper case, omitted lists empty', () => {
    const r = build({ realm: 'example.com', securityConstraints: [{ methods: ['register', 'INVITE'] }, { roles: ['admin'], servletNames: ['admin'], proxyAuthentication: true, name: 'ops' }] });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.model.realm).toBe('example.com');
    expect(r.model.securityConstraints).toEqual([
      { name: undefined, methods: ['REGISTER', 'INVITE'], roles: [], servletNames: [], proxyAuthentication: false, transportGuarantee: 'NONE' },
      { name: 'ops', methods: [], roles: ['admin'], servletNames: ['admin'], proxyAuthentication: true, transportGuarantee: 'NONE' },
    ]);
  });

  it('lets siplet.json replace the decorator\'s list and realm', () => {
    const r = build({ realm: 'a.example', securityConstraints: [{ methods: ['INVITE'] }] }, { realm: 'b.example', securityConstraints: [{ methods: ['MESSAGE'], roles: ['staff'] }] });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.model.realm).toBe('b.example');
    expect(r.model.securityConstraints.map((c) => [c.methods, c.roles])).toEqual([[['MESSAGE'], ['staff']]]);
  });

  it('says what to fix: unknown servlet, ACK/CANCEL, non-method, wrong types, bad realm', () => {
    const errors = errorsOf(
      build({
        realm: 'bad"realm',
        securityConstraints: [
          { servletNames: ['nope'] },
          { methods: ['ACK', 'IN VITE'] },
          { roles: 'admin' as unknown as string[], proxyAuthentication: 'yes' as unknown as boolean },
          { method: ['INVITE'] } as never,
        ],
      }),
    );
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/realm "bad\\"realm" is not valid: give a non-empty realm such as "example.com"/),
        expect.stringMatching(/@SipApplication securityConstraints\[0\]: servlet 'nope' is not a servlet of this app \(servlets: 'main', 'admin'\)/),
        expect.stringMatching(/securityConstraints\[1\] "methods" lists ACK, which is never challenged \(RFC 3261 §22.1\): remove it/),
        expect.stringMatching(/securityConstraints\[1\] "methods": "IN VITE" is not a SIP method/),
        expect.stringMatching(/securityConstraints\[2\] "roles" must be an array of role names/),
        expect.stringMatching(/securityConstraints\[2\] "proxyAuthentication" must be true \(challenge with 407, as a proxy\) or false/),
        expect.stringMatching(/securityConstraints\[3\]: unknown field "method"/),
      ]),
    );
  });

  it('names siplet.json when the descriptor\'s constraints are wrong', () => {
    const errors = errorsOf(build({}, { securityConstraints: [{ methods: ['CANCEL'] }] }));
    expect(errors.join('\n')).toMatch(/siplet.json securityConstraints\[0\] "methods" lists CANCEL/);
    expect(errorsOf(build({}, { realm: 7 as unknown as string })).join('\n')).toMatch(/realm/);
  });
});
