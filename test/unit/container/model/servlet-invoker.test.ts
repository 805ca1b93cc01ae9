import { describe, expect, it } from 'vitest';
import {
  AnyMethod,
  AnyResponse,
  BranchResponse,
  Bye,
  ErrorResponse,
  Invite,
  NOT_HANDLED_ATTRIBUTE,
  Options,
  ProvisionalResponse,
  RedirectResponse,
  Servlet,
  SipApplication,
  SipServlet,
  SuccessResponse,
  type SipServletConfig,
  type SipServletRequest,
  type SipServletResponse,
} from '../../../../src/api/index.js';
import { buildApplicationModel, createServletInvoker, type ServletModel } from '../../../../src/container/model/index.js';
import { fakeRequest, fakeResponse } from './fake-messages.js';

function servletOf(exports: Record<string, unknown>): ServletModel {
  const result = buildApplicationModel(exports);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  const servlet = result.model.servlets[0];
  if (servlet === undefined) throw new Error('no servlet');
  return servlet;
}

const CONFIG: SipServletConfig = { servletName: 's', applicationName: 'app', initParams: { k: 'v' } };

describe('createServletInvoker: most specific handler of a plain-class servlet', () => {
  @SipApplication({ name: 'specific' })
  @Servlet({ name: 's' })
  class Handlers {
    calls: string[] = [];
    @Invite() invite(_r: SipServletRequest) {
      this.calls.push('invite');
    }
    @Bye() bye(_r: SipServletRequest) {
      this.calls.push('bye');
    }
    @AnyMethod() anyMethod(_r: SipServletRequest) {
      this.calls.push('anyMethod');
    }
    @AnyResponse() anyResponse(_r: SipServletResponse) {
      this.calls.push('anyResponse');
    }
    @SuccessResponse() success(_r: SipServletResponse) {
      this.calls.push('success');
    }
    @SuccessResponse({ method: 'INVITE' }) inviteSuccess(_r: SipServletResponse) {
      this.calls.push('inviteSuccess');
    }
    @SuccessResponse({ method: 'INVITE', status: 202 }) invite202(_r: SipServletResponse) {
      this.calls.push('invite202');
    }
    @ProvisionalResponse() provisional(_r: SipServletResponse) {
      this.calls.push('provisional');
    }
    @AnyResponse({ status: 180 }) ringing(_r: SipServletResponse) {
      this.calls.push('ringing');
    }
    @ErrorResponse({ method: 'BYE' }) byeError(_r: SipServletResponse) {
      this.calls.push('byeError');
    }
    @AnyResponse({ method: 'OPTIONS' }) optionsAny(_r: SipServletResponse) {
      this.calls.push('optionsAny');
    }
    @BranchResponse() branch(_r: SipServletResponse) {
      this.calls.push('branch');
    }
  }

  const requests: [method: string, handler: string][] = [
    ['INVITE', 'invite'],
    ['BYE', 'bye'],
    ['OPTIONS', 'anyMethod'],
    ['FOO', 'anyMethod'],
    ['ACK', 'anyMethod'],
  ];
  it.each(requests)('%s request goes to %s', async (method, handler) => {
    const instance = new Handlers();
    await createServletInvoker(servletOf({ Handlers }), instance).handleRequest(fakeRequest(method));
    expect(instance.calls).toEqual([handler]);
  });

  const responses: [status: number, method: string, branch: boolean, handler: string][] = [
    [200, 'INVITE', false, 'inviteSuccess'], // method filter beats the bare class
    [202, 'INVITE', false, 'invite202'], // status filter beats method filter
    [200, 'BYE', false, 'success'], // class beats @AnyResponse()
    [180, 'INVITE', false, 'ringing'], // status filter on @AnyResponse beats @ProvisionalResponse()
    [183, 'INVITE', false, 'provisional'],
    [302, 'INVITE', false, 'anyResponse'], // no @RedirectResponse: the catch-all
    [486, 'BYE', false, 'byeError'],
    [486, 'INVITE', false, 'anyResponse'],
    [200, 'OPTIONS', false, 'optionsAny'], // method filter on @AnyResponse beats bare @SuccessResponse()
    [200, 'INVITE', true, 'branch'], // branch responses skip the class handlers
    [486, 'INVITE', true, 'branch'],
  ];
  it.each(responses)('%i to %s (branch %s) goes to %s', async (status, method, branch, handler) => {
    const instance = new Handlers();
    const invoker = createServletInvoker(servletOf({ Handlers }), instance);
    // Twice: the second answer comes from the invoker's cache and must agree.
    await invoker.handleResponse(fakeResponse(status, method, branch));
    await invoker.handleResponse(fakeResponse(status, method, branch));
    expect(instance.calls).toEqual([handler, handler]);
  });

  it('drops a response no handler takes', async () => {
    @SipApplication({ name: 'narrow' })
    @Servlet()
    class Narrow {
      calls: string[] = [];
      @Invite() invite() {}
      @RedirectResponse() redirect() {
        this.calls.push('redirect');
      }
    }
    const instance = new Narrow();
    const invoker = createServletInvoker(servletOf({ Narrow }), instance);
    await invoker.handleResponse(fakeResponse(200));
    await invoker.handleResponse(fakeResponse(301, 'INVITE', true));
    expect(instance.calls).toEqual([]);
  });
});

