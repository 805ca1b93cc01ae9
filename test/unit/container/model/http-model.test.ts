import { describe, expect, it } from 'vitest';
import { SipApplication, SipServlet } from '../../../../src/api/index.js';
import { buildApplicationModel } from '../../../../src/container/model/index.js';

function routes() {
  return () => undefined;
}
function other() {
  return () => undefined;
}

@SipApplication({ name: 'conv', http: { router: 'routes' } })
@SipServlet({ name: 'main' })
class Conv extends SipServlet {}

@SipApplication({ name: 'plain' })
@SipServlet({ name: 'main' })
class Plain extends SipServlet {}

describe('the HTTP side in the application model', () => {
  it('takes http.router from @SipApplication, resolved to the export of that name', () => {
    const built = buildApplicationModel({ Conv, routes });
    expect(built.ok && built.model.http).toEqual({ router: 'routes', handler: routes });
  });

  it('lets siplet.json "http" override the decorator, and declare it for an undecorated one', () => {
    const over = buildApplicationModel({ Conv, routes, other }, { http: { router: 'other' } });
    expect(over.ok && over.model.http?.handler).toBe(other);
    const declared = buildApplicationModel({ Plain, routes }, { http: { router: 'routes' } });
    expect(declared.ok && declared.model.http?.router).toBe('routes');
    const none = buildApplicationModel({ Plain });
    expect(none.ok && none.model.http).toBeUndefined();
  });

  it('refuses a router name the module does not export, or an export that is not a function, saying where it came from', () => {
    expect(buildApplicationModel({ Conv })).toEqual({
      ok: false,
      errors: ["@SipApplication http.router names 'routes', which the entry module does not export (its exports: Conv); export the router or fix the name."],
    });
    expect(buildApplicationModel({ Plain, routes: 'nope' }, { http: { router: 'routes' } })).toEqual({
      ok: false,
      errors: ['siplet.json "http.router" names \'routes\', which is a string: export a function (ctx) => Router, or an express Router.'],
    });
  });
});
