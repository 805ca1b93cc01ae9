/** The three base values every transaction timer is derived from (RFC 3261 §17.1.1.1, table 4), in ms. */
export interface TimerBase {
  /** RTT estimate. Default 500 ms. */
  t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses. Default 4 s. */
  t2: number;
  /** Maximum time a message stays in the network. Default 5 s. */
  t4: number;
}

export const DEFAULT_TIMER_BASE: Readonly<TimerBase> = Object.freeze({ t1: 500, t2: 4000, t4: 5000 });

/**
 * Every transaction timer for one kind of transport, in ms, named as RFC 3261 §17 (table 4) and
 * RFC 6026 §8.11 name them. Retransmission timers (A, E, G) hold their initial interval and are 0
 * on reliable transports, where nothing is retransmitted; so are the absorb timers D, I, J and K.
 */
export interface TransactionTimers {
  readonly reliable: boolean;
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  /** INVITE request retransmit interval, initially T1, doubling without cap (§17.1.1.2). */
  readonly A: number;
  /** INVITE transaction timeout: 64*T1 (§17.1.1.2). */
  readonly B: number;
  /** Wait time for response retransmits: at least 32 s unreliable, 0 reliable (§17.1.1.2). */
  readonly D: number;
  /** Non-INVITE request retransmit interval, initially T1, doubling up to T2 (§17.1.2.2). */
  readonly E: number;
  /** Non-INVITE transaction timeout: 64*T1 (§17.1.2.2). */
  readonly F: number;
  /** INVITE non-2xx response retransmit interval, initially T1, doubling up to T2 (§17.2.1). */
  readonly G: number;
  /** Wait time for ACK receipt: 64*T1 (§17.2.1). */
  readonly H: number;
  /** Wait time for ACK retransmits: T4 unreliable, 0 reliable (§17.2.1). */
  readonly I: number;
  /** Wait time for non-INVITE request retransmits: 64*T1 unreliable, 0 reliable (§17.2.2). */
  readonly J: number;
  /** Wait time for non-INVITE response retransmits: T4 unreliable, 0 reliable (§17.1.2.2). */
  readonly K: number;
  /** Wait time for INVITE request retransmits after a 2xx: 64*T1 (RFC 6026 §8.11). */
  readonly L: number;
  /** Wait time for 2xx retransmissions in the client's Accepted state: 64*T1 (RFC 6026 §8.11). */
  readonly M: number;
  /** The TU has this long to answer an INVITE before the transaction sends 100 Trying (§17.2.1). */
  readonly trying: number;
  /**
   * RFC 4320 §4.1: a 100 to a non-INVITE request may go over an unreliable transport only once this
   * much time has passed since the request arrived: the time the client's Timer E takes to reach T2.
   */
  readonly nonInvite100: number;
}

/**
 * The one place transaction timers are computed. Throws a RangeError naming the setting when a base
 * value is not a positive number or T2 is below T1, so a bad configuration fails at start-up.
 *
 * @example
 * const udp = deriveTimers({ t1: 500 }, false); // udp.B === 32000, udp.K === 5000
 * const tcp = deriveTimers({ t1: 500 }, true);  // tcp.A === 0, tcp.K === 0
 */
export function deriveTimers(base: Partial<TimerBase>, reliable: boolean): TransactionTimers {
  const t1 = base.t1 ?? DEFAULT_TIMER_BASE.t1;
  const t2 = base.t2 ?? DEFAULT_TIMER_BASE.t2;
  const t4 = base.t4 ?? DEFAULT_TIMER_BASE.t4;
  for (const [name, value] of [['t1', t1], ['t2', t2], ['t4', t4]] as const) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`Transaction timer ${name} must be a positive number of milliseconds, got ${value}.`);
    }
  }
  if (t2 < t1) throw new RangeError(`Transaction timer t2 (${t2} ms) must not be below t1 (${t1} ms).`);
  const long = 64 * t1;
  let nonInvite100 = 0;
  for (let e = t1; e < t2; e *= 2) nonInvite100 += e;
  return Object.freeze({
    reliable,
    t1,
    t2,
    t4,
    A: reliable ? 0 : t1,
    B: long,
    // "at least 32 seconds": long enough to absorb every retransmission a server's Timer G sends.
    D: reliable ? 0 : Math.max(32_000, long),
    E: reliable ? 0 : t1,
    F: long,
    G: reliable ? 0 : t1,
    H: long,
    I: reliable ? 0 : t4,
    J: reliable ? 0 : long,
    K: reliable ? 0 : t4,
    L: long,
    M: long,
    trying: 200,
    nonInvite100,
  });
}

/** A started timer; `undefined` when none runs. */
export type TimerHandle = ReturnType<typeof setTimeout> | undefined;

/**
 * Starts a transaction timer; `fire` gets `args`, so one function per transaction can serve all its
 * timers. Unref'd: a pending transaction must not keep a closing process alive.
 */
export function startTimer<A extends unknown[]>(fire: (...args: A) => void, ms: number, ...args: A): TimerHandle {
  const handle = setTimeout(fire, ms, ...args);
  handle.unref?.();
  return handle;
}

/** Stops a timer started with {@link startTimer}; always returns `undefined` for reassignment. */
export function stopTimer(handle: TimerHandle): undefined {
  if (handle !== undefined) clearTimeout(handle);
  return undefined;
}
