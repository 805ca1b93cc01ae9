import { describe, expect, it } from 'vitest';
import { deriveTimers } from '../../../src/sip/transaction/index.js';

describe('deriveTimers', () => {
  it('derives RFC 3261 table 4 and RFC 6026 timers from the defaults for unreliable transports', () => {
    const t = deriveTimers({}, false);
    expect(t).toMatchObject({
      reliable: false,
      t1: 500,
      t2: 4000,
      t4: 5000,
      A: 500,
      B: 32000,
      D: 32000,
      E: 500,
      F: 32000,
      G: 500,
      H: 32000,
      I: 5000,
      J: 32000,
      K: 5000,
      L: 32000,
      M: 32000,
      trying: 200,
      nonInvite100: 3500,
    });
  });

  it('zeroes retransmission and absorb timers for reliable transports', () => {
    const t = deriveTimers({}, true);
    expect(t).toMatchObject({ A: 0, E: 0, G: 0, D: 0, I: 0, J: 0, K: 0, B: 32000, F: 32000, H: 32000, L: 32000, M: 32000 });
  });

  it('follows configured T1, T2 and T4', () => {
    const t = deriveTimers({ t1: 100, t2: 800, t4: 1000 }, false);
    expect(t).toMatchObject({ A: 100, B: 6400, E: 100, F: 6400, G: 100, H: 6400, I: 1000, J: 6400, K: 1000, L: 6400, M: 6400 });
    // Timer D stays at least 32 s (§17.1.1.2), and grows with T1 beyond that.
    expect(t.D).toBe(32000);
    expect(deriveTimers({ t1: 1000, t2: 4000 }, false).D).toBe(64000);
    // 100 + 200 + 400: Timer E reaches T2 = 800 after 700 ms.
    expect(t.nonInvite100).toBe(700);
  });

  it('refuses values that cannot work, naming the setting', () => {
    expect(() => deriveTimers({ t1: 0 }, false)).toThrow(/t1/);
    expect(() => deriveTimers({ t4: Number.NaN }, false)).toThrow(/t4/);
    expect(() => deriveTimers({ t1: 500, t2: 100 }, false)).toThrow(/t2/);
  });
});
