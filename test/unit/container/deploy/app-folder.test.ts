import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APP_CONFIG,
  APP_LOGGER,
  Invite,
  NOT_HANDLED_ATTRIBUTE,
  SERVLET_CONTEXT,
  SIP_FACTORY,
  SIP_SESSIONS_UTIL,
  Servlet,
  SipApplication,
  SipListener,
  SipServlet,
  TIMER_SERVICE,
  inject,
  type AppConfig,
  type AppLogger,
  type ServletTimer,
  type SipFactory,
  type SipServletContext,
  type SipServletRequest,
  type SipSessionsUtil,
  type TimerService,
} from '../../../../src/api/index.js';
import { loadAppFolder, type LoadedApplication, type LoadAppFolderResult } from '../../../../src/container/deploy/index.js';
import { fakeRequest } from '../model/fake-messages.js';
import { capturingLogger, events, fakeServices, removeApps, writeApp, writeFiles } from './app-fixtures.js';

const services = fakeServices();
const loaded: LoadedApplication[] = [];

async function load(folder: string, logger = capturingLogger().logger): Promise<LoadAppFolderResult> {
  const result = await loadAppFolder(folder, { logger, services });
  if (result.ok) loaded.push(result.app);
  return result;
}

async function deploy(folder: string, logger = capturingLogger().logger): Promise<LoadedApplication> {
  const result = await load(folder, logger);
  if (!result.ok) throw new Error(result.failure.message);
  return result.app;
}

async function failure(folder: string): Promise<string> {
  const result = await load(folder);
  if (result.ok) throw new Error('expected the deployment to fail');
  return result.failure.message;
}

beforeEach(() => {
  events().length = 0;
});

afterEach(async () => {
  await Promise.all(loaded.splice(0).map((app) => app.destroy()));
  await removeApps();
});

/** A SipServlet subclass app as tsc compiles it: tokens and an own service injected into the servlet. */
const ECHO_APP = `
let CallLog = class CallLog {
  constructor() { this.entries = []; events.push('CallLog constructed'); }
};
let EchoApp = class EchoApp {};
EchoApp = __decorate([SipApplication({ name: 'echo', services: [CallLog] })], EchoApp);
let Echo = class Echo extends SipServlet {
  constructor(factory, timers, sessions, log, config, context, calls) {
    super();
    Object.assign(this, { factory, timers, sessions, log, config, context, calls });
    events.push('Echo constructed');
  }
  init(config) { super.init(config); events.push('Echo init ' + JSON.stringify(config)); }
  doInvite(req) {
    this.calls.entries.push(req.getMethod());
    for (const key of ['factory', 'timers', 'sessions', 'log', 'config', 'context', 'calls']) req.setAttribute(key, this[key]);
  }
  destroy() { events.push('Echo destroyed'); }
};
Echo = __decorate([
  Servlet({ name: 'echo', initParams: { greeting: 'hi' } }),
  __param(0, inject(SIP_FACTORY)), __param(1, inject(TIMER_SERVICE)), __param(2, inject(SIP_SESSIONS_UTIL)),
  __param(3, inject(APP_LOGGER)), __param(4, inject(APP_CONFIG)), __param(5, inject(SERVLET_CONTEXT)), __param(6, inject(CallLog)),
], Echo);
export { EchoApp, Echo, CallLog };
`;

