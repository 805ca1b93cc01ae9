import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Container, type Newable } from 'inversify';
import {
  APP_CONFIG,
  APP_DATA,
  APP_LOGGER,
  LOCATION_SERVICE,
  SERVLET_CONTEXT,
  SIP_FACTORY,
  SIP_SESSIONS_UTIL,
  TIMER_SERVICE,
  type AppData,
  type HttpHandler,
  type ListenerKind,
  type LocationService,
  type ServiceClass,
  type SipFactory,
  type SipServletContext,
  type SipSessionsUtil,
  type TimerService,
} from '../../api/index.js';
import type { Logger } from '../../util/index.js';
import {
  buildApplicationModel,
  createServletInvoker,
  type ApplicationModel,
  type DescriptorShape,
  type ListenerKindMap,
} from '../model/index.js';
import { LiveAppConfig } from './app-config.js';
import { DEPLOY_QUERY_PARAM, installFreshImportHook } from './fresh-imports.js';
import { diHint, errorText } from './error-text.js';
import { buildHttpHandler, NO_APP_DATA } from './http-routes.js';
import { ManagedServlet, type DeployedServlet } from './managed-servlet.js';
import { ApplicationContext } from './servlet-context.js';

/** The container's services an app gets injected (`SIP_FACTORY`, `TIMER_SERVICE`, `SIP_SESSIONS_UTIL`, `LOCATION_SERVICE`). */
export interface AppServices {
  readonly sipFactory: SipFactory;
  readonly timerService: TimerService;
  readonly sipSessionsUtil: SipSessionsUtil;
  /** Bound as `LOCATION_SERVICE` when given (the container always gives it). */
  readonly locationService?: LocationService;
  /** The app's data in the server's store, for its name: bound as `APP_DATA` (the container gives it when it has a store). */
  readonly appData?: (appName: string) => AppData;
}

export interface LoadAppFolderOptions {
  /** The deploy layer's logger; the app's own logger (`APP_LOGGER`) is its child `{ app: <name> }`. */
  logger: Logger;
  services: AppServices;
  /**
   * Names this load of the folder's code in the module URLs (`index.js?siplet-deploy=<key>`).
   * Loading the same folder again with the same key reuses the module instances already loaded
   * (no new module graph: ESM never unloads one); default: a key never used before, so the code
   * runs afresh. The deployer passes an archive's content hash.
   */
  moduleKey?: string;
  /** Names what is deployed in failure messages. Default: `app folder <path>`. */
  label?: string;
}

/** Why an app folder could not be deployed. Nothing of it stays loaded. */
export interface AppLoadFailure {
  readonly folder: string;
  /** One text for the operator: the folder, what is wrong, what to do; one line per problem. */
  readonly message: string;
  /** The individual problems (model validation finds several at once). */
  readonly problems: readonly string[];
  /** The error the app's code threw, when there was one. */
  readonly cause?: unknown;
}

export type LoadAppFolderResult = { ok: true; app: LoadedApplication } | { ok: false; failure: AppLoadFailure };

/** An application loaded from its folder, ready for the container. */
export interface LoadedApplication {
  readonly folder: string;
  readonly model: ApplicationModel;
  /** Its configuration; `config.replace(values)` reloads it (a later issue watches config.json). */
  readonly config: LiveAppConfig;
  readonly context: SipServletContext;
  /** `undefined` for a name the model does not have. */
  getServlet(name: string): DeployedServlet | undefined;
  /** Every listener instance, in model order. A class that is also a servlet is the same instance. */
  readonly listeners: readonly object[];
  /** The listeners implementing one interface. */
  listenersOf<K extends ListenerKind>(kind: K): readonly ListenerKindMap[K][];
  /** The app's HTTP routes (converged apps: `model.http`), built once at deployment; `undefined` without. */
  readonly http: HttpHandler | undefined;
  /** Destroys started servlets (in reverse start order), then the DI container (`@preDestroy`). Idempotent. */
  destroy(): Promise<void>;
}

let deployCount = 0;

