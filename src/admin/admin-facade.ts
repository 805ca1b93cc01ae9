/**
 * What the admin console and API may do to a running Siplet: the one door from the admin layer to
 * the rest of the server. The composition root (src/server.ts) implements it from the stack, the
 * deployer, the router and the data store; the admin layer sees only these plain data types, never
 * a container, a deployer or a store.
 *
 * Errors are `SipletError`s whose code says what happened (`SIPLET_DEPLOY_FAILED`,
 * `SIPLET_STORE_*`, `SIPLET_DAR_*`) and whose message says what to do; the admin layer turns them
 * into HTTP answers (`http-errors.ts`).
 */
export interface AdminFacade {
  /** Every deployed version: active ones first, then those draining. */
  listApps(): AppView[];
  /**
   * Deploys a `.sar` archive atomically (replacing the running version, which drains) and keeps it
   * in the apps folder so that it survives a restart. Rejects with `SIPLET_DEPLOY_FAILED` (and
   * `details.problem`) when the archive is refused: nothing changes then.
   */
  deployArchive(bytes: Buffer, options: { fileName: string }): Promise<AppView>;
  /**
   * Undeploys every version of an app: it takes no new initial request; live calls finish (or are
   * ended at once with `force`). `SIPLET_DEPLOY_FAILED` with `details.notFound` when none is deployed.
   */
  undeployApp(name: string, options: { force: boolean }): Promise<UndeployView>;

  /** The DAR file and the rules in force. `SIPLET_DAR_UNAVAILABLE` with a custom router. */
  getDar(): Promise<DarView>;
  /** Parses DAR text without applying it. */
  checkDar(text: string): DarCheck;
  /**
   * Validates, writes the DAR file (atomically) and applies it. `SIPLET_DAR_INVALID` with
   * `details.errors` (line numbers) when it does not parse: the file and the rules stay as they were.
   */
  putDar(text: string): Promise<DarView>;

  /** Counters of every layer (see `StatsView`). */
  stats(): Promise<StatsView>;

  /** Current registrations grouped by address of record; of one AOR when given. */
  listRegistrations(options: { aor?: string }): Promise<RegistrationView[]>;
  /** Removes every contact of an AOR, or one (`contact`: its URI as listed); resolves with how many. */
  removeRegistrations(options: { aor: string; contact?: string }): Promise<number>;

  listRealms(): Promise<RealmView[]>;
  addRealm(realm: string): Promise<string>;
  /** Removes a realm and its users; resolves with how many users went with it. */
  removeRealm(realm: string): Promise<number>;
  listUsers(options: { realm?: string }): Promise<UserView[]>;
  addUser(options: { user: string; realm: string; password: string; roles?: readonly string[] }): Promise<UserView>;
  removeUser(options: { user: string; realm: string }): Promise<void>;
  setUserPassword(options: { user: string; realm: string; password: string }): Promise<void>;

  /** Checks an admin account's password (slow on purpose: rate-limit and cache around it). */
  verifyAdmin(username: string, password: string): Promise<boolean>;
  /** Sets an admin account's password (creating the account). */
  setAdminPassword(username: string, password: string): Promise<void>;
}

export interface AppView {
  readonly name: string;
  readonly version: string | undefined;
  /** `active` takes new calls; `draining` serves only the calls it had (undeployed or replaced). */
  readonly state: 'active' | 'draining';
  readonly servlets: readonly string[];
  readonly mainServlet: string;
  readonly description: string | undefined;
  /** Live application sessions (calls and other service instances). */
  readonly sessions: number;
  /** ISO 8601. */
  readonly deployedAt: string;
  /** `archive`, `upload`, `folder` or `module`. */
  readonly source: string;
}

export interface UndeployView {
  readonly name: string;
  /** `draining` while live calls finish; `undeployed` once nothing is left (at once when forced). */
  readonly state: 'draining' | 'undeployed';
  readonly draining: readonly AppView[];
}

export interface DarRuleView {
  readonly applicationName: string;
  /** `DAR:From` (a header) or a literal URI; undefined when none. */
  readonly subscriber: string | undefined;
  readonly routingRegion: string;
  readonly route: string | undefined;
  readonly routeModifier: string;
  readonly order: number;
  readonly direction: string | undefined;
  /** `To:sip:hello@` patterns of the options field. */
  readonly patterns: readonly string[];
  readonly line: number;
}

export interface DarView {
  /** The file the rules are read from and written to. */
  readonly path: string;
  /** Its text ('' when it does not exist). */
  readonly text: string;
  /** The rules in force, by method (or `ALL`), each in invocation order. */
  readonly rules: readonly { readonly method: string; readonly applications: readonly DarRuleView[] }[];
}

export interface DarErrorView {
  readonly line: number;
  readonly problem: string;
  readonly message: string;
}

export type DarCheck = { readonly ok: true; readonly methods: readonly string[] } | { readonly ok: false; readonly errors: readonly DarErrorView[] };

export interface ContactView {
  /** The contact URI: with the AOR, the binding's key. */
  readonly uri: string;
  /** The whole Contact value with its parameters. */
  readonly contact: string;
  /** ISO 8601. */
  readonly expires: string;
  /** Seconds left. */
  readonly expiresIn: number;
  readonly q: number;
  readonly callId: string;
  readonly cseq: number;
  readonly path: readonly string[];
  readonly instance: string | undefined;
  readonly regId: number | undefined;
  /** `udp:192.0.2.1:5060`, where the REGISTER came from. */
  readonly source: string | undefined;
  /** ISO 8601. */
  readonly updatedAt: string;
}

export interface RegistrationView {
  readonly aor: string;
  readonly contacts: readonly ContactView[];
}

export interface RealmView {
  readonly realm: string;
  readonly users: number;
}

export interface UserView {
  readonly username: string;
  readonly realm: string;
  readonly roles: readonly string[];
}

/**
 * Counters grouped as Kamailio groups its statistics (core, tm, sl/dialog, usrloc): messages by
 * method and status, transactions, dialogs and sessions, registrations, applications; plus every
 * layer's raw counters under `layers`.
 */
export interface StatsView {
  readonly uptimeSeconds: number;
  readonly messages: {
    readonly requestsIn: number;
    readonly requestsInByMethod: Readonly<Record<string, number>>;
    readonly responsesIn: number;
    readonly responsesInByStatus: Readonly<Record<string, number>>;
    readonly requestsOut: number;
    readonly requestsOutByMethod: Readonly<Record<string, number>>;
    readonly responsesOut: number;
    readonly responsesOutByStatus: Readonly<Record<string, number>>;
    /** Malformed requests answered statelessly, and messages dropped unanswered. */
    readonly malformedAnswered: number;
    readonly dropped: number;
  };
  readonly transactions: {
    readonly live: number;
    readonly created: number;
    readonly retransmissions: number;
    readonly timeouts: number;
    readonly transportErrors: number;
  };
  readonly dialogs: { readonly live: number };
  readonly sessions: {
    readonly applicationSessions: number;
    readonly sipSessions: number;
    readonly applicationSessionsCreated: number;
    readonly sipSessionsCreated: number;
  };
  readonly registrations: { readonly aors: number; readonly contacts: number };
  readonly applications: { readonly active: number; readonly draining: number };
  readonly layers: Readonly<Record<string, unknown>>;
}
