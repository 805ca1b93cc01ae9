import { describe, expect, it } from 'vitest';
import {
  AnyMethod,
  Bye,
  Invite,
  Servlet,
  SipApplication,
  SipApplicationKey,
  SipListener,
  SipServlet,
  SuccessResponse,
  type SipApplicationSessionEvent,
  type SipServletRequest,
  type SipServletResponse,
  type SipSessionEvent,
  type ServletTimer,
} from '../../../../src/api/index.js';
import { buildApplicationModel, DESCRIPTOR_FIELDS, type ApplicationModel } from '../../../../src/container/model/index.js';
import { fakeRequest } from './fake-messages.js';

function model(exports: Record<string, unknown>, descriptor?: Parameters<typeof buildApplicationModel>[1]): ApplicationModel {
  const result = buildApplicationModel(exports, descriptor);
  if (!result.ok) throw new Error(`expected a model, got:\n${result.errors.join('\n')}`);
  return result.model;
}

function errors(exports: Record<string, unknown>, descriptor?: Parameters<typeof buildApplicationModel>[1]): string[] {
  const result = buildApplicationModel(exports, descriptor);
  if (result.ok) throw new Error('expected errors, got a model');
  return result.errors;
}

describe('buildApplicationModel: decorator styles', () => {
  it('models a SipServlet subclass with the JSR 289 defaults', () => {
    @SipApplication({ name: 'echo' })
    class EchoApp {}
    @Servlet()
    class Echo extends SipServlet {}

    const m = model({ EchoApp, Echo, helper: () => 1, VERSION: '1.0' });
    expect(m).toMatchObject({
      name: 'echo',
      displayName: 'echo',
      mainServlet: 'Echo',
      sessionTimeout: 3,
      proxyTimeout: 180,
      distributable: false,
      listeners: [],
      services: [],
      applicationKey: undefined,
      initParams: {},
    });
    expect(m.servlets).toHaveLength(1);
    expect(m.servlets[0]).toMatchObject({ name: 'Echo', ctor: Echo, kind: 'servlet', loadOnStartup: undefined, initParams: {} });
    expect(m.servlets[0]?.requestHandlers.size).toBe(0);
  });

  it('models a plain class with JSR 359 handler decorators as a pojo servlet with handler tables', () => {
    @SipApplication({ name: 'pojo', sessionTimeout: 10, proxyTimeout: 30, displayName: 'POJO app', distributable: true })
    @Servlet({ name: 'main', loadOnStartup: 2, initParams: { mode: 'loud' } })
    class Main {
      @Invite() invite(_req: SipServletRequest) {}
      @Bye() bye(_req: SipServletRequest) {}
      @AnyMethod() other(_req: SipServletRequest) {}
      @SuccessResponse({ method: 'INVITE' }) ok(_res: SipServletResponse) {}
    }

    const m = model({ Main });
    const servlet = m.servlets[0];
    expect(m).toMatchObject({ name: 'pojo', displayName: 'POJO app', sessionTimeout: 10, proxyTimeout: 30, distributable: true, mainServlet: 'main' });
    expect(servlet).toMatchObject({ name: 'main', kind: 'pojo', loadOnStartup: 2, initParams: { mode: 'loud' } });
    expect([...(servlet?.requestHandlers.entries() ?? [])].map(([method, h]) => [method, h.methodName])).toEqual([
      ['INVITE', 'invite'],
      ['BYE', 'bye'],
      ['*', 'other'],
    ]);
    expect(servlet?.responseHandlers.map((h) => [h.methodName, h.kind, h.method, h.status])).toEqual([['ok', 'success', 'INVITE', undefined]]);
  });

  it('treats a negative loadOnStartup as "on first use"', () => {
    @SipApplication({ name: 'lazy' })
    @Servlet({ loadOnStartup: -1 })
    class Lazy extends SipServlet {}
    expect(model({ Lazy }).servlets[0]?.loadOnStartup).toBeUndefined();
  });

  it('inherits handler decorators of a base class; a method the subclass decorates again takes only its own', () => {
    class Base {
      @Invite() invite(_req: SipServletRequest) {}
      @Bye() bye(_req: SipServletRequest) {}
    }
    @SipApplication({ name: 'inherit' })
    @Servlet()
    class Derived extends Base {
      @AnyMethod() override bye(_req: SipServletRequest) {}
    }
    const handlers = model({ Derived }).servlets[0]?.requestHandlers;
    expect([...(handlers?.keys() ?? [])].sort()).toEqual(['*', 'INVITE']);
  });

  it('sees a class exported twice (named and default) once', () => {
    @SipApplication({ name: 'twice' })
    @Servlet({ name: 's' })
    class Twice extends SipServlet {}
    expect(model({ default: Twice, Twice }).servlets).toHaveLength(1);
  });
});

