import type { Container } from 'inversify';
import {
  getSipMetadata,
  SipServlet,
  type RequestHandlerRecord,
  type ResponseHandlerRecord,
  type ServiceClass,
  type SecurityConstraint,
  type SipApplicationOptions,
  type SipClassMetadata,
  type SipServletRequest,
} from '../../api/index.js';
import type { ApplicationModel, HttpModel, ListenerModel, SecurityConstraintModel, ServletModel } from './application-model.js';
import {
  checkDescriptor,
  type DescriptorHttp,
  type DescriptorListener,
  type DescriptorSecurityConstraint,
  type DescriptorServlet,
  type DescriptorShape,
} from './descriptor.js';
import { buildHandlerTables } from './handler-table.js';
import { listenerKindsOf } from './listener-kinds.js';

export type BuildApplicationModelResult = { ok: true; model: ApplicationModel } | { ok: false; errors: string[] };

export const DEFAULT_SESSION_TIMEOUT_MINUTES = 3;
export const DEFAULT_PROXY_TIMEOUT_SECONDS = 180;

const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** RFC 3261 §25.1: a realm goes into a quoted-string. */
const REALM = /^[^"\\\x00-\x1f\x7f]+$/;
const METHOD = /^[A-Za-z]+$/;
const CONSTRAINT_FIELDS = ['name', 'servletNames', 'methods', 'roles', 'proxyAuthentication', 'transportGuarantee'];

/**
 * Builds the application model from an app's entry module and its optional descriptor: finds the
 * decorated classes among the module's exports, lets each descriptor field override the decorator
 * field it names, fills in defaults and validates the result.
 *
 * Every problem is reported, not just the first; each message says what is wrong and what to do.
 *
 * Hazard: only exported classes are seen. A decorated class the entry module does not export
 * (directly or re-exported) is not part of the app.
 */
export function buildApplicationModel(
  moduleExports: Record<string, unknown>,
  descriptor: Partial<DescriptorShape> = {},
): BuildApplicationModelResult {
  const errors = checkDescriptor(descriptor);
  if (errors.length > 0) return { ok: false, errors };

  const classes = exportedClasses(moduleExports);
  const metadataOf = (ctor: ServiceClass): SipClassMetadata | undefined => getSipMetadata(ctor);

  for (const [ctor] of classes) {
    for (const decorator of metadataOf(ctor)?.repeated ?? []) {
      errors.push(`Class ${ctor.name} has ${decorator} more than once; keep one.`);
    }
  }

  const app = applicationOptions(classes, metadataOf, errors);
  const name = descriptor.name ?? app?.name;
  if (name === undefined) {
    const anyDecorated = [...classes.keys()].some((ctor) => metadataOf(ctor) !== undefined);
    errors.push(
      'The application has no name: decorate one exported class with @SipApplication({ name: ... }) or set "name" in siplet.json.' +
        (anyDecorated || classes.size === 0
          ? ''
          : ' (No exported class carries a Siplet decorator: if you did decorate them, the app imports its own copy of Siplet; import the API from \'siplet/sdk\' as provided by the server, e.g. make siplet a peerDependency.)'),
    );
  } else if (typeof name !== 'string' || !APP_NAME.test(name)) {
    errors.push(`Application name ${JSON.stringify(name)} is not valid: use letters, digits, '.', '_' and '-', starting with a letter or digit.`);
  }
  if (app?.services !== undefined && (!Array.isArray(app.services) || app.services.some((s) => typeof s !== 'function'))) {
    errors.push('@SipApplication "services" must be an array of classes.');
  }
  if (app?.configure !== undefined && typeof app.configure !== 'function') {
    errors.push('@SipApplication "configure" must be a function (container) => void.');
  }

  const sessionTimeout = descriptor.sessionTimeout ?? app?.sessionTimeout ?? DEFAULT_SESSION_TIMEOUT_MINUTES;
  if (typeof sessionTimeout !== 'number' || !Number.isFinite(sessionTimeout)) {
    errors.push(`sessionTimeout ${JSON.stringify(sessionTimeout)} is not a number of minutes; give e.g. 3 (0 or less: sessions never expire).`);
  }
  const proxyTimeout = descriptor.proxyTimeout ?? app?.proxyTimeout ?? DEFAULT_PROXY_TIMEOUT_SECONDS;
  if (typeof proxyTimeout !== 'number' || !Number.isFinite(proxyTimeout) || proxyTimeout <= 0) {
    errors.push(`proxyTimeout ${JSON.stringify(proxyTimeout)} is not a positive number of seconds; give e.g. 180.`);
  }
  const initParams = {
    ...params(app?.initParams, '@SipApplication initParams', errors),
    ...params(descriptor.initParams, 'siplet.json "initParams"', errors),
  };

  const { servlets, declared } = servletModels(classes, metadataOf, descriptor.servlets ?? [], name, errors);
  const mainServlet = chooseMainServlet(descriptor.mainServlet ?? app?.mainServlet, declared, errors);
  const listeners = listenerModels(classes, metadataOf, descriptor.listeners ?? [], errors);
  const applicationKey = applicationKeyOf(classes, metadataOf, errors);
  const securityConstraints = securityConstraintModels(
    descriptor.securityConstraints ?? app?.securityConstraints ?? [],
    descriptor.securityConstraints !== undefined ? 'siplet.json securityConstraints' : '@SipApplication securityConstraints',
    declared,
    errors,
  );
  const realm = descriptor.realm ?? app?.realm;
  if (realm !== undefined && (typeof realm !== 'string' || !REALM.test(realm))) {
    errors.push(`realm ${JSON.stringify(realm)} is not valid: give a non-empty realm such as "example.com", without quotes, backslashes or control characters.`);
  }
  const http = httpModel(moduleExports, descriptor.http, app?.http, errors);

  if (errors.length > 0 || name === undefined || mainServlet === undefined) return { ok: false, errors };
  const configure = app?.configure;
  return {
    ok: true,
    model: {
      name,
      version: descriptor.version,
      displayName: descriptor.displayName ?? app?.displayName ?? name,
      description: descriptor.description ?? app?.description,
      mainServlet,
      sessionTimeout,
      proxyTimeout,
      distributable: descriptor.distributable ?? app?.distributable ?? false,
      servlets,
      listeners,
      applicationKey,
      services: [...(app?.services ?? [])],
      configure: configure === undefined ? undefined : (container: Container) => configure.call(app, container),
      initParams,
      securityConstraints,
      http,
      realm,
    },
  };
}

type MetadataOf = (ctor: ServiceClass) => SipClassMetadata | undefined;

/** Exported classes (functions with a prototype), each once, with the name it is exported under. */
function exportedClasses(moduleExports: Record<string, unknown>): Map<ServiceClass, string> {
  const classes = new Map<ServiceClass, string>();
  for (const key of Object.keys(moduleExports)) {
    const value = moduleExports[key];
    if (typeof value !== 'function' || value.prototype === undefined) continue;
    const ctor = value as ServiceClass;
    if (!classes.has(ctor) || key !== 'default') classes.set(ctor, key);
  }
  return classes;
}

function applicationOptions(
  classes: Map<ServiceClass, string>,
  metadataOf: MetadataOf,
  errors: string[],
): SipApplicationOptions | undefined {
  const apps = [...classes.keys()].filter((ctor) => metadataOf(ctor)?.application !== undefined);
  if (apps.length > 1) {
    errors.push(`@SipApplication is on ${apps.length} classes (${apps.map((c) => c.name).join(', ')}); an app has exactly one: keep it on one class.`);
  }
  const first = apps[0];
  return first === undefined ? undefined : metadataOf(first)?.application;
}

interface ServletDraft {
  name: string;
  ctor: ServiceClass;
  loadOnStartup: number | undefined;
  description: string | undefined;
  initParams: Record<string, string>;
  /** Where it was declared, for messages. */
  source: string;
}

function servletModels(
  classes: Map<ServiceClass, string>,
  metadataOf: MetadataOf,
  descriptorServlets: readonly DescriptorServlet[],
  appName: string | undefined,
  errors: string[],
): { servlets: ServletModel[]; declared: string[] } {
  const drafts: ServletDraft[] = [];
  for (const [ctor] of classes) {
    const options = metadataOf(ctor)?.servlet;
    if (options === undefined) continue;
    const name = options.name ?? ctor.name;
    if (options.applicationName !== undefined && appName !== undefined && options.applicationName !== appName) {
      errors.push(
        `Servlet '${name}' (class ${ctor.name}) says applicationName '${options.applicationName}' but the application is '${appName}': fix or remove applicationName.`,
      );
    }
    drafts.push({
      name,
      ctor,
      loadOnStartup: options.loadOnStartup,
      description: options.description,
      initParams: params(options.initParams, `@Servlet initParams of ${ctor.name}`, errors),
      source: `@Servlet on class ${ctor.name}`,
    });
  }

  descriptorServlets.forEach((entry, index) => {
    const where = `siplet.json servlets[${index}]`;
    let ctor: ServiceClass | undefined;
    if (entry.className !== undefined) {
      ctor = classByExportName(classes, entry.className);
      if (ctor === undefined) {
        errors.push(`${where}: className '${entry.className}' is not exported by the entry module (its classes: ${exportNames(classes)}); export the class or fix the name.`);
        return;
      }
    }
    const draft = drafts.find((d) => d.name === entry.name);
    if (draft === undefined) {
      if (ctor === undefined) {
        errors.push(`${where}: servlet '${entry.name}' matches no @Servlet class; add "className" with the export name of its class.`);
        return;
      }
      drafts.push({
        name: entry.name,
        ctor,
        loadOnStartup: entry.loadOnStartup,
        description: entry.description,
        initParams: params(entry.initParams, `${where} "initParams"`, errors),
        source: where,
      });
      return;
    }
    if (ctor !== undefined) draft.ctor = ctor;
    if (entry.loadOnStartup !== undefined) draft.loadOnStartup = entry.loadOnStartup;
    if (entry.description !== undefined) draft.description = entry.description;
    draft.initParams = { ...draft.initParams, ...params(entry.initParams, `${where} "initParams"`, errors) };
  });

  const models: ServletModel[] = [];
  const byName = new Map<string, ServletDraft>();
  const byClass = new Map<ServiceClass, ServletDraft>();
  for (const draft of drafts) {
    if (typeof draft.name !== 'string' || draft.name.length === 0) {
      errors.push(`${draft.source}: the servlet name is empty; give a name.`);
      continue;
    }
    const sameName = byName.get(draft.name);
    if (sameName !== undefined) {
      errors.push(`Servlet name '${draft.name}' is used twice (${sameName.source}; ${draft.source}); servlet names must be unique in an app.`);
      continue;
    }
    byName.set(draft.name, draft);
    const sameClass = byClass.get(draft.ctor);
    if (sameClass !== undefined) {
      errors.push(`Class ${draft.ctor.name} is both servlet '${sameClass.name}' and servlet '${draft.name}'; one class makes one servlet: subclass it for the second.`);
      continue;
    }
    byClass.set(draft.ctor, draft);
    if (draft.loadOnStartup !== undefined && (typeof draft.loadOnStartup !== 'number' || !Number.isInteger(draft.loadOnStartup))) {
      errors.push(`Servlet '${draft.name}': loadOnStartup ${JSON.stringify(draft.loadOnStartup)} is not an integer; give 0 or more to load at deployment, or leave it out.`);
      continue;
    }
    const model = servletModel(draft, metadataOf, errors);
    if (model !== undefined) models.push(model);
  }

  // Handler decorators on a class that is no servlet would silently do nothing.
  for (const [ctor] of classes) {
    const metadata = metadataOf(ctor);
    if (metadata === undefined || (metadata.requestHandlers.length === 0 && metadata.responseHandlers.length === 0)) continue;
    const used = drafts.some((d) => d.ctor === ctor || d.ctor.prototype instanceof ctor);
    if (!used) {
      const first = metadata.requestHandlers[0] ?? metadata.responseHandlers[0];
      errors.push(
        `Class ${ctor.name} has handler decorators (${first?.decorator} on ${String(first?.methodName)}) but is not a servlet: add @Servlet() to it or list it under "servlets" in siplet.json.`,
      );
    }
  }
  return { servlets: models, declared: [...byName.keys()] };
}

function servletModel(draft: ServletDraft, metadataOf: MetadataOf, errors: string[]): ServletModel | undefined {
  const { requests, responses } = collectHandlers(draft.ctor, metadataOf);
  const base = {
    name: draft.name,
    ctor: draft.ctor,
    loadOnStartup: draft.loadOnStartup !== undefined && draft.loadOnStartup >= 0 ? draft.loadOnStartup : undefined,
    description: draft.description,
    initParams: draft.initParams,
  };
  if (draft.ctor.prototype instanceof SipServlet) {
    const first = requests[0] ?? responses[0];
    if (first !== undefined) {
      errors.push(
        `Servlet '${draft.name}' (class ${draft.ctor.name}) extends SipServlet and also has ${first.decorator} on ${String(first.methodName)}: ` +
          'use one style — override doInvite()/doSuccessResponse()… or drop "extends SipServlet" and keep the decorators.',
      );
      return undefined;
    }
    return { ...base, kind: 'servlet', requestHandlers: new Map(), responseHandlers: [] };
  }
  if (requests.length === 0 && responses.length === 0) {
    errors.push(
      `Servlet '${draft.name}' (class ${draft.ctor.name}) neither extends SipServlet nor has a handler decorator: ` +
        "extend SipServlet, or mark methods with @Invite(), @AnyMethod(), @SuccessResponse()… (from 'siplet/sdk').",
    );
    return undefined;
  }
  const tables = buildHandlerTables(draft.name, requests, responses);
  if (!tables.ok) {
    errors.push(...tables.errors);
    return undefined;
  }
  return { ...base, kind: 'pojo', ...tables.tables };
}

/**
 * Handler records of a class and its base classes. A method a subclass decorates again takes only
 * the subclass's decorators.
 */
function collectHandlers(
  ctor: ServiceClass,
  metadataOf: MetadataOf,
): { requests: RequestHandlerRecord[]; responses: ResponseHandlerRecord[] } {
  const chain: ServiceClass[] = [];
  for (let c: unknown = ctor; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    chain.unshift(c as ServiceClass);
  }
  const requests = new Map<string | symbol, RequestHandlerRecord[]>();
  const responses = new Map<string | symbol, ResponseHandlerRecord[]>();
  for (const c of chain) {
    const metadata = metadataOf(c);
    if (metadata === undefined) continue;
    const ownRequests = groupBy(metadata.requestHandlers);
    const ownResponses = groupBy(metadata.responseHandlers);
    for (const key of new Set([...ownRequests.keys(), ...ownResponses.keys()])) {
      requests.set(key, ownRequests.get(key) ?? []);
      responses.set(key, ownResponses.get(key) ?? []);
    }
  }
  return { requests: [...requests.values()].flat(), responses: [...responses.values()].flat() };
}

function groupBy<R extends { methodName: string | symbol }>(records: readonly R[]): Map<string | symbol, R[]> {
  const groups = new Map<string | symbol, R[]>();
  for (const record of records) {
    const group = groups.get(record.methodName);
    if (group === undefined) groups.set(record.methodName, [record]);
    else group.push(record);
  }
  return groups;
}

function chooseMainServlet(requested: string | undefined, declared: readonly string[], errors: string[]): string | undefined {
  const names = declared.map((name) => `'${name}'`).join(', ');
  if (requested !== undefined) {
    if (declared.includes(requested)) return requested;
    errors.push(`mainServlet '${requested}' is not a servlet of this app (servlets: ${names || 'none'}); name one of them.`);
    return undefined;
  }
  if (declared.length === 1) return declared[0];
  if (declared.length === 0) {
    errors.push(
      'The application has no servlet: decorate a SipServlet subclass, or a class with handler decorators, with @SipServlet() and export it from the entry module.',
    );
    return undefined;
  }
  errors.push(`The application has ${declared.length} servlets (${names}) and no mainServlet: set mainServlet in @SipApplication or siplet.json.`);
  return undefined;
}

function listenerModels(
  classes: Map<ServiceClass, string>,
  metadataOf: MetadataOf,
  descriptorListeners: readonly DescriptorListener[],
  errors: string[],
): ListenerModel[] {
  const declared = new Map<ServiceClass, readonly unknown[] | undefined>();
  for (const [ctor] of classes) {
    const options = metadataOf(ctor)?.listener;
    if (options !== undefined) declared.set(ctor, options.kinds);
  }
  descriptorListeners.forEach((entry, index) => {
    const ctor = classByExportName(classes, entry.className);
    if (ctor === undefined) {
      errors.push(
        `siplet.json listeners[${index}]: className '${entry.className}' is not exported by the entry module (its classes: ${exportNames(classes)}); export the class or fix the name.`,
      );
      return;
    }
    declared.set(ctor, entry.kinds ?? declared.get(ctor));
  });
  const models: ListenerModel[] = [];
  for (const [ctor, kinds] of declared) {
    const found = listenerKindsOf(ctor, kinds);
    if (found.ok) models.push({ ctor, kinds: found.kinds });
    else errors.push(...found.errors);
  }
  return models;
}

function applicationKeyOf(
  classes: Map<ServiceClass, string>,
  metadataOf: MetadataOf,
  errors: string[],
): ((request: SipServletRequest) => string | undefined) | undefined {
  const keys = [...classes.keys()].flatMap((ctor) => (metadataOf(ctor)?.applicationKeys ?? []).map((record) => ({ ctor, record })));
  if (keys.length > 1) {
    errors.push(
      `@SipApplicationKey is on ${keys.length} methods (${keys.map(({ ctor, record }) => `${ctor.name}.${String(record.methodName)}`).join(', ')}); an app has at most one: keep one.`,
    );
    return undefined;
  }
  const only = keys[0];
  if (only === undefined) return undefined;
  const { ctor, record } = only;
  if (!record.isStatic) {
    errors.push(`@SipApplicationKey is on instance method ${ctor.name}.${String(record.methodName)}; make it static (it runs before any instance exists).`);
    return undefined;
  }
  const method = (ctor as unknown as Record<string | symbol, unknown>)[record.methodName];
  if (typeof method !== 'function') {
    errors.push(`@SipApplicationKey: ${ctor.name}.${String(record.methodName)} is not a function.`);
    return undefined;
  }
  return (request) => method.call(ctor, request) as string | undefined;
}

/**
 * Security constraints from the descriptor (which replaces the decorator's list as a whole) or the
 * decorator, checked: decorator values from plain JavaScript get the descriptor's type checks here.
 */
function securityConstraintModels(
  constraints: readonly (SecurityConstraint & Pick<DescriptorSecurityConstraint, 'transportGuarantee'>)[],
  where: string,
  servlets: readonly string[],
  errors: string[],
): SecurityConstraintModel[] {
  if (!Array.isArray(constraints)) {
    errors.push(`${where} must be an array of { methods?, roles?, servletNames?, proxyAuthentication? }.`);
    return [];
  }
  const models: SecurityConstraintModel[] = [];
  constraints.forEach((c: unknown, index) => {
    const at = `${where}[${index}]`;
    if (typeof c !== 'object' || c === null || Array.isArray(c)) return void errors.push(`${at} must be an object { methods?, roles?, servletNames?, proxyAuthentication? }.`);
    const entry = c as Record<string, unknown>;
    for (const key of Object.keys(entry)) {
      if (!CONSTRAINT_FIELDS.includes(key)) errors.push(`${at}: unknown field "${key}"; the fields are ${CONSTRAINT_FIELDS.join(', ')}.`);
    }
    const strings = (field: string, what: string): string[] => {
      const value = entry[field];
      if (value === undefined) return [];
      if (Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '')) return value as string[];
      errors.push(`${at} "${field}" must be an array of ${what}, not ${JSON.stringify(value)}; leave it out to cover all.`);
      return [];
    };
    const servletNames = strings('servletNames', 'servlet names');
    for (const name of servletNames) {
      if (!servlets.includes(name)) {
        errors.push(`${at}: servlet '${name}' is not a servlet of this app (servlets: ${servlets.map((s) => `'${s}'`).join(', ') || 'none'}); fix the name.`);
      }
    }
    const methods = strings('methods', 'SIP methods such as "INVITE"').map((m) => m.toUpperCase());
    for (const method of methods) {
      if (!METHOD.test(method)) errors.push(`${at} "methods": ${JSON.stringify(method)} is not a SIP method; give names such as "INVITE" or "REGISTER".`);
      // RFC 3261 §22.1: neither can be resubmitted with credentials, so neither is ever challenged.
      else if (method === 'ACK' || method === 'CANCEL') errors.push(`${at} "methods" lists ${method}, which is never challenged (RFC 3261 §22.1): remove it (the ACK and CANCEL of a protected INVITE pass with it).`);
    }
    const roles = strings('roles', 'role names');
    if (entry['proxyAuthentication'] !== undefined && typeof entry['proxyAuthentication'] !== 'boolean') {
      errors.push(`${at} "proxyAuthentication" must be true (challenge with 407, as a proxy) or false (401), not ${JSON.stringify(entry['proxyAuthentication'])}.`);
    }
    if (entry['name'] !== undefined && typeof entry['name'] !== 'string') errors.push(`${at} "name" must be a string.`);
    const guarantee = entry['transportGuarantee'] ?? 'NONE';
    if (guarantee !== 'NONE' && guarantee !== 'INTEGRAL' && guarantee !== 'CONFIDENTIAL') {
      errors.push(`${at} "transportGuarantee" must be one of "NONE", "INTEGRAL", "CONFIDENTIAL".`);
    }
    models.push({
      name: typeof entry['name'] === 'string' ? entry['name'] : undefined,
      servletNames,
      methods,
      roles,
      proxyAuthentication: entry['proxyAuthentication'] === true,
      transportGuarantee: guarantee as SecurityConstraintModel['transportGuarantee'],
    });
  });
  return models;
}

