import { describe, expect, it } from 'vitest';
import { DefaultApplicationRouter, parseDar } from '../../../src/router/index.js';
import type { ApplicationRouter, ApplicationRouterInfo, RouterRequest, RoutingDirective } from '../../../src/router/index.js';
import { forLayer, silentLogger } from '../../../src/util/index.js';
import { recordingLogger, routerRequest } from './helpers.js';

function darRouter(text: string, deployed: string[]): DefaultApplicationRouter {
  const parsed = parseDar(text);
  if (!parsed.ok) throw new Error(parsed.errors.map((error) => error.message).join('\n'));
  const router = new DefaultApplicationRouter({ rules: parsed.rules });
  router.applicationDeployed(deployed);
  return router;
}

/** Walks a request's chain as the container does: NEW, then CONTINUE with the last stateInfo. */
function chain(router: ApplicationRouter, request: RouterRequest, directive: RoutingDirective = 'CONTINUE'): string[] {
  const names: string[] = [];
  let info = router.getNextApplication(request, undefined, 'NEW', undefined, undefined);
  for (let guard = 0; info?.nextApplicationName !== undefined && guard < 20; guard++) {
    names.push(info.nextApplicationName);
    info = router.getNextApplication(request, info.routingRegion, directive, undefined, info.stateInfo);
  }
  return names;
}

const THREE = [
  'INVITE: ("screening", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0"), \\',
  '        ("voicemail", "sip:vm@example.com", "NEUTRAL", "", "NO_ROUTE", "1"), \\',
  '        ("location", "DAR:To", "TERMINATING", "", "NO_ROUTE", "2")',
  'ALL: ("logger", "DAR:From", "NEUTRAL", "", "NO_ROUTE", "0"), ("audit", "", "NEUTRAL", "", "NO_ROUTE", "1")',
  'BYE:',
].join('\n');

