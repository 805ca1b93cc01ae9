/**
 * The applications the B2BUA integration tests deploy: one that drives the JSR 289
 * B2buaHelper by hand (what each request asks for is in its X-Op header), and one
 * that hands each INVITE to the SDK's b2bua() helper.
 */
import {
  b2bua,
  B2buaServlet,
  parseUri,
  SipApplication,
  SipServlet,
  type B2buaCall,
  type B2buaOptions,
  type SipServletRequest,
  type SipServletResponse,
  type SipSession,
} from 'siplet/sdk';

/** What the apps saw and did, in order: the tests read it. */
export const trace: string[] = [];
/** The calls the b2bua() app started, in order. */
export const calls: B2buaCall[] = [];
/** Results the helper app stores for a test to inspect. */
export const seen: Record<string, unknown> = {};

export function resetTrace(): void {
  trace.length = 0;
  calls.length = 0;
  for (const k of Object.keys(seen)) delete seen[k];
}

/**
 * An app that hands every INVITE to b2bua(): target from X-Target or the Request-URI, options
 * from `options()`; `hold()`, when given, runs first (a servlet busy before it starts the call).
 */
export function callApp(options: () => B2buaOptions = () => ({}), hold?: () => Promise<void>): new () => object {
  @SipApplication({ name: 'b2b' })
  @SipServlet({ name: 'b2b' })
  class CallApp extends B2buaServlet {
    override async doInvite(req: SipServletRequest): Promise<void> {
      await hold?.();
      const target = req.getHeader('X-Target') ?? req.getRequestURI();
      const call = await b2bua(req, target, { headers: { drop: ['X-Target'] }, ...options() });
      calls.push(call);
      call.on('answered', () => trace.push('answered'));
      call.on('ended', (end) => trace.push(`ended:${end.by}:${end.cause}`));
      call.on('failed', (end) => trace.push(`failed:${end.by}:${end.cause}:${end.status ?? '-'}`));
    }

    override async doMessage(req: SipServletRequest): Promise<void> {
      // Not part of any call: reaches the servlet's own handler.
      trace.push('own doMessage');
      await req.createResponse(200).send();
    }
  }
  return CallApp;
}

/**
 * The JSR 289 helper by hand. The initial INVITE's X-Op says what to do:
 *   relay      createRequest(linked) to X-Target, relay responses, ACK, BYE (createRequestFor)
 *   headers    createRequest with a header map from X-Map (JSON)
 *   cancel-on-180  createCancel(session) on the leg when it rings, 487 upstream
 *   proxy-then-b2b / b2b-then-proxy   the exclusivity of getProxy and getB2buaHelper
 */
@SipApplication({ name: 'b2b-helper' })
@SipServlet({ name: 'helper' })
export class HelperApp extends SipServlet {
  override async doInvite(req: SipServletRequest): Promise<void> {
    if (!req.isInitial()) {
      await this.#relayRequest(req);
      return;
    }
    const op = req.getHeader('X-Op') ?? 'relay';
    trace.push(`doInvite ${op}`);
    if (op === 'proxy-then-b2b') {
      const proxy = req.getProxy();
      try {
        req.getB2buaHelper();
      } catch (error) {
        seen['b2bError'] = (error as Error).name;
      }
      proxy.proxyTo(parseUri(req.getHeader('X-Target') ?? '')!);
      return;
    }
    const b2b = req.getB2buaHelper();
    if (op === 'b2b-then-proxy') {
      try {
        req.getProxy();
      } catch (error) {
        seen['proxyError'] = (error as Error).name;
      }
      await req.createResponse(603).send();
      return;
    }
    const map = op === 'headers' ? (JSON.parse(req.getHeader('X-Map') ?? '{}') as Record<string, string[]>) : undefined;
    let leg: SipServletRequest;
    try {
      leg = b2b.createRequest(req, true, map);
    } catch (error) {
      seen['createError'] = `${(error as Error).name}: ${(error as Error).message}`;
      await req.createResponse(500).send();
      return;
    }
    leg.setRequestURI(parseUri(req.getHeader('X-Target') ?? '')!);
    seen['linkedSession'] = b2b.getLinkedSession(req.getSession()) === leg.getSession();
    seen['linkedBack'] = b2b.getLinkedSession(leg.getSession()) === req.getSession();
    seen['linkedRequest'] = b2b.getLinkedSipServletRequest(leg) === req && b2b.getLinkedSipServletRequest(req) === leg;
    seen['sameAppSession'] = leg.getApplicationSession() === req.getApplicationSession();
    seen['pendingUasBefore'] = b2b.getPendingMessages(req.getSession(), 'UAS').map((m) => m.getMethod());
    try {
      b2b.createRequest(req, true);
    } catch (error) {
      seen['secondLinkedLeg'] = (error as Error).name;
    }
    await leg.send();
    seen['pendingUac'] = b2b.getPendingMessages(leg.getSession(), 'UAC').map(describe);
  }