describe('loadAppFolder: a SipServlet subclass app', () => {
  it('loads, injects the tokens and the app service, and starts the servlet on first use', async () => {
    const folder = await writeApp({
      'package.json': JSON.stringify({ name: 'echo-app', version: '1.2.3', type: 'module' }),
      'index.js': ECHO_APP,
      'config.json': JSON.stringify({ greeting: 'hello', limits: { calls: 5 } }),
    });
    const { logger, records } = capturingLogger();
    const app = await deploy(folder, logger);

    expect(app.model).toMatchObject({ name: 'echo', version: '1.2.3', mainServlet: 'echo' });
    expect(events()).toEqual([]); // nothing is constructed before first use

    const servlet = app.getServlet('echo');
    expect(servlet?.started).toBe(false);
    const request = fakeRequest('INVITE');
    await servlet?.handleRequest(request);
    expect(servlet?.started).toBe(true);
    expect(events()).toEqual([
      'CallLog constructed',
      'Echo constructed',
      'Echo init {"servletName":"echo","applicationName":"echo","initParams":{"greeting":"hi"}}',
    ]);

    expect(request.getAttribute('factory')).toBe(services.sipFactory);
    expect(request.getAttribute('timers')).toBe(services.timerService);
    expect(request.getAttribute('sessions')).toBe(services.sipSessionsUtil);
    const config = request.getAttribute<AppConfig>('config');
    expect(config?.get('greeting')).toBe('hello');
    expect(config?.get('limits.calls')).toBe(5);
    expect(config?.get('missing', 'default')).toBe('default');
    expect(request.getAttribute<SipServletContext>('context')?.getServletNames()).toEqual(['echo']);
    expect(request.getAttribute<{ entries: string[] }>('calls')?.entries).toEqual(['INVITE']);

    request.getAttribute<AppLogger>('log')?.info('from the app');
    expect(records.find((r) => r['msg'] === 'from the app')).toMatchObject({ app: 'echo' });
  });

  it('answers unknown names with undefined and undeploys cleanly', async () => {
    const app = await deploy(await writeApp({ 'index.js': ECHO_APP }));
    expect(app.getServlet('nope')).toBeUndefined();
    const servlet = app.getServlet('echo');
    await servlet?.ready();
    await app.destroy();
    await app.destroy();
    expect(events().filter((e) => e === 'Echo destroyed')).toHaveLength(1);
    await expect(servlet?.handleRequest(fakeRequest('INVITE'))).rejects.toThrow("Servlet 'echo' of app 'echo' is undeployed; it takes no more messages.");
  });
});

describe('loadAppFolder: a plain-class app with JSR 359 decorators', () => {
  it('dispatches to decorated methods and marks the rest not handled', async () => {
    const folder = await writeApp({
      'index.js': `
let Answer = class Answer {
  invite(req) { req.setAttribute('handled-by', 'invite'); }
};
__decorate([Invite()], Answer.prototype, "invite", null);
Answer = __decorate([SipApplication({ name: 'answer' }), Servlet({ name: 'answer' })], Answer);
export { Answer };
`,
    });
    const app = await deploy(folder);
    const invite = fakeRequest('INVITE');
    const options = fakeRequest('OPTIONS');
    await app.getServlet('answer')?.handleRequest(invite);
    await app.getServlet('answer')?.handleRequest(options);
    expect(invite.getAttribute('handled-by')).toBe('invite');
    expect(options.getAttribute(NOT_HANDLED_ATTRIBUTE)).toBe(true);
  });
});

describe('loadAppFolder: loadOnStartup, listeners, descriptor', () => {
  const APP = `
let Early = class Early extends SipServlet {
  constructor() { super(); events.push('Early constructed'); }
  init(config) { super.init(config); events.push('Early init'); }
  destroy() { events.push('Early destroyed'); }
};
Early = __decorate([Servlet({ name: 'early', loadOnStartup: 2 })], Early);
let First = class First extends SipServlet {
  constructor() { super(); events.push('First constructed'); }
  init(config) { events.push('First init'); return new Promise((r) => setTimeout(r, 5)); }
  destroy() { events.push('First destroyed'); }
};
First = __decorate([Servlet({ name: 'first', loadOnStartup: 1 })], First);
let Lazy = class Lazy extends SipServlet {
  constructor() { super(); events.push('Lazy constructed'); }
  async init() { events.push('Lazy init'); await new Promise((r) => setTimeout(r, 5)); }
  doInvite() { events.push('Lazy doInvite'); }
  destroy() { events.push('Lazy destroyed'); }
};
Lazy = __decorate([Servlet({ name: 'lazy' })], Lazy);
let Watcher = class Watcher {
  servletInitialized(event) { events.push('servletInitialized ' + event.servletName); }
  timeout(timer) {}
};
Watcher = __decorate([SipListener()], Watcher);
let App = class App {};
App = __decorate([SipApplication({ name: 'startup', mainServlet: 'lazy' })], App);
export { App, Early, First, Lazy, Watcher };
`;

  it('starts loadOnStartup servlets at deployment in order, the others once on first use', async () => {
    const app = await deploy(await writeApp({ 'index.js': APP }));
    expect(events()).toEqual([
      'First constructed',
      'First init',
      'servletInitialized first',
      'Early constructed',
      'Early init',
      'servletInitialized early',
    ]);
    events().length = 0;

    const lazy = app.getServlet('lazy');
    await Promise.all([lazy?.handleRequest(fakeRequest('INVITE')), lazy?.handleRequest(fakeRequest('INVITE'))]);
    expect(events()).toEqual(['Lazy constructed', 'Lazy init', 'servletInitialized lazy', 'Lazy doInvite', 'Lazy doInvite']);

    events().length = 0;
    await app.destroy();
    expect(events()).toEqual(['Lazy destroyed', 'Early destroyed', 'First destroyed']);
  });

  it('finds listeners and serves them by kind', async () => {
    const app = await deploy(await writeApp({ 'index.js': APP }));
    expect(app.listeners).toHaveLength(1);
    expect(app.listenersOf('timer')).toEqual(app.listeners);
    expect(app.listenersOf('servlet')).toEqual(app.listeners);
    expect(app.listenersOf('applicationSession')).toEqual([]);
  });

  it('lets siplet.json override the decorators', async () => {
    const folder = await writeApp({
      'index.js': APP,
      'siplet.json': JSON.stringify({ name: 'renamed', servlets: [{ name: 'early', loadOnStartup: -1 }, { name: 'lazy', loadOnStartup: 0 }] }),
    });
    const app = await deploy(folder);
    expect(app.model.name).toBe('renamed');
    expect(events()).toEqual(['Lazy constructed', 'Lazy init', 'servletInitialized lazy', 'First constructed', 'First init', 'servletInitialized first']);
  });

  it('uses package.json "main" as the entry', async () => {
    const app = await deploy(await writeApp({ 'package.json': JSON.stringify({ main: 'dist/app.js' }), 'dist/app.js': APP }));
    expect(app.model.name).toBe('startup');
  });
});

