import { ROUTE_MODIFIERS, ROUTING_REGIONS } from '../application-router.js';
import type { RouteModifier, RoutingRegion } from '../application-router.js';

/**
 * One application in a method's chain: a tuple of the DAR file (JSR 289 Appendix C), parsed.
 * docs/dar.md describes the format.
 */
export interface DarRule {
  readonly applicationName: string;
  /** Where the subscriber URI comes from: a header of the request, a literal URI, or nowhere. */
  readonly subscriber: DarSubscriber | undefined;
  readonly routingRegion: RoutingRegion;
  /** A SIP URI, or undefined for `""`. */
  readonly route: string | undefined;
  readonly routeModifier: RouteModifier;
  /** The sixth field: the invocation order within the method's chain. */
  readonly order: number;
  readonly options: DarOptions;
  /** The 1-based line of the file the tuple starts on, for logs. */
  readonly line: number;
}

export type DarSubscriber = { readonly header: string } | { readonly uri: string };

/** The seventh field, parsed. An empty field gives `{ headerPatterns: [] }`. */
export interface DarOptions {
  /** `INBOUND`: only requests from the network; `OUTBOUND`: only requests created by applications. */
  readonly direction?: 'INBOUND' | 'OUTBOUND';
  /** Every pattern must match the first value of its header for the tuple to apply. */
  readonly headerPatterns: readonly DarHeaderPattern[];
}

export interface DarHeaderPattern {
  readonly header: string;
  readonly pattern: RegExp;
}

/** Method name (or `ALL`) → its chain, in invocation order. */
export type DarRules = ReadonlyMap<string, readonly DarRule[]>;

export interface DarParseError {
  /** 1-based physical line of the file. */
  readonly line: number;
  /** What is wrong, without the location. */
  readonly problem: string;
  /** `<source> line <n>: <problem>`, ready for a log. */
  readonly message: string;
}

export type DarParseResult = { ok: true; rules: DarRules } | { ok: false; errors: DarParseError[] };

export interface DarParseOptions {
  /** The name errors start with. Default: `'dar.properties'`. */
  source?: string;
}

/** The method key that applies to every method without a line of its own. */
export const DAR_ALL = 'ALL';

const MAX_ERRORS = 50;
const SUBSCRIBER_HEADER_PREFIX = 'DAR:';
// RFC 3261 §25.1 token.
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\S/;
const SIP_URI = /^sips?:\S+$/i;
const OPTION_SEPARATOR = /[\s,]+(?=[A-Za-z_][A-Za-z0-9_-]*=)/;
const FIELD_NAMES = ['application name', 'subscriber', 'routing region', 'route', 'route modifier', 'order', 'options'];

/**
 * Parses a DAR file in the Mobicents properties format
 * (`INVITE: ("app", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0"), …`).
 *
 * Never throws: a malformed file gives every problem found (at most one per line, at most 50),
 * each with its 1-based line number.
 */
