/** The methods Siplet's container dispatches (JSR 289 doXxx handlers), in Allow order. */
export const KNOWN_METHODS = [
  'INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'SUBSCRIBE', 'NOTIFY', 'MESSAGE', 'INFO',
  'REFER', 'PUBLISH', 'UPDATE', 'PRACK',
] as const;

export type KnownMethod = (typeof KNOWN_METHODS)[number];

const KNOWN = new Set<string>(KNOWN_METHODS);

export function isKnownMethod(method: string): method is KnownMethod {
  return KNOWN.has(method);
}

/** Option tags (RFC 3261 §19.2) the stack itself supports. */
export const SUPPORTED_OPTION_TAGS: ReadonlySet<string> = new Set(['path', 'outbound', '100rel', 'timer', 'replaces']);