describe('loadAppFolder: TypeScript classes', () => {
  // Decorated by this file's own compiler (vite, with emitDecoratorMetadata), handed to the entry
  // module through the same global as the API: checks @inject on TypeScript constructors end to end.
  class Registry {
    readonly seen: string[] = [];
  }

  @SipApplication({ name: 'typed', services: [Registry] })
  @Servlet({ name: 'typed', loadOnStartup: 0 })
  @SipListener()
  class Typed extends SipServlet {
    constructor(
      @inject(SIP_FACTORY) readonly factory: SipFactory,
      @inject(TIMER_SERVICE) readonly timers: TimerService,
      @inject(SIP_SESSIONS_UTIL) readonly sessions: SipSessionsUtil,
      @inject(APP_CONFIG) readonly config: AppConfig,
      @inject(Registry) readonly registry: Registry,
    ) {
      super();
    }

    @Invite()
    ignored(_req: SipServletRequest) {}

    timeout(_timer: ServletTimer) {}
  }

  it('rejects the mixed style, then injects into the servlet that is also a listener', async () => {
    (globalThis as Record<symbol, unknown>)[Symbol.for('siplet.test.typed')] = { Typed };
    const folder = await writeApp({ 'index.js': "export const { Typed } = globalThis[Symbol.for('siplet.test.typed')];" });
    expect(await failure(folder)).toContain("Servlet 'typed' (class Typed) extends SipServlet and also has @Invite() on ignored: use one style");

    @SipApplication({ name: 'typed', services: [Registry] })
    @Servlet({ name: 'typed', loadOnStartup: 0 })
    @SipListener()
    class Clean extends SipServlet {
      constructor(
        @inject(SIP_FACTORY) readonly factory: SipFactory,
        @inject(APP_CONFIG) readonly config: AppConfig,
        @inject(Registry) readonly registry: Registry,
        @inject(APP_LOGGER) readonly log: AppLogger,
        @inject(SERVLET_CONTEXT) readonly context: SipServletContext,
      ) {
        super();
      }
      override doInvite(req: SipServletRequest) {
        this.registry.seen.push(req.getMethod());
        req.setAttribute('self', this);
      }
      timeout(_timer: ServletTimer) {}
    }
    (globalThis as Record<symbol, unknown>)[Symbol.for('siplet.test.typed')] = { Typed: Clean };
    const app = await deploy(folder);
    const [listener] = app.listenersOf('timer');
    expect(listener).toBeInstanceOf(Clean);
    const clean = listener as Clean;
    expect(clean.factory).toBe(services.sipFactory);
    expect(clean.config.all()).toEqual({});
    expect(clean.context.getApplicationName()).toBe('typed');
    expect(typeof clean.log.info).toBe('function');
    const request = fakeRequest('INVITE');
    await app.getServlet('typed')?.handleRequest(request);
    expect(request.getAttribute('self')).toBe(clean);
    expect(clean.registry.seen).toEqual(['INVITE']);
  });
});

