import { describe, expect, it } from 'vitest';
import { parseDar } from '../../../src/router/index.js';
import type { DarParseResult, DarRules } from '../../../src/router/index.js';

function rulesOf(text: string): DarRules {
  const result = parseDar(text);
  if (!result.ok) throw new Error(`expected the DAR to parse: ${result.errors.map((e) => e.message).join('\n')}`);
  return result.rules;
}

function errorsOf(text: string, source?: string): { line: number; message: string }[] {
  const result: DarParseResult = parseDar(text, source === undefined ? {} : { source });
  if (result.ok) throw new Error('expected the DAR to be refused');
  return result.errors.map(({ line, message }) => ({ line, message }));
}

const SCREENING_AND_LOCATION =
  'INVITE: ("call-screening", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0"), ("location", "DAR:To", "TERMINATING", "", "NO_ROUTE", "1")';

describe('parseDar: valid files', () => {
  it('parses the call-screening + location example', () => {
    const rules = rulesOf(SCREENING_AND_LOCATION);
    expect([...rules.keys()]).toEqual(['INVITE']);
    const [screening, location] = rules.get('INVITE')!;
    expect(screening).toMatchObject({
      applicationName: 'call-screening',
      subscriber: { header: 'From' },
      routingRegion: 'ORIGINATING',
      route: undefined,
      routeModifier: 'NO_ROUTE',
      order: 0,
      options: { headerPatterns: [] },
      line: 1,
    });
    expect(location).toMatchObject({ applicationName: 'location', subscriber: { header: 'To' }, routingRegion: 'TERMINATING', order: 1 });
  });

  it('parses several methods, ALL, comments, blank lines and continuation lines', () => {
    const rules = rulesOf(
      [
        '# Siplet DAR',
        '! also a comment \\',
        'INVITE: ("a", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0"), \\',
        '        ("b", "DAR:To", "TERMINATING", "", "NO_ROUTE", "1")',
        '',
        '   ',
        'MESSAGE = ("chat", "sip:service@example.com", "NEUTRAL", "sip:relay.example.com;lr", "ROUTE", "0")',
        'ALL: ("logger", "", "NEUTRAL", "", "NO_ROUTE", "0")',
        'BYE:',
      ].join('\r\n'),
    );
    expect([...rules.keys()].sort()).toEqual(['ALL', 'BYE', 'INVITE', 'MESSAGE']);
    expect(rules.get('INVITE')!.map((rule) => [rule.applicationName, rule.line])).toEqual([
      ['a', 3],
      ['b', 4],
    ]);
    expect(rules.get('MESSAGE')![0]).toMatchObject({
      subscriber: { uri: 'sip:service@example.com' },
      route: 'sip:relay.example.com;lr',
      routeModifier: 'ROUTE',
    });
    expect(rules.get('ALL')![0]).toMatchObject({ applicationName: 'logger', subscriber: undefined });
    expect(rules.get('BYE')).toEqual([]);
  });

  it('orders each chain by the sixth field, keeping written order for ties', () => {
    const rules = rulesOf(
      'INVITE: ("third", "", "NEUTRAL", "", "NO_ROUTE", "2"), ("first", "", "NEUTRAL", "", "NO_ROUTE", "0"), ("second", "", "NEUTRAL", "", "NO_ROUTE", "1"), ("second-too", "", "NEUTRAL", "", "NO_ROUTE", "1")',
    );
    expect(rules.get('INVITE')!.map((rule) => rule.applicationName)).toEqual(['first', 'second', 'second-too', 'third']);
  });

  it('tolerates whitespace around fields, tuples and separators', () => {
    const rules = rulesOf('  INVITE  :(  " a " ,"DAR:From",\t"ORIGINATING" , "", "NO_ROUTE","0" )  ,  ("b","","NEUTRAL","","NO_ROUTE","1")   ');
    expect(rules.get('INVITE')!.map((rule) => rule.applicationName)).toEqual(['a', 'b']);
  });

  it('reads quoted strings with commas, parentheses and escapes', () => {
    const rules = rulesOf(
      String.raw`INVITE: ("odd, (name) \"quoted\" back\\slash", "", "NEUTRAL", "", "NO_ROUTE", "0", "REGEX=From:^\"[^\"]*\" <sip:\d{1,3}@")`,
    );
    const [rule] = rules.get('INVITE')!;
    expect(rule!.applicationName).toBe('odd, (name) "quoted" back\\slash');
    const [pattern] = rule!.options.headerPatterns;
    expect(pattern!.header).toBe('From');
    expect(pattern!.pattern.source).toBe(String.raw`^"[^"]*" <sip:\d{1,3}@`);
    expect(pattern!.pattern.test('"Al" <sip:123@example.com>')).toBe(true);
  });

  it('reads the seventh field: DIRECTION, REGEX=<Header>:<regex> and HEADER_<Header>=<regex>', () => {
    const rules = rulesOf(
      'INVITE: ("a", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0", "DIRECTION=INBOUND,REGEX=From:.*@example.com"), ' +
        '("b", "DAR:To", "TERMINATING", "", "NO_ROUTE", "1", "direction=outbound HEADER_To=@example\\.org$"), ' +
        '("c", "DAR:To", "TERMINATING", "", "NO_ROUTE", "2", "")',
    );
    const [a, b, c] = rules.get('INVITE')!;
    expect(a!.options.direction).toBe('INBOUND');
    expect(a!.options.headerPatterns.map(({ header, pattern }) => [header, pattern.source])).toEqual([['From', '.*@example.com']]);
    expect(b!.options.direction).toBe('OUTBOUND');
    expect(b!.options.headerPatterns.map(({ header, pattern }) => [header, pattern.source])).toEqual([['To', '@example\\.org$']]);
    expect(c!.options).toEqual({ headerPatterns: [] });
  });

  it('keeps commas inside a regex that are not followed by KEY=', () => {
    const [rule] = rulesOf('INVITE: ("a", "", "NEUTRAL", "", "NO_ROUTE", "0", "REGEX=To:^sip:\\d{2,4}@, DIRECTION=INBOUND")').get('INVITE')!;
    expect(rule!.options.headerPatterns[0]!.pattern.source).toBe('^sip:\\d{2,4}@');
    expect(rule!.options.direction).toBe('INBOUND');
  });

  it('accepts an empty file and a file of comments', () => {
    expect(rulesOf('').size).toBe(0);
    expect(rulesOf('# nothing\n! here\n\n').size).toBe(0);
  });
});

