import type {
  ListenerKind,
  SipApplicationSessionAttributeListener,
  SipApplicationSessionListener,
  SipErrorListener,
  SipServletListener,
  SipSessionAttributeListener,
  SipSessionListener,
  TimerListener,
} from '../../api/index.js';

/** The listener interface each `ListenerKind` names. */
export interface ListenerKindMap {
  servlet: SipServletListener;
  applicationSession: SipApplicationSessionListener;
  session: SipSessionListener;
  applicationSessionAttribute: SipApplicationSessionAttributeListener;
  sessionAttribute: SipSessionAttributeListener;
  error: SipErrorListener;
  timer: TimerListener;
}

/** The methods of each listener interface of `src/api/listeners.ts`: how a listener's kinds are found. */
export const LISTENER_METHODS: Readonly<Record<ListenerKind, readonly string[]>> = {
  servlet: ['servletInitialized'],
  applicationSession: ['sessionCreated', 'sessionDestroyed', 'sessionExpired', 'sessionReadyToInvalidate'],
  session: ['sessionCreated', 'sessionDestroyed', 'sessionReadyToInvalidate'],
  applicationSessionAttribute: ['attributeAdded', 'attributeRemoved', 'attributeReplaced'],
  sessionAttribute: ['attributeAdded', 'attributeRemoved', 'attributeReplaced'],
  error: ['noAckReceived', 'noPrackReceived'],
  timer: ['timeout'],
};

export const LISTENER_KINDS = Object.keys(LISTENER_METHODS) as ListenerKind[];

const INTERFACE_NAMES: Readonly<Record<ListenerKind, string>> = {
  servlet: 'SipServletListener',
  applicationSession: 'SipApplicationSessionListener',
  session: 'SipSessionListener',
  applicationSessionAttribute: 'SipApplicationSessionAttributeListener',
  sessionAttribute: 'SipSessionAttributeListener',
  error: 'SipErrorListener',
  timer: 'TimerListener',
};

/**
 * The listener kinds of a class: `declared` when given (checked against its methods), otherwise
 * found from its method names, own and inherited. A method name two interfaces share
 * (`sessionCreated`, `attributeAdded` …) cannot be attributed without `declared`.
 */
export function listenerKindsOf(
  ctor: { readonly name: string; readonly prototype: unknown },
  declared: readonly unknown[] | undefined,
): { ok: true; kinds: ListenerKind[] } | { ok: false; errors: string[] } {
  const methods = methodNames(ctor.prototype);
  const label = `Listener ${ctor.name}`;
  if (declared !== undefined) {
    const errors: string[] = [];
    const kinds: ListenerKind[] = [];
    for (const kind of declared) {
      if (typeof kind !== 'string' || !(kind in LISTENER_METHODS)) {
        errors.push(`${label}: unknown listener kind ${JSON.stringify(kind)}; use one of ${LISTENER_KINDS.map((k) => `'${k}'`).join(', ')}.`);
        continue;
      }
      const listenerKind = kind as ListenerKind;
      if (!LISTENER_METHODS[listenerKind].some((name) => methods.has(name))) {
        errors.push(
          `${label} declares kind '${listenerKind}' but has none of the ${INTERFACE_NAMES[listenerKind]} methods ` +
            `(${LISTENER_METHODS[listenerKind].join(', ')}); add one or remove the kind.`,
        );
        continue;
      }
      if (!kinds.includes(listenerKind)) kinds.push(listenerKind);
    }
    return errors.length > 0 ? { ok: false, errors } : { ok: true, kinds };
  }

  const kinds = LISTENER_KINDS.filter((kind) => LISTENER_METHODS[kind].some((name) => methods.has(name)));
  if (kinds.length === 0) {
    return {
      ok: false,
      errors: [`${label} has no listener method (such as sessionCreated, timeout, servletInitialized); implement one of the interfaces of listeners.ts or remove @SipListener.`],
    };
  }
  const errors: string[] = [];
  for (const [a, b] of [
    ['applicationSession', 'session'],
    ['applicationSessionAttribute', 'sessionAttribute'],
  ] as const) {
    const shared = LISTENER_METHODS[b].filter((name) => methods.has(name) && LISTENER_METHODS[a].includes(name));
    if (shared.length > 0) {
      errors.push(
        `${label} has ${shared.join(', ')}, which both ${INTERFACE_NAMES[a]} and ${INTERFACE_NAMES[b]} declare: ` +
          `say which it implements with @SipListener({ kinds: ['${a}'] }), ['${b}'] or both (or "kinds" in siplet.json).`,
      );
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, kinds };
}

function methodNames(prototype: unknown): Set<string> {
  const names = new Set<string>();
  for (let proto = prototype; proto !== null && proto !== Object.prototype && typeof proto === 'object'; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor') continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (typeof descriptor?.value === 'function') names.add(name);
    }
  }
  return names;
}