describe('buildApplicationModel: descriptor', () => {
  it('lets every descriptor field override the decorator field', () => {
    @SipApplication({ name: 'decorated', displayName: 'D', sessionTimeout: 1, proxyTimeout: 5, mainServlet: 'a', initParams: { x: '1', y: '2' } })
    class App {}
    @Servlet({ name: 'a', loadOnStartup: 1, initParams: { p: 'decorator', q: 'kept' } })
    class A extends SipServlet {}
    @Servlet({ name: 'b' })
    class B extends SipServlet {}

    const m = model(
      { App, A, B },
      {
        name: 'described',
        version: '2.1.0',
        displayName: 'From siplet.json',
        description: 'desc',
        mainServlet: 'b',
        sessionTimeout: 7,
        proxyTimeout: 60,
        distributable: true,
        initParams: { y: 'descriptor' },
        servlets: [{ name: 'a', loadOnStartup: 5, initParams: { p: 'descriptor' } }],
      },
    );
    expect(m).toMatchObject({
      name: 'described',
      version: '2.1.0',
      displayName: 'From siplet.json',
      description: 'desc',
      mainServlet: 'b',
      sessionTimeout: 7,
      proxyTimeout: 60,
      distributable: true,
      initParams: { x: '1', y: 'descriptor' },
    });
    expect(m.servlets.find((s) => s.name === 'a')).toMatchObject({ loadOnStartup: 5, initParams: { p: 'descriptor', q: 'kept' } });
  });

  it('declares servlets and listeners that carry no decorator by their export name', () => {
    class Plain extends SipServlet {}
    class Timers {
      timeout(_timer: ServletTimer) {}
    }
    const m = model(
      { Plain, Timers },
      { name: 'described', servlets: [{ name: 'plain', className: 'Plain', loadOnStartup: 0 }], listeners: [{ className: 'Timers' }] },
    );
    expect(m.servlets[0]).toMatchObject({ name: 'plain', ctor: Plain, kind: 'servlet', loadOnStartup: 0 });
    expect(m.listeners).toEqual([{ ctor: Timers, kinds: ['timer'] }]);
  });
});

