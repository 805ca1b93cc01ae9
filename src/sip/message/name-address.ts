import { NO_PARAMS, Parameters, copyParams, parseParams, quote, scanQuoted, scanToken, skipWs, unquote } from './scanner.js';
import { AbsoluteUri, parseUri, type Uri } from './uri.js';

/**
 * A name-addr or addr-spec with header parameters (RFC 3261 §20.10, §20.20,
 * §20.39 …): the value of From, To, Contact, Route, Record-Route, Path.
 */
export class NameAddress {
  displayName: string | undefined;
  uri: Uri;
  // NO_PARAMS until `params` is first read: a To without a tag, a Contact, a Route carry none
  #params: Parameters;
  /** `Contact: *` (RFC 3261 §10.2.2). */
  readonly wildcard: boolean;

  constructor(uri: Uri, init: { displayName?: string; params?: Parameters; wildcard?: boolean } = {}) {
    this.uri = uri;
    this.displayName = init.displayName;
    this.#params = init.params ?? NO_PARAMS;
    this.wildcard = init.wildcard ?? false;
  }

  /** The header parameters (`;tag=1928301774;expires=60`), to read or change in place. */
  get params(): Parameters {
    let p = this.#params;
    if (p === NO_PARAMS) p = this.#params = new Parameters();
    return p;
  }

  get tag(): string | undefined {
    return this.#params.get('tag') ?? undefined;
  }

  set tag(value: string | undefined) {
    if (value === undefined) this.params.delete('tag');
    else this.params.set('tag', value);
  }

  clone(): NameAddress {
    return new NameAddress(this.uri.clone(), {
      displayName: this.displayName,
      params: copyParams(this.#params),
      wildcard: this.wildcard,
    });
  }

  /** Always the name-addr form (`"Name" <uri>;params`), which is safe for any URI. */
  toString(): string {
    if (this.wildcard) return '*' + this.#params.toString();
    let s = '';
    if (this.displayName !== undefined && this.displayName.length > 0) s = quote(this.displayName) + ' ';
    return s + '<' + this.uri.toString() + '>' + this.#params.toString();
  }
}

/**
 * Parses one name-addr / addr-spec with parameters, or the range
 * `text[start, end)` of a longer text as if it had been sliced out. Returns
 * `undefined` when malformed (unbalanced quote, unquoted non-token display
 * name, `?` or `,` in a bare addr-spec, bad URI, bad parameter).
 */
export function parseNameAddress(text: string, allowWildcard = false, start = 0, end = text.length): NameAddress | undefined {
  const s = text;
  let i = skipWs(s, start, end);
  if (i >= end) return undefined;
  if (allowWildcard && s.charCodeAt(i) === 42) {
    const params = new Parameters();
    if (parseParams(s, i + 1, params, end) !== end) return undefined;
    return new NameAddress(new AbsoluteUri('*', '*'), { wildcard: true, params });
  }
  let displayName: string | undefined;
  let uriStart: number;
  let uriEnd: number;
  const c = s.charCodeAt(i);
  if (c === 34) {
    const close = scanQuoted(s, i, end);
    if (close < 0) return undefined;
    displayName = unquote(s.slice(i, close));
    i = skipWs(s, close, end);
    if (i >= end || s.charCodeAt(i) !== 60) return undefined;
  } else if (c !== 60) {
    // native searches may look past `end` (a range of a longer text): a hit there counts as none
    const lt = s.indexOf('<', i + 1);
    if (lt >= 0 && lt < end) {
      // display-name = *(token LWS): every word must be a token (RFC 3261 §25.1)
      let j = i;
      while (j < lt) {
        const e = scanToken(s, j, end);
        if (e === j) return undefined;
        j = skipWs(s, e, end);
      }
      displayName = s.slice(i, lt).trim();
      i = lt;
    }
  }
  if (i < end && s.charCodeAt(i) === 60) {
    const gt = s.indexOf('>', i + 1);
    if (gt < 0 || gt >= end) return undefined;
    uriStart = i + 1;
    uriEnd = gt;
    i = gt + 1;
  } else {
    // addr-spec: the URI ends at the first ';' (later ones are header params),
    // and may carry neither '?' nor ',' (RFC 3261 §20).
    let j = i;
    while (j < end) {
      const ch = s.charCodeAt(j);
      if (ch === 59 || ch === 32 || ch === 9) break;
      if (ch === 63 || ch === 44) return undefined;
      j++;
    }
    uriStart = i;
    uriEnd = j;
    i = j;
  }
  const uri = parseUri(s, uriStart, uriEnd);
  if (uri === undefined) return undefined;
  const params = new Parameters();
  const stop = parseParams(s, i, params, end);
  if (stop !== end) {
    if (stop < 0 || skipWs(s, stop, end) !== end) return undefined;
  }
  const na = new NameAddress(uri, { params: params.size > 0 ? params : undefined });
  if (displayName !== undefined) na.displayName = displayName;
  return na;
}