describe('DefaultApplicationRouter', () => {
  it('NEW picks the first tuple, with region, subscriber from DAR:From, routes and modifier', () => {
    const router = darRouter(THREE, ['screening', 'voicemail', 'location']);
    const info = router.getNextApplication(routerRequest(), undefined, 'NEW', undefined, undefined);
    expect(info).toMatchObject({
      nextApplicationName: 'screening',
      subscriberUri: 'sip:alice@example.com',
      routingRegion: 'ORIGINATING',
      routes: [],
      routeModifier: 'NO_ROUTE',
    });
    expect(info!.stateInfo).toMatchObject({ method: 'INVITE', index: 0 });
  });

  it('CONTINUE and REVERSE walk the chain in order using stateInfo, then say "no more"', () => {
    const router = darRouter(THREE, ['screening', 'voicemail', 'location']);
    expect(chain(router, routerRequest())).toEqual(['screening', 'voicemail', 'location']);
    expect(chain(router, routerRequest(), 'REVERSE')).toEqual(['screening', 'voicemail', 'location']);

    const second = router.getNextApplication(routerRequest(), 'ORIGINATING', 'CONTINUE', undefined, router.getNextApplication(routerRequest(), undefined, 'NEW', undefined, undefined)!.stateInfo);
    expect(second).toMatchObject({ nextApplicationName: 'voicemail', subscriberUri: 'sip:vm@example.com', routingRegion: 'NEUTRAL' });
    const third = router.getNextApplication(routerRequest(), 'NEUTRAL', 'CONTINUE', undefined, second!.stateInfo);
    expect(third).toMatchObject({ nextApplicationName: 'location', subscriberUri: 'sip:bob@example.org', routingRegion: 'TERMINATING' });
    expect(router.getNextApplication(routerRequest(), 'TERMINATING', 'CONTINUE', undefined, third!.stateInfo)).toBeUndefined();
  });

  it('NEW ignores a stateInfo, and a CONTINUE without one of its own starts from the top', () => {
    const router = darRouter(THREE, ['screening', 'voicemail', 'location']);
    const first = router.getNextApplication(routerRequest(), undefined, 'NEW', undefined, undefined)!;
    const second = router.getNextApplication(routerRequest(), undefined, 'CONTINUE', undefined, first.stateInfo)!;
    expect(router.getNextApplication(routerRequest(), undefined, 'NEW', undefined, second.stateInfo)?.nextApplicationName).toBe('screening');
    expect(router.getNextApplication(routerRequest(), undefined, 'CONTINUE', undefined, undefined)?.nextApplicationName).toBe('screening');
    expect(router.getNextApplication(routerRequest(), undefined, 'CONTINUE', undefined, { index: 1 })?.nextApplicationName).toBe('screening');
  });

  it('falls back to ALL for a method without a line; an empty line opts a method out of ALL', () => {
    const router = darRouter(THREE, ['screening', 'voicemail', 'location', 'logger', 'audit']);
    expect(chain(router, routerRequest({ method: 'MESSAGE' }))).toEqual(['logger', 'audit']);
    expect(router.getNextApplication(routerRequest({ method: 'OPTIONS' }), undefined, 'NEW', undefined, undefined)?.stateInfo).toMatchObject({ method: 'ALL' });
    expect(chain(router, routerRequest({ method: 'BYE' }))).toEqual([]);
    expect(chain(router, routerRequest({ method: 'INVITE' }))).toEqual(['screening', 'voicemail', 'location']);
  });

  it('skips applications that are not deployed, and follows deploy / undeploy', () => {
    const router = darRouter(THREE, ['location']);
    expect(chain(router, routerRequest())).toEqual(['location']);
    router.applicationDeployed(['voicemail', 'screening']);
    expect(chain(router, routerRequest())).toEqual(['screening', 'voicemail', 'location']);
    router.applicationUndeployed(['screening', 'location']);
    expect(chain(router, routerRequest())).toEqual(['voicemail']);
    router.destroy();
    expect(chain(router, routerRequest())).toEqual([]);
  });

  it('returns ROUTE / ROUTE_BACK tuples with their route even when the application is not deployed', () => {
    const router = darRouter(
      'INVITE: ("scp", "", "NEUTRAL", "sip:scp.example.com;lr", "ROUTE_BACK", "0"), ("location", "DAR:To", "TERMINATING", "sip:ignored.example.com", "NO_ROUTE", "1")',
      ['location'],
    );
    const first = router.getNextApplication(routerRequest(), undefined, 'NEW', undefined, undefined);
    expect(first).toMatchObject({ nextApplicationName: 'scp', routes: ['sip:scp.example.com;lr'], routeModifier: 'ROUTE_BACK' });
    expect(first).not.toHaveProperty('subscriberUri');
    const second = router.getNextApplication(routerRequest(), 'NEUTRAL', 'CONTINUE', undefined, first!.stateInfo);
    expect(second).toMatchObject({ nextApplicationName: 'location', routes: [], routeModifier: 'NO_ROUTE' });
  });

  it('takes the subscriber URI from DAR:From / DAR:To, compact forms, and any other header', () => {
    const router = darRouter(
      'INVITE: ("a", "DAR:from", "ORIGINATING", "", "NO_ROUTE", "0"), ("b", "DAR:t", "TERMINATING", "", "NO_ROUTE", "1"), ' +
        '("c", "DAR:P-Asserted-Identity", "ORIGINATING", "", "NO_ROUTE", "2"), ("d", "DAR:P-Served-User", "ORIGINATING", "", "NO_ROUTE", "3"), ' +
        '("e", "DAR:X-Absent", "NEUTRAL", "", "NO_ROUTE", "4")',
      ['a', 'b', 'c', 'd', 'e'],
    );
    const request = routerRequest({
      from: 'sip:carol@example.com',
      to: 'tel:+15551234',
      headers: { 'P-Asserted-Identity': '"Carol <the boss>" <sip:+15550000@example.com;user=phone>', 'P-Served-User': 'sip:served@example.com;sescase=orig' },
    });
    const subscribers: (string | undefined)[] = [];
    let info: ApplicationRouterInfo | undefined = router.getNextApplication(request, undefined, 'NEW', undefined, undefined);
    while (info) {
      subscribers.push(info.subscriberUri);
      info = router.getNextApplication(request, info.routingRegion, 'CONTINUE', undefined, info.stateInfo);
    }
    expect(subscribers).toEqual(['sip:carol@example.com', 'tel:+15551234', 'sip:+15550000@example.com;user=phone', 'sip:served@example.com', undefined]);
  });

  it('applies REGEX / HEADER_ filters: every pattern must match, an absent header never does', () => {
    const router = darRouter(
      'INVITE: ("corporate", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0", "REGEX=From:@example\\.com>"), ' +
        '("vip", "DAR:To", "TERMINATING", "", "NO_ROUTE", "1", "REGEX=To:sip:bob@,HEADER_X-Tier=^gold$"), ' +
        '("everyone", "DAR:To", "TERMINATING", "", "NO_ROUTE", "2")',
      ['corporate', 'vip', 'everyone'],
    );
    expect(chain(router, routerRequest({ from: 'sip:alice@example.com', headers: { 'X-Tier': 'gold' } }))).toEqual(['corporate', 'vip', 'everyone']);
    expect(chain(router, routerRequest({ from: 'sip:mallory@example.net', headers: { 'X-Tier': 'gold' } }))).toEqual(['vip', 'everyone']);
    expect(chain(router, routerRequest({ from: 'sip:alice@example.com', headers: { 'X-Tier': 'silver' } }))).toEqual(['corporate', 'everyone']);
    expect(chain(router, routerRequest({ from: 'sip:alice@example.com' }))).toEqual(['corporate', 'everyone']);
  });

  it('applies DIRECTION against where the request comes from; without an origin such tuples never match (warned once)', () => {
    const text =
      'INVITE: ("inbound-only", "", "NEUTRAL", "", "NO_ROUTE", "0", "DIRECTION=INBOUND"), ("outbound-only", "", "NEUTRAL", "", "NO_ROUTE", "1", "DIRECTION=OUTBOUND"), ("any", "", "NEUTRAL", "", "NO_ROUTE", "2")';
    const router = darRouter(text, ['inbound-only', 'outbound-only', 'any']);
    const log = recordingLogger();
    router.init({ logger: log });
    expect(chain(router, routerRequest({ origin: 'NETWORK' }))).toEqual(['inbound-only', 'any']);
    expect(chain(router, routerRequest({ origin: 'APPLICATION' }))).toEqual(['outbound-only', 'any']);
    expect(chain(router, routerRequest())).toEqual(['any']);
    expect(chain(router, routerRequest())).toEqual(['any']);
    expect(log.records.filter((record) => record.level === 'warn')).toHaveLength(1);
  });

  it('sends a targeted request to its deployed target, continuing the chain after its tuple', () => {
    const router = darRouter(THREE, ['screening', 'voicemail', 'location', 'conference']);
    const targeted = router.getNextApplication(routerRequest(), undefined, 'NEW', { type: 'ENCODED_URI', applicationName: 'voicemail' }, undefined);
    expect(targeted).toMatchObject({ nextApplicationName: 'voicemail', subscriberUri: 'sip:vm@example.com', routingRegion: 'NEUTRAL' });
    expect(router.getNextApplication(routerRequest(), 'NEUTRAL', 'CONTINUE', undefined, targeted!.stateInfo)?.nextApplicationName).toBe('location');

    const outside = router.getNextApplication(routerRequest(), undefined, 'NEW', { type: 'JOIN', applicationName: 'conference' }, undefined);
    expect(outside).toMatchObject({ nextApplicationName: 'conference', routingRegion: 'NEUTRAL', routeModifier: 'NO_ROUTE' });
    expect(router.getNextApplication(routerRequest(), 'NEUTRAL', 'CONTINUE', undefined, outside!.stateInfo)?.nextApplicationName).toBe('screening');

    const undeployed = router.getNextApplication(routerRequest(), undefined, 'NEW', { type: 'REPLACES', applicationName: 'gone' }, undefined);
    expect(undeployed?.nextApplicationName).toBe('screening');
  });

  it('reload swaps the rules only when the text parses, and returns the errors otherwise', () => {
    const router = darRouter(THREE, ['screening', 'voicemail', 'location', 'other']);
    const before = router.rules;
    const refused = router.reload('INVITE: ("other", "", "NEUTRAL", "", "NO_ROUTE", "0")\nBYE: ("x", "", "SOMEWHERE", "", "NO_ROUTE", "0")', { source: 'dar.properties' });
    expect(refused).toEqual({ ok: false, errors: [expect.objectContaining({ line: 2, message: expect.stringContaining('dar.properties line 2: routing region "SOMEWHERE"') })] });
    expect(router.rules).toBe(before);
    expect(chain(router, routerRequest())).toEqual(['screening', 'voicemail', 'location']);

    const accepted = router.reload('INVITE: ("other", "", "NEUTRAL", "", "NO_ROUTE", "0")');
    expect(accepted.ok).toBe(true);
    expect(chain(router, routerRequest())).toEqual(['other']);
  });

  it('lets a chain started before a reload finish under the rules it started with', () => {
    const router = darRouter(THREE, ['screening', 'voicemail', 'location', 'other']);
    const first = router.getNextApplication(routerRequest(), undefined, 'NEW', undefined, undefined)!;
    router.reload('INVITE: ("other", "", "NEUTRAL", "", "NO_ROUTE", "0")');
    expect(router.getNextApplication(routerRequest(), undefined, 'CONTINUE', undefined, first.stateInfo)?.nextApplicationName).toBe('voicemail');
    expect(router.getNextApplication(routerRequest(), undefined, 'NEW', undefined, undefined)?.nextApplicationName).toBe('other');
  });

  it('routes nothing without rules, and accepts the server logger', () => {
    const router = new DefaultApplicationRouter();
    router.init({ logger: forLayer(silentLogger(), 'router'), properties: { ignored: 'yes' } });
    router.applicationDeployed(['a']);
    expect(router.getNextApplication(routerRequest(), undefined, 'NEW', undefined, undefined)).toBeUndefined();
  });
});