/**
 * The app's HTTP router (converged apps): siplet.json `"http"` over `@SipApplication({ http })`,
 * field by field. What it names must be a function: a router factory or an express Router.
 */
function httpModel(
  moduleExports: Record<string, unknown>,
  fromDescriptor: DescriptorHttp | undefined,
  fromDecorator: SipApplicationOptions['http'],
  errors: string[],
): HttpModel | undefined {
  if (fromDescriptor === undefined && fromDecorator === undefined) return undefined;
  const where = fromDescriptor?.router !== undefined ? 'siplet.json "http.router"' : '@SipApplication http.router';
  const router: unknown = fromDescriptor?.router ?? fromDecorator?.router;
  if (typeof router !== 'string' || router.length === 0) {
    errors.push(`${where} must be the export name of the app's HTTP router factory, e.g. { router: 'http' }; it is ${JSON.stringify(router)}.`);
    return undefined;
  }
  const handler = Object.hasOwn(moduleExports, router) ? moduleExports[router] : undefined;
  if (handler === undefined) {
    errors.push(`${where} names '${router}', which the entry module does not export (its exports: ${Object.keys(moduleExports).join(', ') || 'none'}); export the router or fix the name.`);
    return undefined;
  }
  if (typeof handler !== 'function') {
    errors.push(`${where} names '${router}', which is a ${handler === null ? 'null' : typeof handler}: export a function (ctx) => Router, or an express Router.`);
    return undefined;
  }
  return { router, handler: handler as HttpModel['handler'] };
}

function classByExportName(classes: Map<ServiceClass, string>, exportName: string): ServiceClass | undefined {
  for (const [ctor, name] of classes) if (name === exportName || (exportName === ctor.name && name === 'default')) return ctor;
  return undefined;
}

function exportNames(classes: Map<ServiceClass, string>): string {
  return [...classes.values()].join(', ') || 'none';
}

/** Init parameters from one source, checked: strings only. */
function params(value: unknown, where: string, errors: string[]): Record<string, string> {
  const checked: Record<string, string> = {};
  if (value === undefined) return checked;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(`${where} must be an object of string values.`);
    return checked;
  }
  for (const [key, param] of Object.entries(value)) {
    if (typeof param !== 'string') errors.push(`${where}: "${key}" is ${JSON.stringify(param)}; init parameters are strings: quote it.`);
    else checked[key] = param;
  }
  return checked;
}