/**
 * Loads an application from a folder of compiled JavaScript:
 *
 * - the entry module: package.json `"main"`, else `index.js`, imported as ESM under a new URL each
 *   time (see `fresh-imports.ts`), so a redeploy runs fresh code;
 * - `siplet.json` (optional): the descriptor, overriding the decorators;
 * - `config.json` (optional): the app's configuration, served as `APP_CONFIG`.
 *
 * Then it builds the application model, creates the app's inversify container (Siplet's tokens,
 * the model's `services` in singleton scope, then `configure`), constructs the listeners and the
 * `loadOnStartup` servlets, and `init`s those servlets in ascending `loadOnStartup` order.
 *
 * Any failure returns `{ ok: false }` with a message naming the folder and what to do; whatever
 * was started by then is destroyed first.
 *
 * Hazard: the app's code runs in this process with the server's privileges.
 */
export async function loadAppFolder(folderPath: string, options: LoadAppFolderOptions): Promise<LoadAppFolderResult> {
  const folder = resolve(folderPath);
  const fail = (summary: string, problems: readonly string[] = [], cause?: unknown): LoadAppFolderResult => {
    const message = `Cannot deploy ${options.label ?? `app folder ${folder}`}: ${summary}${problems.map((p) => `\n  - ${p}`).join('')}`;
    return { ok: false, failure: { folder, message, problems: problems.length > 0 ? problems : [summary], cause } };
  };

  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory()) return fail('it does not exist or is not a directory. Give the path of a folder holding the app\'s compiled JavaScript.');

  const pkg = await readJsonObject(join(folder, 'package.json'));
  if (!pkg.ok) return fail(pkg.problem);
  const main = pkg.value?.['main'];
  if (main !== undefined && typeof main !== 'string') return fail('package.json "main" is not a string; give the path of the entry module, e.g. "index.js".');
  const entry = join(folder, main ?? 'index.js');
  if (!(await stat(entry).catch(() => undefined))?.isFile()) {
    return fail(
      main === undefined
        ? 'it has no entry module: index.js is missing. Put the compiled entry at index.js, or name it in package.json "main".'
        : `package.json "main" names ${main}, which is not a file in the folder. Build the app, or fix "main".`,
    );
  }

  const descriptorFile = await readJsonObject(join(folder, 'siplet.json'));
  if (!descriptorFile.ok) return fail(descriptorFile.problem);
  const configFile = await readJsonObject(join(folder, 'config.json'));
  if (!configFile.ok) return fail(configFile.problem);

  installFreshImportHook();
  let moduleExports: Record<string, unknown>;
  try {
    deployCount += 1;
    const key = options.moduleKey ?? `${Date.now().toString(36)}-${deployCount}`;
    const url = `${pathToFileURL(entry).href}?${DEPLOY_QUERY_PARAM}=${encodeURIComponent(key)}`;
    moduleExports = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    return fail(`its entry module ${relativeName(entry, folder)} threw while loading: ${errorText(err)}${moduleHint(err)}. Fix the module and redeploy.`, [], err);
  }

  const version = pkg.value?.['version'];
  const descriptor: Partial<DescriptorShape> = {
    ...(typeof version === 'string' && { version }),
    ...(descriptorFile.value as Partial<DescriptorShape> | undefined),
  };
  const built = buildApplicationModel(moduleExports, descriptor);
  if (!built.ok) return fail('its application model is invalid (fix the decorators or siplet.json):', built.errors);

  return instantiate(folder, built.model, configFile.value ?? {}, options, fail);
}

type Fail = (summary: string, problems?: readonly string[], cause?: unknown) => LoadAppFolderResult;

/**
 * Loads an application from module exports already in memory (an app's classes
 * imported by a test, or by an embedding program) instead of a folder: the same
 * model, DI container and servlet life cycle as `loadAppFolder`.
 *
 * @example
 * const result = await loadAppModule({ MyServlet, MyApp }, { label: 'my-app test', config: { blocked: [] } }, options);
 */