describe('createServletInvoker: ambiguity', () => {
  const cases: [label: string, exports: () => Record<string, unknown>, message: string][] = [
    [
      'two @Invite()',
      () => {
        @SipApplication({ name: 'x' })
        @Servlet({ name: 's' })
        class TwoInvites {
          @Invite() first() {}
          @Invite() second() {}
        }
        return { TwoInvites };
      },
      "Servlet 's': methods first and second both handle @Invite(), so neither is more specific. Keep one, or narrow one of them with a method or status filter.",
    ],
    [
      'two @SuccessResponse with the same filter',
      () => {
        @SipApplication({ name: 'x' })
        @Servlet({ name: 's' })
        class TwoOks {
          @SuccessResponse({ method: 'INVITE' }) okA() {}
          @SuccessResponse({ method: 'INVITE' }) okB() {}
        }
        return { TwoOks };
      },
      "Servlet 's': methods okA and okB both handle @SuccessResponse({ method: 'INVITE' }), so neither is more specific. Keep one, or narrow one of them with a method or status filter.",
    ],
    [
      'two @AnyMethod()',
      () => {
        @SipApplication({ name: 'x' })
        @Servlet({ name: 's' })
        class TwoAny {
          @AnyMethod() a() {}
          @AnyMethod() b() {}
        }
        return { TwoAny };
      },
      "Servlet 's': methods a and b both handle @AnyMethod(), so neither is more specific. Keep one, or narrow one of them with a method or status filter.",
    ],
    [
      'a status that its response class never has',
      () => {
        @SipApplication({ name: 'x' })
        @Servlet({ name: 's' })
        class Impossible {
          @SuccessResponse({ status: 404 }) notFound() {}
        }
        return { Impossible };
      },
      "Servlet 's': @SuccessResponse({ status: 404 }) on notFound can never match: 404 is not a success status. Use @ErrorResponse({ status: 404 }) or @AnyResponse({ status: 404 }).",
    ],
    [
      'a handler on a static method',
      () => {
        @SipApplication({ name: 'x' })
        @Servlet({ name: 's' })
        class Static {
          @Options() static options() {}
        }
        return { Static };
      },
      "Servlet 's': @Options() is on static method options; handlers must be instance methods (remove 'static').",
    ],
  ];
  it.each(cases)('rejects %s', (_label, exports, message) => {
    const result = buildApplicationModel(exports());
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors).toEqual([message]);
  });

  it('accepts one method carrying several decorators, and the same decorator repeated on one method', () => {
    @SipApplication({ name: 'x' })
    @Servlet({ name: 's' })
    class Several {
      calls: string[] = [];
      @Invite() @Invite() @Bye() both(req: SipServletRequest) {
        this.calls.push(req.getMethod());
      }
    }
    expect(buildApplicationModel({ Several }).ok).toBe(true);
  });
});

