import { describe, expect, it } from 'vitest';
import { checkDescriptor } from '../../../../src/container/model/index.js';

describe('checkDescriptor (class-validator DTOs)', () => {
  it('accepts every field the model knows', () => {
    expect(
      checkDescriptor({
        name: 'echo',
        version: '1.2.0',
        displayName: 'Echo',
        description: 'echoes',
        mainServlet: 'echo',
        sessionTimeout: 5,
        proxyTimeout: 180,
        distributable: false,
        initParams: { greeting: 'hello' },
        servlets: [{ name: 'echo', className: 'Echo', loadOnStartup: 0, description: 'd', initParams: { mode: 'loud' } }],
        listeners: [{ className: 'Sessions', kinds: ['applicationSession', 'timer'] }],
        securityConstraints: [{ name: 'staff', servletNames: ['echo'], methods: ['INVITE'], roles: ['staff'], proxyAuthentication: true }],
        http: { router: 'routes' },
      }),
    ).toEqual([]);
    expect(checkDescriptor({})).toEqual([]);
  });

  it('refuses what is not an object', () => {
    expect(checkDescriptor([])).toEqual(['siplet.json must be a JSON object ({ "name": ..., "servlets": [...] }).']);
    expect(checkDescriptor('x')).toHaveLength(1);
  });

  it('names the bad top-level field, what it must be and what it was', () => {
    expect(checkDescriptor({ name: 'bad name!', sessionTimeout: '5', distributable: 'yes', mainServlet: 3 })).toEqual([
      `siplet.json "name" must be a string of letters, digits, '.', '_' and '-', starting with a letter or digit, not "bad name!".`,
      'siplet.json "mainServlet" must be a string, not 3.',
      'siplet.json "sessionTimeout" must be a number, not "5".',
      'siplet.json "distributable" must be a boolean, not "yes".',
    ]);
  });

  it('names nested fields by their path', () => {
    const errors = checkDescriptor({
      servlets: [{ name: 'ok' }, { name: 'x', className: 42, loadOnStartup: 1.5 }, 'nope'],
      listeners: [{ kinds: ['applicationSession'] }, { className: 'L', kinds: ['bogus'] }],
      http: { router: 7 },
      securityConstraints: [{ methods: ['INVITE', 'not a method'] }],
    });
    expect(errors).toContain('siplet.json "servlets[1].className" must be a string, not 42.');
    expect(errors).toContain('siplet.json "servlets[1].loadOnStartup" must be an integer (0 or more: load at deployment), not 1.5.');
    expect(errors).toContain('siplet.json "servlets[2]" must be an object with at least "name", not "nope".');
    expect(errors).toContain('siplet.json "listeners[0].className" must be a string (the export name of the listener class), not undefined.');
    expect(errors.some((e) => e.startsWith('siplet.json "listeners[1].kinds" must be an array of "'))).toBe(true);
    expect(errors).toContain("siplet.json \"http.router\" must be a string: the export name of the app's HTTP router in its entry module, not 7.");
    expect(errors.some((e) => e.startsWith('siplet.json "securityConstraints[0].methods" must be an array of SIP methods'))).toBe(true);
  });

  it('names unknown fields, at the top and inside entries', () => {
    const errors = checkDescriptor({ servlet: [], servlets: [{ name: 's', clasName: 'S' }] });
    expect(errors[0]).toMatch(/^siplet\.json: unknown field "servlet"; the fields are name, version, /);
    expect(errors).toContain('siplet.json servlets[0]: unknown field "clasName"; the fields are name, className, loadOnStartup, description, initParams.');
  });

  it('says which init parameter is not a string', () => {
    expect(checkDescriptor({ initParams: { port: 5060 } })).toEqual(['siplet.json "initParams": "port" is 5060; init parameters are strings: quote it.']);
    expect(checkDescriptor({ servlets: [{ name: 's', initParams: { on: true } }] })).toEqual([
      'siplet.json "servlets[0].initParams": "on" is true; init parameters are strings: quote it.',
    ]);
  });
});