describe('loadAppFolder: failures', () => {
  it('names a folder that does not exist', async () => {
    expect(await failure('/nonexistent/siplet-app')).toBe(
      "Cannot deploy app folder /nonexistent/siplet-app: it does not exist or is not a directory. Give the path of a folder holding the app's compiled JavaScript.",
    );
  });

  it('names a missing entry module', async () => {
    const folder = await writeApp({ 'readme.txt': 'no code' });
    expect(await failure(folder)).toBe(
      `Cannot deploy app folder ${folder}: it has no entry module: index.js is missing. Put the compiled entry at index.js, or name it in package.json "main".`,
    );
    const withMain = await writeApp({ 'package.json': '{"main":"dist/index.js"}' });
    expect(await failure(withMain)).toBe(
      `Cannot deploy app folder ${withMain}: package.json "main" names dist/index.js, which is not a file in the folder. Build the app, or fix "main".`,
    );
  });

  it('reports a module that throws on load', async () => {
    const folder = await writeApp({ 'index.js': "// no-prelude\nthrow new Error('database unreachable');\n" });
    const result = await load(folder);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure.message).toBe(
      `Cannot deploy app folder ${folder}: its entry module index.js threw while loading: database unreachable. Fix the module and redeploy.`,
    );
    expect((result.failure.cause as Error).message).toBe('database unreachable');
  });

  it('reports a module that imports something missing', async () => {
    const folder = await writeApp({ 'index.js': "// no-prelude\nimport './gone.js';\n" });
    expect(await failure(folder)).toMatch(
      new RegExp(`^Cannot deploy app folder ${folder}: its entry module index.js threw while loading: .*gone\\.js.*\\. Fix the module and redeploy\\.$`),
    );
  });

  it('lists every problem of an invalid model', async () => {
    const folder = await writeApp({
      'index.js': `
let A = class A extends SipServlet {};
A = __decorate([Servlet({ name: 'same' })], A);
let B = class B extends SipServlet {};
B = __decorate([Servlet({ name: 'same' })], B);
export { A, B };
`,
    });
    expect(await failure(folder)).toBe(
      `Cannot deploy app folder ${folder}: its application model is invalid (fix the decorators or siplet.json):\n` +
        '  - The application has no name: decorate one exported class with @SipApplication({ name: ... }) or set "name" in siplet.json.\n' +
        "  - Servlet name 'same' is used twice (@Servlet on class A; @Servlet on class B); servlet names must be unique in an app.",
    );
  });

  it('reports unreadable JSON files', async () => {
    const folder = await writeApp({ 'index.js': ECHO_APP, 'siplet.json': '{ "name": ' });
    expect(await failure(folder)).toMatch(new RegExp(`^Cannot deploy app folder ${folder}: ${folder}/siplet\\.json is not valid JSON \\(.+\\)\\. Fix the file\\.$`));
    const array = await writeApp({ 'index.js': ECHO_APP, 'config.json': '[1, 2]' });
    expect(await failure(array)).toBe(`Cannot deploy app folder ${array}: ${array}/config.json must hold a JSON object ({ ... }).`);
  });

  it('reports a DI failure and stops what it had started', async () => {
    const folder = await writeApp({
      'index.js': `
let Good = class Good extends SipServlet {
  init(config) { events.push('Good init'); }
  destroy() { events.push('Good destroyed'); }
};
Good = __decorate([Servlet({ name: 'good', loadOnStartup: 0 })], Good);
let Needy = class Needy extends SipServlet {
  constructor(missing) { super(); }
};
Needy = __decorate([Servlet({ name: 'needy', loadOnStartup: 1 }), __param(0, inject(Symbol.for('not.bound')))], Needy);
let App = class App {};
App = __decorate([SipApplication({ name: 'needy', mainServlet: 'good' })], App);
export { App, Good, Needy };
`,
    });
    const message = await failure(folder);
    expect(message).toMatch(
      new RegExp(
        `^Cannot deploy app folder ${folder}: servlet 'needy' \\(loadOnStartup 1\\) failed to start: No bindings found for service: "Symbol\\(not\\.bound\\)" — mark every constructor parameter with @inject\\(TOKEN\\)`,
      ),
    );
    expect(events()).toEqual(['Good init', 'Good destroyed']);
  });

  it('reports a constructor parameter without @inject when binding', async () => {
    const folder = await writeApp({
      'index.js': `
let Bare = class Bare extends SipServlet { constructor(factory) { super(); } };
Bare = __decorate([SipApplication({ name: 'bare' }), Servlet()], Bare);
export { Bare };
`,
    });
    expect(await failure(folder)).toMatch(
      new RegExp(`^Cannot deploy app folder ${folder}: a class cannot be bound in its DI container:\\n  - servlet 'Bare' \\(class Bare\\): .*requires at least 1 arguments.* — mark every constructor parameter with @inject\\(TOKEN\\)`),
    );
  });

  it('fails every message to a lazy servlet that cannot start, with the same error', async () => {
    const folder = await writeApp({
      'index.js': `
let Broken = class Broken extends SipServlet {
  init() { events.push('Broken init'); throw new Error('no licence'); }
};
Broken = __decorate([SipApplication({ name: 'broken' }), Servlet({ name: 'broken' })], Broken);
export { Broken };
`,
    });
    const app = await deploy(folder);
    const servlet = app.getServlet('broken');
    const expected = "Servlet 'broken' of app 'broken' failed to start: no licence";
    await expect(servlet?.handleRequest(fakeRequest('INVITE'))).rejects.toThrow(expected);
    await expect(servlet?.handleRequest(fakeRequest('INVITE'))).rejects.toThrow(expected);
    expect(events()).toEqual(['Broken init']);
  });

  it('reports a configure hook that throws', async () => {
    const folder = await writeApp({
      'index.js': `
let S = class S extends SipServlet {};
S = __decorate([SipApplication({ name: 'conf', configure() { throw new Error('bad binding'); } }), Servlet()], S);
export { S };
`,
    });
    expect(await failure(folder)).toBe(
      `Cannot deploy app folder ${folder}: its configure(container) hook threw: bad binding. Fix the hook in @SipApplication.`,
    );
  });
});