  override async doProvisionalResponse(res: SipServletResponse): Promise<void> {
    const b2b = res.getRequest().getB2buaHelper();
    const upstream = b2b.getLinkedSipServletRequest(res.getRequest());
    trace.push(`provisional ${res.getStatus()}`);
    if (upstream === undefined || upstream.isCommitted()) return;
    if (upstream.getHeader('X-Op') === 'cancel-on-180') {
      const cancel = b2b.createCancel(res.getSession());
      seen['cancelMethod'] = cancel.getMethod();
      await cancel.send();
      await upstream.createResponse(487).send();
      return;
    }
    await upstream.createResponse(res.getStatus()).send();
  }

  override async doSuccessResponse(res: SipServletResponse): Promise<void> {
    const b2b = res.getRequest().getB2buaHelper();
    const method = res.getMethod();
    trace.push(`success ${res.getStatus()} ${method}`);
    if (method !== 'INVITE') {
      const upstream = b2b.getLinkedSipServletRequest(res.getRequest());
      if (upstream !== undefined && !upstream.isCommitted()) await upstream.createResponse(res.getStatus()).send();
      return;
    }
    seen['pendingUacAfter2xx'] = b2b.getPendingMessages(res.getSession(), 'UAC').map(describe);
    const original = b2b.getLinkedSipServletRequest(res.getRequest());
    const caller = original?.getSession() ?? sessionOf(b2b.getLinkedSession(res.getSession()));
    if (original !== undefined && !original.isCommitted()) {
      const ok = original.createResponse(200);
      ok.setContent(res.getRawContent(), res.getContentType() ?? 'application/sdp');
      await ok.send();
      return;
    }
    // A further 2xx of a forked INVITE, on a derived session: answered upstream in a derived session too.
    const derived = res.getSession();
    seen['derivedLinked'] = b2b.getLinkedSession(derived) === undefined ? 'unlinked' : 'linked';
    if (caller === undefined) return;
    const original2 = b2b.createResponseToOriginalRequest(caller, 200);
    seen['derivedCaller'] = original2.getSession() !== caller;
    b2b.linkSipSessions(original2.getSession(), derived);
    await original2.send();
    try {
      b2b.createResponseToOriginalRequest(caller, 486);
    } catch (error) {
      seen['inconsistent'] = (error as Error).name;
    }
  }

  override async doErrorResponse(res: SipServletResponse): Promise<void> {
    trace.push(`error ${res.getStatus()} ${res.getMethod()}`);
    const b2b = res.getRequest().getB2buaHelper();
    const upstream = b2b.getLinkedSipServletRequest(res.getRequest());
    if (upstream !== undefined && !upstream.isCommitted()) await upstream.createResponse(res.getStatus()).send();
  }

  override async doAck(req: SipServletRequest): Promise<void> {
    const b2b = req.getB2buaHelper();
    const other = b2b.getLinkedSession(req.getSession());
    trace.push('doAck');
    if (other === undefined) return;
    seen['pendingBeforeAck'] = b2b.getPendingMessages(other, 'UAC').map(describe);
    await b2b.createRequestFor(other, req).send();
    seen['pendingAfterAck'] = b2b.getPendingMessages(other, 'UAC').map(describe);
    // Unlinking drops the link both ways; linking again restores it.
    b2b.unlinkSipSessions(other);
    seen['unlinked'] = b2b.getLinkedSession(req.getSession()) === undefined && b2b.getLinkedSession(other) === undefined;
    b2b.linkSipSessions(req.getSession(), other);
    seen['relinked'] = b2b.getLinkedSession(other) === req.getSession();
  }

  override async doBye(req: SipServletRequest): Promise<void> {
    await this.#relayRequest(req);
  }

  override async doInfo(req: SipServletRequest): Promise<void> {
    await this.#relayRequest(req);
  }

  override doCancel(req: SipServletRequest): Promise<void> | void {
    const b2b = req.getB2buaHelper();
    const other = b2b.getLinkedSession(req.getSession());
    trace.push('doCancel');
    if (other !== undefined) return b2b.createCancel(other).send();
  }

  async #relayRequest(req: SipServletRequest): Promise<void> {
    const b2b = req.getB2buaHelper();
    const other = b2b.getLinkedSession(req.getSession());
    trace.push(`relay ${req.getMethod()}`);
    if (other === undefined) {
      await req.createResponse(481).send();
      return;
    }
    seen[`pendingUas${req.getMethod()}`] = b2b.getPendingMessages(req.getSession(), 'UAS').map((m) => m.getMethod());
    const out = b2b.createRequestFor(other, req, req.getMethod() === 'INFO' ? { 'X-Relayed': ['yes'] } : undefined);
    await out.send();
  }
}

function describe(m: SipServletRequest | SipServletResponse): string {
  return 'getStatus' in m ? `${m.getStatus()} ${m.getMethod()}` : `${m.getMethod()}`;
}

function sessionOf(s: SipSession | undefined): SipSession | undefined {
  return s;
}