describe('parseDar: malformed files', () => {
  const good = '("a", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")';

  it('reports an unterminated quote on the line it opens', () => {
    expect(errorsOf(`# c\nINVITE: ${good}\nBYE: ("a", "", "NEUTRAL", "", "NO_ROUTE", "0)`)).toEqual([
      { line: 3, message: expect.stringMatching(/^dar\.properties line 3: .*unterminated quoted string/) },
    ]);
  });

  it('reports a wrong field count', () => {
    const [error] = errorsOf(`INVITE: ${good}\n\nBYE: ("a", "DAR:From", "ORIGINATING", "", "NO_ROUTE")`);
    expect(error).toEqual({ line: 3, message: expect.stringContaining('dar.properties line 3: tuple has 5 fields; expected 6') });
  });

  it('reports a bad routing region with the allowed values', () => {
    expect(errorsOf(`INVITE: ${good}\nBYE: ${good}\nACK: ("a", "DAR:From", "ORIGNATING", "", "NO_ROUTE", "0")`)).toEqual([
      { line: 3, message: 'dar.properties line 3: routing region "ORIGNATING" is not one of ORIGINATING, TERMINATING, NEUTRAL' },
    ]);
  });

  it('reports a bad route modifier, and ROUTE without a route', () => {
    expect(errorsOf('INVITE: ("a", "", "NEUTRAL", "", "NO_ROUTES", "0")')[0]!.message).toBe(
      'dar.properties line 1: route modifier "NO_ROUTES" is not one of ROUTE, ROUTE_BACK, NO_ROUTE',
    );
    expect(errorsOf('\nINVITE: ("a", "", "NEUTRAL", "", "ROUTE", "0")')[0]!.message).toMatch(/^dar\.properties line 2: route modifier ROUTE needs a route/);
    expect(errorsOf('INVITE: ("a", "", "NEUTRAL", "proxy.example.com", "ROUTE", "0")')[0]!.message).toMatch(/route "proxy.example.com" is not a SIP URI/);
  });

  it('reports a state info that is not a non-negative integer', () => {
    for (const order of ['first', '-1', '1.5', '']) {
      expect(errorsOf(`INVITE: ("a", "", "NEUTRAL", "", "NO_ROUTE", "${order}")`)[0]!.message).toBe(
        `dar.properties line 1: state info "${order}" is not a non-negative integer; give the invocation order ("0", "1", …)`,
      );
    }
  });

  it('reports method keys that are not SIP method names, lower case, missing or repeated', () => {
    expect(errorsOf(`INV ITE: ${good}`)[0]).toEqual({ line: 1, message: expect.stringContaining('method key "INV ITE" is not a SIP method name') });
    expect(errorsOf(`\ninvite: ${good}`)[0]).toEqual({ line: 2, message: expect.stringContaining('write INVITE') });
    expect(errorsOf(`: ${good}`)[0]!.message).toContain('missing method name');
    expect(errorsOf(`INVITE ${good}`)[0]!.message).toContain('expected ":" between the method name INVITE and its tuples');
    expect(errorsOf('just some words')[0]!.message).toContain('found no ":"');
    expect(errorsOf(`INVITE: ${good}\n# c\nINVITE: ${good}`)[0]).toEqual({
      line: 3,
      message: 'dar.properties line 3: method INVITE already has a line (line 1); put all its tuples on one line',
    });
  });

  it('reports syntax between tuples: missing parenthesis, trailing comma, unquoted field', () => {
    expect(errorsOf(`INVITE: "a", "", "NEUTRAL", "", "NO_ROUTE", "0"`)[0]!.message).toContain('expected "(" to open a tuple');
    expect(errorsOf(`INVITE: ${good},`)[0]!.message).toContain('remove the trailing comma');
    expect(errorsOf(`INVITE: ${good} ${good}`)[0]!.message).toContain('expected "," between tuples');
    expect(errorsOf('INVITE: (a, "", "NEUTRAL", "", "NO_ROUTE", "0")')[0]!.message).toContain('expected a quoted field');
    expect(errorsOf('INVITE: ()')[0]!.message).toContain('empty tuple');
  });

  it('reports bad subscribers and options', () => {
    expect(errorsOf('INVITE: ("a", "DAR:", "NEUTRAL", "", "NO_ROUTE", "0")')[0]!.message).toContain('does not name a header');
    expect(errorsOf('INVITE: ("a", "alice", "NEUTRAL", "", "NO_ROUTE", "0")')[0]!.message).toContain('neither DAR:<Header> nor a URI');
    expect(errorsOf('INVITE: ("a", "", "NEUTRAL", "", "NO_ROUTE", "0", "DIRECTION=SIDEWAYS")')[0]!.message).toContain('not INBOUND or OUTBOUND');
    expect(errorsOf('INVITE: ("a", "", "NEUTRAL", "", "NO_ROUTE", "0", "COLOUR=blue")')[0]!.message).toContain('unknown option "COLOUR"');
    expect(errorsOf('INVITE: ("a", "", "NEUTRAL", "", "NO_ROUTE", "0", "REGEX=.*")')[0]!.message).toContain('REGEX=<Header>:<regex>');
    expect(errorsOf('INVITE: ("a", "", "NEUTRAL", "", "NO_ROUTE", "0", "REGEX=From:([")')[0]!.message).toContain(
      'the pattern for header From is not a valid JavaScript regular expression',
    );
    expect(errorsOf('INVITE: ("", "", "NEUTRAL", "", "NO_ROUTE", "0")')[0]!.message).toContain('application name is empty');
  });

  it('gives the physical line inside a continued line, and the configured source name', () => {
    const text = ['# header', `INVITE: ${good}, \\`, `    ("b", "DAR:To", "TERMINATING", "", "NO_ROUTE", "1"), \\`, '    ("c", "DAR:To", "SIDEWAYS", "", "NO_ROUTE", "2")'].join('\n');
    expect(errorsOf(text, '/etc/siplet/dar.properties')).toEqual([
      { line: 4, message: '/etc/siplet/dar.properties line 4: routing region "SIDEWAYS" is not one of ORIGINATING, TERMINATING, NEUTRAL' },
    ]);
  });

  it('reports one error per bad line, for every bad line, without throwing', () => {
    const errors = errorsOf(`INVITE: ("a"\nBYE: ${good}\nACK: ("a", "", "X", "", "NO_ROUTE", "0")\nOPTIONS: ("a", "", "NEUTRAL", "", "NO_ROUTE", "x")`);
    expect(errors.map((error) => error.line)).toEqual([1, 3, 4]);
  });

  it('never throws, whatever the input', () => {
    const samples = ['(', '"', '\\', 'A:(', 'A:("', 'A:("\\', 'A:("a"', 'A:("a",', ':::', '=', '\u0000', 'A: ("a","","NEUTRAL","","NO_ROUTE","0","=")'];
    for (const sample of samples) expect(() => parseDar(sample)).not.toThrow();
    let seed = 7;
    const alphabet = 'AI:=(),"\\ \n#!abDR:F0_NEUTRAL';
    for (let round = 0; round < 500; round++) {
      let text = '';
      for (let i = 0; i < 40; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        text += alphabet[seed % alphabet.length];
      }
      expect(() => parseDar(text)).not.toThrow();
    }
  });
});
