import type { IssueCode, TransportStats } from './transport.js';

/** The counters every transport keeps; `snapshot()` gives the plain object `stats()` returns. */
export class TransportCounters {
  packetsIn = 0;
  bytesIn = 0;
  packetsOut = 0;
  bytesOut = 0;
  sendErrors = 0;
  #dropped: Partial<Record<IssueCode, number>> = {};

  received(bytes: number): void {
    this.packetsIn++;
    this.bytesIn += bytes;
  }

  sent(bytes: number): void {
    this.packetsOut++;
    this.bytesOut += bytes;
  }

  drop(code: IssueCode): void {
    this.#dropped[code] = (this.#dropped[code] ?? 0) + 1;
  }

  snapshot(): TransportStats {
    return {
      packetsIn: this.packetsIn,
      bytesIn: this.bytesIn,
      packetsOut: this.packetsOut,
      bytesOut: this.bytesOut,
      sendErrors: this.sendErrors,
      dropped: { ...this.#dropped },
    };
  }
}
