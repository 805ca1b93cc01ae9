/**
 * The error catalog: every error Siplet raises on purpose has a stable code listed here, a default
 * message that says what to do, and the SIP status to answer with when it reaches a request.
 * docs/errors.md lists the same table; a unit test keeps the two in step.
 *
 * To add an error: add an entry here (`SIPLET_<AREA>_<WHAT>`), add its row to docs/errors.md.
 * Never rename or reuse a code: operators grep logs and scripts switch on them.
 */
export const ERROR_CATALOG = {
  SIPLET_CONFIG_INVALID: {
    message: 'A setting has an invalid value. Fix the flag, SIPLET_* variable or config-file key named above.',
  },
  SIPLET_CONFIG_UNKNOWN_SETTING: {
    message: 'Unknown flag or config-file key. Run "siplet start --help" for the list of settings.',
  },
  SIPLET_CONFIG_FILE_UNREADABLE: {
    message: 'The config file cannot be read or is not a JSON object. Check the path given by --config or SIPLET_CONFIG.',
  },
  SIPLET_CLI_USAGE: {
    message: 'Unknown command or argument. Run "siplet --help".',
  },
  SIPLET_LISTEN_FAILED: {
    message: 'A listener could not bind its address. Free the port or choose another with --sip-port / --http-port.',
  },
  SIPLET_DEPLOY_FAILED: {
    message: 'An application could not be deployed or undeployed. The message names the folder or archive and what to fix; the running version is untouched.',
  },
  SIPLET_STORE_OPEN_FAILED: {
    message: 'The data store could not be opened. Check that --data / SIPLET_DATA names a writable directory and that its siplet.db is not from a newer Siplet.',
  },
  SIPLET_STORE_INVALID_INPUT: {
    message: 'A value given to the data store is not valid (an empty password, a malformed realm, user name or address of record). The message names it.',
  },
  SIPLET_STORE_UNKNOWN_REALM: {
    message: 'No such realm. Add it first: siplet realms add <realm>.',
  },
  SIPLET_STORE_DUPLICATE_REALM: {
    message: 'That realm exists already.',
  },
  SIPLET_STORE_UNKNOWN_USER: {
    message: 'No such user in that realm. List them: siplet users list <realm>.',
  },
  SIPLET_STORE_DUPLICATE_USER: {
    message: 'That user exists already in the realm. Change the password with siplet users passwd <user@realm>, or remove the user first.',
  },
  SIPLET_PACK_FAILED: {
    message: 'siplet pack could not build the archive. The message names the app folder and what to fix (siplet.json, the entry module, TypeScript errors).',
  },
  SIPLET_ADMIN_REQUEST_FAILED: {
    message: 'The admin API refused the request or could not be reached. Check --url, the server, and SIPLET_ADMIN_USER / SIPLET_ADMIN_PASSWORD.',
  },
  SIPLET_ADMIN_UNAUTHORIZED: {
    message: 'The admin console and API need an admin login. Sign in at /admin, or send HTTP Basic credentials of an admin account (SIPLET_ADMIN_USER / SIPLET_ADMIN_PASSWORD).',
  },
  SIPLET_ADMIN_FORBIDDEN: {
    message: 'The admin console refused this request: it answers loopback addresses only (allow other networks with --admin-allow) and same-origin requests only.',
  },
  SIPLET_ADMIN_CSRF_REJECTED: {
    message: 'A change made with a console session must carry the session\'s CSRF token in the X-CSRF-Token header. Reload the console and try again.',
  },
  SIPLET_ADMIN_RATE_LIMITED: {
    message: 'Too many failed admin logins from this address. Wait for the time Retry-After gives, then sign in with the right password.',
  },
  SIPLET_ADMIN_BAD_REQUEST: {
    message: 'The admin API request is malformed (a missing field, a wrong type, a body too large). The message names what to fix.',
  },
  SIPLET_ADMIN_NOT_FOUND: {
    message: 'No such admin API route. The routes are listed in the README (Admin console).',
  },
  SIPLET_DAR_INVALID: {
    message: 'The DAR text was refused: the errors name each bad line. The rules in force are unchanged.',
  },
  SIPLET_DAR_UNAVAILABLE: {
    message: 'A custom application router (--router) is configured, so there is no DAR to show or edit.',
  },
  SIPLET_NOT_AVAILABLE: {
    message: 'This feature is not available in this version of Siplet.',
    sipStatus: 501,
  },
  SIPLET_INTERNAL: {
    message: 'An unexpected error inside Siplet. Report it with the log lines around it.',
    sipStatus: 500,
  },
} as const satisfies Record<string, CatalogEntry>;

export interface CatalogEntry {
  /** The default message: what went wrong and what to do about it. */
  readonly message: string;
  /** The SIP status to answer a request with when this error reaches the dispatcher. */
  readonly sipStatus?: number;
}

export type SipletErrorCode = keyof typeof ERROR_CATALOG;

export interface SipletErrorOptions {
  /** Overrides the catalog's status for this instance (e.g. 503 with Retry-After upstream). */
  sipStatus?: number;
  /** The underlying error (system error, parse failure). */
  cause?: unknown;
  /** Structured facts for logs: the setting, the offending value, every problem found. */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * An error with a stable `code` from the catalog. `message` says what to do; `sipStatus`, when
 * present, is what the dispatcher answers with (otherwise 500).
 *
 * @example
 * throw new SipletError('SIPLET_CONFIG_INVALID', 'Invalid --sip-port "abc": expected an integer 1-65535.');
 */
export class SipletError extends Error {
  readonly code: SipletErrorCode;
  readonly sipStatus: number | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: SipletErrorCode, message?: string, options: SipletErrorOptions = {}) {
    const entry: CatalogEntry = ERROR_CATALOG[code];
    super(message ?? entry.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SipletError';
    this.code = code;
    this.sipStatus = options.sipStatus ?? entry.sipStatus;
    this.details = options.details;
  }

  static is(value: unknown, code?: SipletErrorCode): value is SipletError {
    return value instanceof SipletError && (code === undefined || value.code === code);
  }
}
