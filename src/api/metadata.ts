import type {
  ResponseFilter,
  SipApplicationOptions,
  SipListenerOptions,
  SipServletOptions,
} from './decorators.js';

/**
 * The metadata store the decorators of `decorators.ts` write into, keyed by class.
 *
 * Decorators only record here (STYLE habit 8): deployment (`src/container/model`) reads the store,
 * merges it with the app's descriptor into one application model, and validates it. Nothing else
 * reads it, and nothing here checks what was recorded.
 *
 * Hazard: the store lives in this module. An app that bundles its own copy of Siplet records into a
 * store the container never sees; apps must import the API the server provides (`siplet/sdk`).
 */

/** The request-method part of a JSR 359 request decorator: a SIP method, or `'*'` for `@AnyMethod()`. */
export type RequestHandlerMethod = string;

/** Which responses a JSR 359 response decorator takes, before its filter narrows it. */
export type ResponseHandlerKind = 'provisional' | 'success' | 'redirect' | 'error' | 'branch' | 'any';

export interface RequestHandlerRecord {
  /** The decorated method's name on the class. */
  readonly methodName: string | symbol;
  /** `'INVITE'`, `'BYE'` … or `'*'` (`@AnyMethod()`). */
  readonly sipMethod: RequestHandlerMethod;
  /** The decorator as written, for error messages (`@Invite()`). */
  readonly decorator: string;
  /** True when put on a static method (a deployment error: handlers are instance methods). */
  readonly isStatic: boolean;
}

export interface ResponseHandlerRecord {
  readonly methodName: string | symbol;
  readonly kind: ResponseHandlerKind;
  readonly filter: Readonly<ResponseFilter>;
  readonly decorator: string;
  readonly isStatic: boolean;
}

export interface ApplicationKeyRecord {
  readonly methodName: string | symbol;
  readonly isStatic: boolean;
}

/** Everything the decorators recorded about one class (not its base classes). */
export interface SipClassMetadata {
  readonly application: Readonly<SipApplicationOptions> | undefined;
  readonly servlet: Readonly<SipServletOptions> | undefined;
  readonly listener: Readonly<SipListenerOptions> | undefined;
  readonly applicationKeys: readonly ApplicationKeyRecord[];
  readonly requestHandlers: readonly RequestHandlerRecord[];
  readonly responseHandlers: readonly ResponseHandlerRecord[];
  /** Class decorators applied more than once to this class (`'@SipApplication'` …): a deployment error. */
  readonly repeated: readonly string[];
}

interface MutableMetadata {
  application: SipApplicationOptions | undefined;
  servlet: SipServletOptions | undefined;
  listener: SipListenerOptions | undefined;
  applicationKeys: ApplicationKeyRecord[];
  requestHandlers: RequestHandlerRecord[];
  responseHandlers: ResponseHandlerRecord[];
  repeated: string[];
}

const store = new WeakMap<object, MutableMetadata>();

function entry(ctor: object): MutableMetadata {
  let metadata = store.get(ctor);
  if (metadata === undefined) {
    metadata = {
      application: undefined,
      servlet: undefined,
      listener: undefined,
      applicationKeys: [],
      requestHandlers: [],
      responseHandlers: [],
      repeated: [],
    };
    store.set(ctor, metadata);
  }
  return metadata;
}

/**
 * What the decorators recorded on `ctor` itself (base classes have their own entries), or
 * `undefined` for a class no Siplet decorator touched.
 */
export function getSipMetadata(ctor: object): SipClassMetadata | undefined {
  return store.get(ctor);
}

/** @internal Used by the decorators only. */
export function recordClass(
  ctor: object,
  what: 'application' | 'servlet' | 'listener',
  options: SipApplicationOptions | SipServletOptions | SipListenerOptions,
): void {
  const metadata = entry(ctor);
  const names = { application: '@SipApplication', servlet: '@Servlet', listener: '@SipListener' } as const;
  if (metadata[what] !== undefined) metadata.repeated.push(names[what]);
  switch (what) {
    case 'application':
      metadata.application = options as SipApplicationOptions;
      break;
    case 'servlet':
      metadata.servlet = options as SipServletOptions;
      break;
    case 'listener':
      metadata.listener = options as SipListenerOptions;
      break;
  }
}

/** @internal Used by the decorators only. `target` is the prototype (instance method) or the class (static). */
export function recordApplicationKey(target: object, methodName: string | symbol): void {
  const isStatic = typeof target === 'function';
  entry(isStatic ? target : target.constructor).applicationKeys.push({ methodName, isStatic });
}

/** @internal Used by the decorators only. */
export function recordRequestHandler(
  target: object,
  methodName: string | symbol,
  sipMethod: RequestHandlerMethod,
  decorator: string,
): void {
  const isStatic = typeof target === 'function';
  entry(isStatic ? target : target.constructor).requestHandlers.push({ methodName, sipMethod, decorator, isStatic });
}

/** @internal Used by the decorators only. */
export function recordResponseHandler(
  target: object,
  methodName: string | symbol,
  kind: ResponseHandlerKind,
  filter: ResponseFilter,
  decorator: string,
): void {
  const isStatic = typeof target === 'function';
  entry(isStatic ? target : target.constructor).responseHandlers.push({
    methodName,
    kind,
    filter: { ...filter },
    decorator,
    isStatic,
  });
}