describe('loadAppFolder: redeploy and configuration', () => {
  it('loads fresh code from the same folder on redeploy', async () => {
    const version = (n: number): string => `
let S = class S extends SipServlet { doInvite(req) { req.setAttribute('version', ${n}); } };
S = __decorate([SipApplication({ name: 'fresh' }), Servlet()], S);
export { S };
`;
    const folder = await writeApp({ 'index.js': version(1) });
    const first = await deploy(folder);
    await first.destroy();
    await writeFiles(folder, { 'index.js': version(2) });
    const second = await deploy(folder);
    const request = fakeRequest('INVITE');
    await second.getServlet('S')?.handleRequest(request);
    expect(request.getAttribute('version')).toBe(2);
  });

  it('serves a configure hook binding and reloads the configuration live', async () => {
    const folder = await writeApp({
      'index.js': `
const GREETING = Symbol.for('app.greeting');
let S = class S extends SipServlet {
  constructor(greeting, config) { super(); this.greeting = greeting; this.config = config; this.changes = [];
    config.onChange((c) => this.changes.push(c.get('mode'))); }
  doInvite(req) { req.setAttribute('greeting', this.greeting); req.setAttribute('changes', this.changes); req.setAttribute('mode', this.config.get('mode')); }
};
S = __decorate([
  SipApplication({ name: 'cfg', configure(container) { container.bind(GREETING).toConstantValue('hello'); } }),
  Servlet({ loadOnStartup: 0 }), __param(0, inject(GREETING)), __param(1, inject(APP_CONFIG)),
], S);
export { S };
`,
      'config.json': '{ "mode": "quiet" }',
    });
    const app = await deploy(folder);
    app.config.replace({ mode: 'loud' });
    const request = fakeRequest('INVITE');
    await app.getServlet('S')?.handleRequest(request);
    expect(request.getAttribute('greeting')).toBe('hello');
    expect(request.getAttribute('mode')).toBe('loud');
    expect(request.getAttribute('changes')).toEqual(['loud']);
  });
});