describe('buildApplicationModel: validation', () => {
  it('says an app without a name needs @SipApplication or "name"', () => {
    @Servlet()
    class S extends SipServlet {}
    expect(errors({ S })).toEqual([
      'The application has no name: decorate one exported class with @SipApplication({ name: ... }) or set "name" in siplet.json.',
    ]);
  });

  it('hints at a second copy of Siplet when no exported class carries any decorator', () => {
    class Undecorated extends SipServlet {}
    const [first] = errors({ Undecorated });
    expect(first).toContain("the app imports its own copy of Siplet; import the API from 'siplet/sdk'");
  });

  it('rejects two @SipApplication classes, naming both', () => {
    @SipApplication({ name: 'one' })
    @Servlet()
    class One extends SipServlet {}
    @SipApplication({ name: 'two' })
    class Two {}
    expect(errors({ One, Two })).toContain('@SipApplication is on 2 classes (One, Two); an app has exactly one: keep it on one class.');
  });

  it('rejects a mainServlet that is not a servlet, listing the servlets', () => {
    @SipApplication({ name: 'app', mainServlet: 'missing' })
    @Servlet({ name: 'real' })
    class Real extends SipServlet {}
    expect(errors({ Real })).toEqual(["mainServlet 'missing' is not a servlet of this app (servlets: 'real'); name one of them."]);
  });

  it('requires mainServlet when there are several servlets', () => {
    @SipApplication({ name: 'app' })
    @Servlet({ name: 'a' })
    class A extends SipServlet {}
    @Servlet({ name: 'b' })
    class B extends SipServlet {}
    expect(errors({ A, B })).toEqual([
      "The application has 2 servlets ('a', 'b') and no mainServlet: set mainServlet in @SipApplication or siplet.json.",
    ]);
  });

  it('rejects an app without servlets', () => {
    @SipApplication({ name: 'empty' })
    class App {}
    expect(errors({ App })).toEqual([
      'The application has no servlet: decorate a SipServlet subclass, or a class with handler decorators, with @SipServlet() and export it from the entry module.',
    ]);
  });

  it('rejects duplicate servlet names, naming both declarations', () => {
    @SipApplication({ name: 'app', mainServlet: 'same' })
    @Servlet({ name: 'same' })
    class A extends SipServlet {}
    @Servlet({ name: 'same' })
    class B extends SipServlet {}
    expect(errors({ A, B })).toEqual([
      "Servlet name 'same' is used twice (@Servlet on class A; @Servlet on class B); servlet names must be unique in an app.",
    ]);
  });

  it('rejects a servlet class that neither extends SipServlet nor has handlers', () => {
    @SipApplication({ name: 'app' })
    @Servlet()
    class Nothing {}
    expect(errors({ Nothing })).toEqual([
      "Servlet 'Nothing' (class Nothing) neither extends SipServlet nor has a handler decorator: extend SipServlet, or mark methods with @Invite(), @AnyMethod(), @SuccessResponse()… (from 'siplet/sdk').",
    ]);
  });

  it('rejects mixing SipServlet and handler decorators', () => {
    @SipApplication({ name: 'app' })
    @Servlet()
    class Mixed extends SipServlet {
      @Invite() invite(_req: SipServletRequest) {}
    }
    expect(errors({ Mixed })[0]).toMatch(/^Servlet 'Mixed' \(class Mixed\) extends SipServlet and also has @Invite\(\) on invite: use one style/);
  });

  it('rejects handler decorators on a class that is no servlet', () => {
    @SipApplication({ name: 'app' })
    @Servlet()
    class S extends SipServlet {}
    class Forgotten {
      @Invite() invite(_req: SipServletRequest) {}
    }
    expect(errors({ S, Forgotten })).toEqual([
      'Class Forgotten has handler decorators (@Invite() on invite) but is not a servlet: add @Servlet() to it or list it under "servlets" in siplet.json.',
    ]);
  });

  it('rejects an applicationName that is not the app', () => {
    @SipApplication({ name: 'app' })
    @Servlet({ applicationName: 'other' })
    class S extends SipServlet {}
    expect(errors({ S })).toEqual([
      "Servlet 'S' (class S) says applicationName 'other' but the application is 'app': fix or remove applicationName.",
    ]);
  });

  it('reports several problems at once', () => {
    @SipApplication({ name: 'bad name!', proxyTimeout: 0 })
    @Servlet({ loadOnStartup: 1.5 })
    class S extends SipServlet {}
    expect(errors({ S })).toEqual([
      'Application name "bad name!" is not valid: use letters, digits, \'.\', \'_\' and \'-\', starting with a letter or digit.',
      'proxyTimeout 0 is not a positive number of seconds; give e.g. 180.',
      "Servlet 'S': loadOnStartup 1.5 is not an integer; give 0 or more to load at deployment, or leave it out.",
    ]);
  });

  it('checks descriptor field types and names', () => {
    @SipApplication({ name: 'app' })
    @Servlet()
    class S extends SipServlet {}
    expect(errors({ S }, { sessionTimeout: '5' as unknown as number, servlet: [] } as never)).toEqual([
      `siplet.json: unknown field "servlet"; the fields are ${DESCRIPTOR_FIELDS.join(', ')}.`,
      'siplet.json "sessionTimeout" must be a number, not "5".',
    ]);
  });

  it('rejects descriptor entries that name no exported class', () => {
    @SipApplication({ name: 'app' })
    @Servlet()
    class S extends SipServlet {}
    expect(errors({ S }, { servlets: [{ name: 'x', className: 'Nope' }, { name: 'y' }], listeners: [{ className: 'Gone' }] })).toEqual([
      "siplet.json servlets[0]: className 'Nope' is not exported by the entry module (its classes: S); export the class or fix the name.",
      "siplet.json servlets[1]: servlet 'y' matches no @Servlet class; add \"className\" with the export name of its class.",
      "siplet.json listeners[0]: className 'Gone' is not exported by the entry module (its classes: S); export the class or fix the name.",
    ]);
  });

  it('rejects init parameters that are not strings', () => {
    @SipApplication({ name: 'app' })
    @Servlet()
    class S extends SipServlet {}
    expect(errors({ S }, { initParams: { port: 5060 as unknown as string } })).toEqual([
      'siplet.json "initParams": "port" is 5060; init parameters are strings: quote it.',
    ]);
  });
});

