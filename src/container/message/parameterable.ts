import type { Parameterable } from '../../api/index.js';
import { Parameters, parseParams } from '../../sip/message/index.js';

/** A header value with `;parameters` (JSR 289 Parameterable), e.g. `application/sdp;level=1`. */
export class ParameterableValue implements Parameterable {
  value: string;
  readonly params: Parameters;

  constructor(value: string, params = new Parameters()) {
    this.value = value;
    this.params = params;
  }

  /** Parses `value;a=b;c`; the value is everything before the first `;` outside quotes. */
  static parse(text: string): ParameterableValue | undefined {
    let i = 0;
    let quoted = false;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 34) quoted = !quoted;
      else if (c === 59 && !quoted) break;
    }
    const params = new Parameters();
    if (i < text.length && parseParams(text, i, params) < 0) return undefined;
    return new ParameterableValue(text.slice(0, i).trim(), params);
  }

  toString(): string {
    return this.value + this.params.toString();
  }
}