describe('createServletInvoker: unhandled requests', () => {
  @SipApplication({ name: 'unhandled' })
  @Servlet()
  class OnlyInvite {
    @Invite() invite() {}
  }

  it.each([
    ['OPTIONS', true],
    ['FOO', true],
    ['ACK', undefined],
    ['CANCEL', undefined],
    ['INVITE', undefined],
  ])('a plain class marks %s as not handled: %s (as SipServlet does)', async (method, expected) => {
    const request = fakeRequest(method);
    await createServletInvoker(servletOf({ OnlyInvite }), new OnlyInvite()).handleRequest(request);
    expect(request.getAttribute(NOT_HANDLED_ATTRIBUTE)).toBe(expected);

    @SipApplication({ name: 'base' })
    @Servlet()
    class Bare extends SipServlet {
      override doInvite() {}
    }
    const same = fakeRequest(method);
    await createServletInvoker(servletOf({ Bare }), new Bare()).handleRequest(same);
    expect(same.getAttribute(NOT_HANDLED_ATTRIBUTE)).toBe(expected);
  });
});

describe('createServletInvoker: SipServlet subclasses and lifecycle', () => {
  it('drives doRequest/doResponse, init and destroy of a SipServlet', async () => {
    const calls: string[] = [];
    @SipApplication({ name: 'classic' })
    @Servlet()
    class Classic extends SipServlet {
      override async init(config: SipServletConfig) {
        await super.init(config);
        calls.push(`init ${config.initParams['k']}`);
      }
      override doInvite() {
        calls.push('doInvite');
      }
      override doSuccessResponse() {
        calls.push('doSuccessResponse');
      }
      override doBranchResponse() {
        calls.push('doBranchResponse');
      }
      override destroy() {
        calls.push('destroy');
      }
    }
    const servlet = new Classic();
    const invoker = createServletInvoker(servletOf({ Classic }), servlet);
    await invoker.init(CONFIG);
    await invoker.handleRequest(fakeRequest('INVITE'));
    await invoker.handleResponse(fakeResponse(200));
    await invoker.handleResponse(fakeResponse(200, 'INVITE', true));
    await invoker.destroy();
    expect(calls).toEqual(['init v', 'doInvite', 'doSuccessResponse', 'doBranchResponse', 'destroy']);
    expect(servlet.getServletName()).toBe('s');
  });

  it('calls init and destroy of a plain class only when it has them', async () => {
    @SipApplication({ name: 'pojo' })
    @Servlet()
    class WithInit {
      config: SipServletConfig | undefined;
      destroyed = false;
      @Invite() invite() {}
      init(config: SipServletConfig) {
        this.config = config;
      }
      destroy() {
        this.destroyed = true;
      }
    }
    const instance = new WithInit();
    const invoker = createServletInvoker(servletOf({ WithInit }), instance);
    await invoker.init(CONFIG);
    await invoker.destroy();
    expect(instance).toMatchObject({ config: CONFIG, destroyed: true });

    @SipApplication({ name: 'pojo' })
    @Servlet()
    class Without {
      @Invite() invite() {}
    }
    const bare = createServletInvoker(servletOf({ Without }), new Without());
    await expect(bare.init(CONFIG)).resolves.toBeUndefined();
    await expect(bare.destroy()).resolves.toBeUndefined();
  });

  it('turns a synchronous throw into a rejection', async () => {
    @SipApplication({ name: 'throws' })
    @Servlet()
    class Throws {
      @Invite() invite() {
        throw new Error('app bug');
      }
    }
    await expect(createServletInvoker(servletOf({ Throws }), new Throws()).handleRequest(fakeRequest('INVITE'))).rejects.toThrow('app bug');
  });

  it('refuses an instance that does not match a SipServlet model', () => {
    @SipApplication({ name: 'mismatch' })
    @Servlet()
    class Real extends SipServlet {}
    expect(() => createServletInvoker(servletOf({ Real }), {})).toThrow(
      "Servlet 'Real': the DI container returned an instance of Object for class Real, not a SipServlet; do not rebind servlet classes in configure().",
    );
  });
});