describe('buildApplicationModel: listeners', () => {
  it('finds listener kinds from method names', () => {
    @SipApplication({ name: 'app' })
    @Servlet()
    class S extends SipServlet {}
    @SipListener()
    class Everything {
      sessionExpired(_e: SipApplicationSessionEvent) {}
      servletInitialized(_e: { servletName: string }) {}
      noAckReceived() {}
      timeout(_t: ServletTimer) {}
    }
    @SipListener({ kinds: ['session', 'applicationSession'] })
    class Both {
      sessionCreated(_e: SipSessionEvent | SipApplicationSessionEvent) {}
    }
    const m = model({ S, Everything, Both });
    expect(m.listeners).toEqual([
      { ctor: Everything, kinds: ['servlet', 'applicationSession', 'error', 'timer'] },
      { ctor: Both, kinds: ['session', 'applicationSession'] },
    ]);
  });

  it('a servlet that is also a listener is both', () => {
    @SipApplication({ name: 'app' })
    @Servlet()
    @SipListener()
    class TimedServlet extends SipServlet {
      timeout(_t: ServletTimer) {}
    }
    const m = model({ TimedServlet });
    expect(m.servlets[0]?.ctor).toBe(TimedServlet);
    expect(m.listeners).toEqual([{ ctor: TimedServlet, kinds: ['timer'] }]);
  });

  it('asks which interface a shared method name belongs to', () => {
    @SipApplication({ name: 'app' })
    @Servlet()
    class S extends SipServlet {}
    @SipListener()
    class Ambiguous {
      sessionCreated() {}
      attributeAdded() {}
    }
    expect(errors({ S, Ambiguous })).toEqual([
      "Listener Ambiguous has sessionCreated, which both SipApplicationSessionListener and SipSessionListener declare: say which it implements with @SipListener({ kinds: ['applicationSession'] }), ['session'] or both (or \"kinds\" in siplet.json).",
      "Listener Ambiguous has attributeAdded, which both SipApplicationSessionAttributeListener and SipSessionAttributeListener declare: say which it implements with @SipListener({ kinds: ['applicationSessionAttribute'] }), ['sessionAttribute'] or both (or \"kinds\" in siplet.json).",
    ]);
  });

  it('settles the ambiguity from the descriptor too', () => {
    @SipApplication({ name: 'app' })
    @Servlet()
    class S extends SipServlet {}
    @SipListener()
    class Sessions {
      sessionCreated() {}
    }
    expect(model({ S, Sessions }, { listeners: [{ className: 'Sessions', kinds: ['session'] }] }).listeners).toEqual([
      { ctor: Sessions, kinds: ['session'] },
    ]);
  });

  it('rejects a listener without listener methods, and a declared kind it does not implement', () => {
    @SipApplication({ name: 'app' })
    @Servlet()
    class S extends SipServlet {}
    @SipListener()
    class Empty {
      hello() {}
    }
    @SipListener({ kinds: ['timer'] })
    class Liar {
      sessionExpired() {}
    }
    expect(errors({ S, Empty, Liar })).toEqual([
      'Listener Empty has no listener method (such as sessionCreated, timeout, servletInitialized); implement one of the interfaces of listeners.ts or remove @SipListener.',
      "Listener Liar declares kind 'timer' but has none of the TimerListener methods (timeout); add one or remove the kind.",
    ]);
  });
});

describe('buildApplicationModel: @SipApplicationKey', () => {
  it('models the static key method', () => {
    @SipApplication({ name: 'conf' })
    @Servlet()
    class Conference extends SipServlet {
      static prefix = 'room:';
      @SipApplicationKey()
      static key(req: SipServletRequest): string | undefined {
        return req.getMethod() === 'INVITE' ? `${this.prefix}1` : undefined;
      }
    }
    const m = model({ Conference });
    expect(m.applicationKey?.(fakeRequest('INVITE'))).toBe('room:1');
    expect(m.applicationKey?.(fakeRequest('MESSAGE'))).toBeUndefined();
  });

  it('rejects an instance method and a second key method', () => {
    @SipApplication({ name: 'conf' })
    @Servlet()
    class A extends SipServlet {
      @SipApplicationKey()
      key(_req: SipServletRequest) {
        return 'a';
      }
    }
    expect(errors({ A })).toEqual(['@SipApplicationKey is on instance method A.key; make it static (it runs before any instance exists).']);

    class B {
      @SipApplicationKey()
      static one(_req: SipServletRequest) {
        return 'b';
      }
      @SipApplicationKey()
      static two(_req: SipServletRequest) {
        return 'b';
      }
    }
    @SipApplication({ name: 'conf' })
    @Servlet()
    class C extends SipServlet {}
    expect(errors({ B, C })).toEqual(['@SipApplicationKey is on 2 methods (B.one, B.two); an app has at most one: keep one.']);
  });
});

describe('buildApplicationModel: services and configure', () => {
  it('carries services and the configure hook', () => {
    class CallLog {}
    const configured: unknown[] = [];
    @SipApplication({ name: 'svc', services: [CallLog], configure: (c) => void configured.push(c) })
    @Servlet()
    class S extends SipServlet {}
    const m = model({ S });
    expect(m.services).toEqual([CallLog]);
    void m.configure?.('container' as never);
    expect(configured).toEqual(['container']);
  });
});