export async function loadAppModule(
  moduleExports: Record<string, unknown>,
  source: { label: string; descriptor?: Partial<DescriptorShape>; config?: Record<string, unknown> },
  options: LoadAppFolderOptions,
): Promise<LoadAppFolderResult> {
  const fail: Fail = (summary, problems = [], cause) => {
    const message = `Cannot deploy ${source.label}: ${summary}${problems.map((p) => `\n  - ${p}`).join('')}`;
    return { ok: false, failure: { folder: source.label, message, problems: problems.length > 0 ? problems : [summary], cause } };
  };
  const built = buildApplicationModel(moduleExports, source.descriptor);
  if (!built.ok) return fail('its application model is invalid (fix the decorators or the descriptor):', built.errors);
  return instantiate(source.label, built.model, source.config ?? {}, options, fail);
}

async function instantiate(
  folder: string,
  model: ApplicationModel,
  configValues: Record<string, unknown>,
  options: LoadAppFolderOptions,
  fail: Fail,
): Promise<LoadAppFolderResult> {
  const appLogger = options.logger.child({ app: model.name });
  const config = new LiveAppConfig(configValues, appLogger);
  const context = new ApplicationContext(model);
  const container = new Container();
  const started: ManagedServlet[] = [];
  const servlets = new Map<string, ManagedServlet>();
  const listenerEntries: { instance: object; kinds: readonly ListenerKind[] }[] = [];
  const appData = options.services.appData?.(model.name);

  const cleanUp = async (): Promise<void> => {
    await Promise.allSettled([...servlets.values()].map((servlet) => servlet.settled()));
    for (const servlet of [...started].reverse()) await servlet.stop(options.logger);
    await container.unbindAllAsync().catch((err: unknown) => options.logger.warn({ err, app: model.name }, 'Unbinding the app\'s DI container failed.'));
    config.close();
  };

  try {
    container.bind(SIP_FACTORY).toConstantValue(options.services.sipFactory);
    container.bind(TIMER_SERVICE).toConstantValue(options.services.timerService);
    container.bind(SIP_SESSIONS_UTIL).toConstantValue(options.services.sipSessionsUtil);
    if (options.services.locationService !== undefined) container.bind(LOCATION_SERVICE).toConstantValue(options.services.locationService);
    if (appData !== undefined) container.bind(APP_DATA).toConstantValue(appData);
    container.bind(APP_LOGGER).toConstantValue(appLogger);
    container.bind(APP_CONFIG).toConstantValue(config);
    container.bind(SERVLET_CONTEXT).toConstantValue(context);
  } catch (err) {
    await cleanUp();
    return fail(`binding Siplet's tokens failed: ${errorText(err)}. Report this.`, [], err);
  }

  const problems: string[] = [];
  for (const service of model.services) bindClass(container, service, `service ${service.name}`, problems);
  if (problems.length > 0) {
    await cleanUp();
    return fail('a service class cannot be bound in its DI container:', problems);
  }
  if (model.configure !== undefined) {
    try {
      await model.configure(container);
    } catch (err) {
      await cleanUp();
      return fail(`its configure(container) hook threw: ${errorText(err)}. Fix the hook in @SipApplication.`, [], err);
    }
  }
  for (const servlet of model.servlets) bindClass(container, servlet.ctor, `servlet '${servlet.name}'`, problems);
  for (const listener of model.listeners) bindClass(container, listener.ctor, `listener ${listener.ctor.name}`, problems);
  if (problems.length > 0) {
    await cleanUp();
    return fail('a class cannot be bound in its DI container:', problems);
  }

  for (const listener of model.listeners) {
    try {
      const instance = await container.getAsync<object>(listener.ctor as Newable<object>);
      listenerEntries.push({ instance, kinds: listener.kinds });
    } catch (err) {
      await cleanUp();
      return fail(`listener ${listener.ctor.name} could not be constructed: ${errorText(err)}${diHint(err)}`, [], err);
    }
  }
  const servletListeners = listenerEntries.filter((l) => l.kinds.includes('servlet')).map((l) => l.instance as ListenerKindMap['servlet']);

  for (const servletModel of model.servlets) {
    servlets.set(
      servletModel.name,
      new ManagedServlet(servletModel, {
        create: async () => createServletInvoker(servletModel, await container.getAsync<object>(servletModel.ctor as Newable<object>)),
        config: { servletName: servletModel.name, applicationName: model.name, initParams: servletModel.initParams },
        onStarted: async (servlet) => {
          started.push(servlet);
          for (const listener of servletListeners) {
            try {
              await listener.servletInitialized?.({ servletName: servlet.name });
            } catch (err) {
              appLogger.error({ err, servlet: servlet.name }, 'A SipServletListener threw in servletInitialized; the servlet is started regardless.');
            }
          }
        },
        logger: appLogger,
      }),
    );
  }

  const eager = model.servlets
    .map((servlet, index) => ({ servlet, index }))
    .filter(({ servlet }) => servlet.loadOnStartup !== undefined)
    .sort((a, b) => (a.servlet.loadOnStartup ?? 0) - (b.servlet.loadOnStartup ?? 0) || a.index - b.index);
  for (const { servlet } of eager) {
    try {
      await servlets.get(servlet.name)?.ready();
    } catch (err) {
      await cleanUp();
      const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
      return fail(`servlet '${servlet.name}' (loadOnStartup ${servlet.loadOnStartup}) failed to start: ${errorText(cause)}${diHint(cause)}`, [], cause);
    }
  }

  // Converged apps: the HTTP routes, built once the app's services and eager servlets are up.
  let http: HttpHandler | undefined;
  if (model.http !== undefined) {
    try {
      http = await buildHttpHandler(model.http, {
        applicationName: model.name,
        basePath: `/${model.name}`,
        sipFactory: options.services.sipFactory,
        sessionsUtil: options.services.sipSessionsUtil,
        timerService: options.services.timerService,
        config,
        logger: appLogger,
        servletContext: context,
        data: appData ?? NO_APP_DATA,
        locationService: options.services.locationService,
        resolve: <T>(id: symbol | (new (...args: never[]) => T)) => container.get<T>(id as Newable<T>),
      });
    } catch (err) {
      await cleanUp();
      return fail(`its HTTP router '${model.http.router}' could not be built: ${errorText(err)}${diHint(err)}`, [], err);
    }
  }

  // Looked up per session event: computed once here.
  const byKind = new Map<ListenerKind, readonly object[]>();
  for (const { instance, kinds } of listenerEntries) for (const kind of kinds) byKind.set(kind, [...(byKind.get(kind) ?? []), instance]);

  let destroyed: Promise<void> | undefined;
  const app: LoadedApplication = {
    folder,
    model,
    config,
    context,
    getServlet: (name) => servlets.get(name),
    listeners: listenerEntries.map((l) => l.instance),
    listenersOf: <K extends ListenerKind>(kind: K) => (byKind.get(kind) ?? []) as readonly ListenerKindMap[K][],
    http,
    destroy: () => {
      if (destroyed === undefined) {
        for (const servlet of servlets.values()) servlet.undeploy();
        destroyed = cleanUp();
      }
      return destroyed;
    },
  };
  options.logger.info({ app: model.name, folder, servlets: model.servlets.length, listeners: model.listeners.length }, 'Application loaded.');
  return { ok: true, app };
}

function bindClass(container: Container, ctor: ServiceClass, what: string, problems: string[]): void {
  if (container.isBound(ctor)) return;
  try {
    container.bind(ctor as Newable<unknown>).toSelf().inSingletonScope();
  } catch (err) {
    problems.push(`${what} (class ${ctor.name}): ${errorText(err)}${diHint(err)}`);
  }
}

type JsonObjectResult = { ok: true; value: Record<string, unknown> | undefined } | { ok: false; problem: string };

/** A JSON object file: `undefined` when the file is absent, a problem when it is unreadable or not an object. */
async function readJsonObject(path: string): Promise<JsonObjectResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, value: undefined };
    return { ok: false, problem: `${path} cannot be read: ${errorText(err)}. Check its permissions.` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `${path} is not valid JSON (${errorText(err)}). Fix the file.` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: `${path} must hold a JSON object ({ ... }).` };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

function relativeName(entry: string, folder: string): string {
  return entry.startsWith(folder) ? entry.slice(folder.length + 1) : entry;
}

function moduleHint(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND') return " (a module it imports is missing: install the app's dependencies, or build it)";
  if (err instanceof SyntaxError) return ' (the entry must be compiled ES module JavaScript)';
  return '';
}