export function parseDar(text: string, options: DarParseOptions = {}): DarParseResult {
  const source = options.source ?? 'dar.properties';
  const errors: DarParseError[] = [];
  const rules = new Map<string, readonly DarRule[]>();
  const firstLineOf = new Map<string, number>();

  for (const logical of logicalLines(text)) {
    if (errors.length >= MAX_ERRORS) break;
    const result = parseLine(logical, rules, firstLineOf);
    if (!result.ok) {
      errors.push({ line: result.line, problem: result.problem, message: `${source} line ${result.line}: ${result.problem}` });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, rules };
}

/** A line of the file after joining backslash continuations, with where each piece came from. */
interface LogicalLine {
  readonly text: string;
  /** `[offset in text, physical line]`, ascending by offset. */
  readonly pieces: readonly (readonly [number, number])[];
}

type LineResult = { ok: true } | { ok: false; line: number; problem: string };

class LineError {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {}
}

// Java Properties: `#` / `!` comments and blank lines are skipped; a line ending in an odd number
// of backslashes continues on the next, whose leading whitespace is dropped. Comments never continue.
function* logicalLines(text: string): Generator<LogicalLine> {
  const physical = (text.startsWith('\uFEFF') ? text.slice(1) : text).split(/\r\n|\r|\n/);
  let index = 0;
  while (index < physical.length) {
    const first = stripLeading(physical[index]!);
    const lineNumber = index + 1;
    index++;
    if (first.length === 0 || first[0] === '#' || first[0] === '!') continue;
    let content = first;
    const pieces: [number, number][] = [[0, lineNumber]];
    while (endsWithContinuation(content) && index < physical.length) {
      content = content.slice(0, -1);
      pieces.push([content.length, index + 1]);
      content += stripLeading(physical[index]!);
      index++;
    }
    if (endsWithContinuation(content)) content = content.slice(0, -1);
    yield { text: content, pieces };
  }
}

function stripLeading(line: string): string {
  return line.replace(/^[ \t\f]+/, '');
}

function endsWithContinuation(line: string): boolean {
  let backslashes = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}

function lineAt(logical: LogicalLine, offset: number): number {
  let line = logical.pieces[0]![1];
  for (const [start, physical] of logical.pieces) {
    if (start > offset) break;
    line = physical;
  }
  return line;
}

function parseLine(logical: LogicalLine, rules: Map<string, readonly DarRule[]>, firstLineOf: Map<string, number>): LineResult {
  try {
    const { text } = logical;
    const separator = text.search(/[:=]/);
    const paren = text.indexOf('(');
    if (paren > 0 && (separator < 0 || paren < separator) && TOKEN.test(text.slice(0, paren).trim())) {
      throw new LineError(paren, `expected ":" between the method name ${text.slice(0, paren).trim()} and its tuples`);
    }
    if (separator < 0) {
      throw new LineError(0, `expected "METHOD: (tuple), …" but found no ":" in "${clip(text)}"`);
    }
    const method = text.slice(0, separator).trim();
    checkMethodKey(method);
    const earlier = firstLineOf.get(method);
    if (earlier !== undefined) {
      throw new LineError(0, `method ${method} already has a line (line ${earlier}); put all its tuples on one line`);
    }
    const chain = parseTuples(logical, separator + 1);
    firstLineOf.set(method, lineAt(logical, 0));
    // Stable: tuples with the same order keep the order they are written in.
    const ordered = chain.map((rule, position) => ({ rule, position }));
    ordered.sort((a, b) => a.rule.order - b.rule.order || a.position - b.position);
    rules.set(method, Object.freeze(ordered.map(({ rule }) => rule)));
    return { ok: true };
  } catch (error) {
    if (error instanceof LineError) return { ok: false, line: lineAt(logical, error.offset), problem: error.problem };
    throw error;
  }
}

function checkMethodKey(method: string): void {
  if (method.length === 0) throw new LineError(0, 'missing method name before ":"; start the line with a SIP method such as INVITE, or ALL');
  if (!TOKEN.test(method)) {
    throw new LineError(0, `method key "${clip(method)}" is not a SIP method name; use a method such as INVITE, or ALL`);
  }
  if (method !== method.toUpperCase()) {
    throw new LineError(0, `method key "${method}" is not upper case; SIP method names are case-sensitive (RFC 3261 §7.1): write ${method.toUpperCase()}`);
  }
}

function parseTuples(logical: LogicalLine, start: number): DarRule[] {
  const text = logical.text;
  const chain: DarRule[] = [];
  let pos = skipSpace(text, start);
  if (pos >= text.length) return chain;
  for (;;) {
    if (text[pos] !== '(') throw new LineError(pos, `expected "(" to open a tuple, found ${found(text, pos)}`);
    const tupleStart = pos;
    const fields: { value: string; offset: number }[] = [];
    pos = skipSpace(text, pos + 1);
    if (text[pos] === ')') throw new LineError(pos, 'empty tuple "()"; a tuple has 6 or 7 quoted fields');
    for (;;) {
      if (text[pos] !== '"') {
        throw new LineError(pos, `expected a quoted field ("…") as field ${fields.length + 1} (${fieldName(fields.length)}), found ${found(text, pos)}`);
      }
      const quoted = readQuoted(text, pos);
      fields.push({ value: quoted.value.trim(), offset: pos });
      pos = skipSpace(text, quoted.end);
      if (text[pos] === ',') {
        pos = skipSpace(text, pos + 1);
        continue;
      }
      if (text[pos] === ')') break;
      throw new LineError(pos, `expected "," or ")" after field ${fields.length} (${fieldName(fields.length - 1)}), found ${found(text, pos)}`);
    }
    chain.push(toRule(logical, tupleStart, fields));
    pos = skipSpace(text, pos + 1);
    if (pos >= text.length) return chain;
    if (text[pos] !== ',') throw new LineError(pos, `expected "," between tuples or the end of the line, found ${found(text, pos)}`);
    pos = skipSpace(text, pos + 1);
    if (pos >= text.length) throw new LineError(pos, 'expected a tuple after the last ","; remove the trailing comma');
  }
}

// Inside quotes, \" is a quote and \\ a backslash; any other backslash stays, so a regex reads as
// written (\d, \.).
function readQuoted(text: string, open: number): { value: string; end: number } {
  let value = '';
  let pos = open + 1;
  while (pos < text.length) {
    const char = text[pos]!;
    if (char === '"') return { value, end: pos + 1 };
    if (char === '\\' && (text[pos + 1] === '"' || text[pos + 1] === '\\')) {
      value += text[pos + 1];
      pos += 2;
      continue;
    }
    value += char;
    pos++;
  }
  throw new LineError(open, `unterminated quoted string starting "${clip(text.slice(open))}"; close it with a '"'`);
}

function toRule(logical: LogicalLine, tupleStart: number, fields: readonly { value: string; offset: number }[]): DarRule {
  if (fields.length !== 6 && fields.length !== 7) {
    throw new LineError(
      tupleStart,
      `tuple has ${fields.length} field${fields.length === 1 ? '' : 's'}; expected 6 (application name, subscriber, routing region, route, route modifier, order) or 7 (those and options)`,
    );
  }
  const [name, subscriber, region, route, modifier, order, options] = fields as [
    { value: string; offset: number },
    { value: string; offset: number },
    { value: string; offset: number },
    { value: string; offset: number },
    { value: string; offset: number },
    { value: string; offset: number },
    { value: string; offset: number } | undefined,
  ];
  if (name.value.length === 0) throw new LineError(name.offset, 'application name is empty; give the name the application is deployed under');
  if (!(ROUTING_REGIONS as readonly string[]).includes(region.value)) {
    throw new LineError(region.offset, `routing region "${clip(region.value)}" is not one of ${ROUTING_REGIONS.join(', ')}`);
  }
  if (!(ROUTE_MODIFIERS as readonly string[]).includes(modifier.value)) {
    throw new LineError(modifier.offset, `route modifier "${clip(modifier.value)}" is not one of ${ROUTE_MODIFIERS.join(', ')}`);
  }
  if (route.value.length > 0 && !SIP_URI.test(route.value)) {
    throw new LineError(route.offset, `route "${clip(route.value)}" is not a SIP URI; give sip:… or sips:…, or "" for none`);
  }
  if (route.value.length === 0 && modifier.value !== 'NO_ROUTE') {
    throw new LineError(route.offset, `route modifier ${modifier.value} needs a route; give a SIP URI in the fourth field, or use NO_ROUTE`);
  }
  if (!/^\d{1,9}$/.test(order.value)) {
    throw new LineError(order.offset, `state info "${clip(order.value)}" is not a non-negative integer; give the invocation order ("0", "1", …)`);
  }
  return Object.freeze({
    applicationName: name.value,
    subscriber: parseSubscriber(subscriber.value, subscriber.offset),
    routingRegion: region.value as RoutingRegion,
    route: route.value.length > 0 ? route.value : undefined,
    routeModifier: modifier.value as RouteModifier,
    order: Number(order.value),
    options: parseOptions(options?.value ?? '', options?.offset ?? tupleStart),
    line: lineAt(logical, tupleStart),
  });
}

function parseSubscriber(value: string, offset: number): DarSubscriber | undefined {
  if (value.length === 0) return undefined;
  if (value.slice(0, SUBSCRIBER_HEADER_PREFIX.length).toUpperCase() === SUBSCRIBER_HEADER_PREFIX) {
    const header = value.slice(SUBSCRIBER_HEADER_PREFIX.length).trim();
    if (!TOKEN.test(header)) {
      throw new LineError(offset, `subscriber "${clip(value)}" does not name a header; write DAR:<Header>, e.g. DAR:From`);
    }
    return Object.freeze({ header });
  }
  if (!URI_SCHEME.test(value)) {
    throw new LineError(offset, `subscriber "${clip(value)}" is neither DAR:<Header> nor a URI; write e.g. DAR:To or sip:alice@example.com`);
  }
  return Object.freeze({ uri: value });
}

function parseOptions(value: string, offset: number): DarOptions {
  let direction: 'INBOUND' | 'OUTBOUND' | undefined;
  const headerPatterns: DarHeaderPattern[] = [];
  if (value.length > 0) {
    for (const option of value.split(OPTION_SEPARATOR)) {
      const equals = option.indexOf('=');
      if (equals <= 0) {
        throw new LineError(offset, `option "${clip(option)}" is not KEY=VALUE; supported: DIRECTION=INBOUND|OUTBOUND, REGEX=<Header>:<regex>, HEADER_<Header>=<regex>`);
      }
      const key = option.slice(0, equals).toUpperCase();
      const optionValue = option.slice(equals + 1);
      if (key === 'DIRECTION') {
        const upper = optionValue.toUpperCase();
        if (upper !== 'INBOUND' && upper !== 'OUTBOUND') {
          throw new LineError(offset, `option DIRECTION="${clip(optionValue)}" is not INBOUND or OUTBOUND`);
        }
        if (direction !== undefined) throw new LineError(offset, 'option DIRECTION is given twice; keep one');
        direction = upper;
      } else if (key === 'REGEX') {
        const colon = optionValue.indexOf(':');
        const header = colon < 0 ? '' : optionValue.slice(0, colon).trim();
        if (!TOKEN.test(header)) {
          throw new LineError(offset, `option REGEX="${clip(optionValue)}" does not start with a header name; write REGEX=<Header>:<regex>, e.g. REGEX=From:@example\\.com`);
        }
        headerPatterns.push(headerPattern(header, optionValue.slice(colon + 1), offset));
      } else if (key.startsWith('HEADER_') && key.length > 'HEADER_'.length) {
        const header = option.slice('HEADER_'.length, equals);
        if (!TOKEN.test(header)) throw new LineError(offset, `option "${clip(option)}" does not name a header after HEADER_`);
        headerPatterns.push(headerPattern(header, optionValue, offset));
      } else {
        throw new LineError(offset, `unknown option "${clip(option.slice(0, equals))}"; supported: DIRECTION, REGEX, HEADER_<Header>`);
      }
    }
  }
  return Object.freeze({ ...(direction === undefined ? {} : { direction }), headerPatterns: Object.freeze(headerPatterns) });
}

function headerPattern(header: string, source: string, offset: number): DarHeaderPattern {
  try {
    return Object.freeze({ header, pattern: new RegExp(source) });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new LineError(offset, `the pattern for header ${header} is not a valid JavaScript regular expression: ${reason}`);
  }
}

function skipSpace(text: string, pos: number): number {
  while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t' || text[pos] === '\f')) pos++;
  return pos;
}

function found(text: string, pos: number): string {
  return pos >= text.length ? 'the end of the line' : `"${clip(text.slice(pos))}"`;
}

function fieldName(index: number): string {
  return FIELD_NAMES[index] ?? 'extra field';
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
