/**
 * click-to-call: a converged HTTP + SIP application. An HTTP request names two parties; Siplet
 * calls the first, and once it answers calls the second with the first one's SDP offer and
 * connects them (third-party call control, RFC 3725 §4.1 flow I). Each call is an application
 * session, whose id the API answers with.
 *
 *   HTTP client          Siplet: click-to-call                 first (A)          second (B)
 *     | POST /calls --------> |                                     |                  |
 *     | <- 201 { id } ------- | (1) INVITE (no SDP) --------------> |                  |
 *     |                       | <---------------------- 180 / 200 (offer A)            |
 *     |                       | (2) INVITE (offer A) -------------------------------> |
 *     |                       | <------------------------------------ 180 / 200 (answer B)
 *     |                       | (3) ACK ---------------------------------------------> |
 *     |                       | (4) ACK (answer B) ---------------> |                  |
 *     |                       |                                     | <==== RTP ====> |
 *     | GET /calls/:id -----> | state from the SIP sessions: calling, ringing, answered, ended
 *     | DELETE /calls/:id --> | BYE -----------------------------> | BYE -----------> |
 *
 * GET /click-to-call/ is a small web page that does the same.
 */
import {
  express,
  getConvergedSession,
  inject,
  SipApplication,
  SipListener,
  SipServlet,
  type HttpContext,
  type HttpRequest,
  type HttpResponse,
  type ServletTimer,
  type SipServletRequest,
  type SipServletResponse,
  type TimerListener,
} from 'siplet/sdk';
import { Calls, InvalidCallError } from './calls.js';
import { PAGE_SCRIPT, pageHtml } from './page.js';

export { Calls, refusal, type CallView, type CallState, type PartyState, type PartyView, type Role } from './calls.js';

@SipApplication({
  name: 'click-to-call',
  description: 'Third-party calls placed over HTTP (RFC 3725)',
  // Minutes a call stays visible to GET after its last activity.
  sessionTimeout: 5,
  services: [Calls],
  http: { router: 'http' },
})
@SipServlet({ name: 'click-to-call', loadOnStartup: 1 })
@SipListener({ kinds: ['timer'] })
export class ClickToCall extends SipServlet implements TimerListener {
  readonly #calls: Calls;

  constructor(@inject(Calls) calls: Calls) {
    super();
    this.#calls = calls;
  }

  override doProvisionalResponse(res: SipServletResponse): Promise<void> {
    return this.#calls.provisional(res);
  }

  override doSuccessResponse(res: SipServletResponse): Promise<void> {
    return this.#calls.success(res);
  }

  override doErrorResponse(res: SipServletResponse): Promise<void> {
    return this.#calls.failure(res);
  }

  override doBye(req: SipServletRequest): Promise<void> {
    return this.#calls.bye(req);
  }

  timeout(timer: ServletTimer): Promise<void> {
    return this.#calls.timeout(timer);
  }
}

/**
 * The HTTP routes, under /click-to-call/:
 *
 * - `POST /calls` `{ "from": "sip:…", "to": "sip:…" }` → 201 `{ id, call }` (400 for a bad address);
 * - `GET /calls/:id` → the call (`CallView`), 404 once its session is gone;
 * - `DELETE /calls/:id` → hangs up (BYE to both, CANCEL to a party still ringing), answers the call;
 * - `GET /calls/current` → the call this browser placed last (its session cookie);
 * - `GET /` → the web page.
 */
export function http(ctx: HttpContext) {
  const calls = ctx.resolve(Calls);
  const router = express.Router();

  router.get('/', (_req, res) => {
    res.set('Content-Security-Policy', "default-src 'self'; style-src 'unsafe-inline'").type('html').send(pageHtml(ctx.basePath));
  });
  router.get('/page.js', (_req, res) => {
    res.type('text/javascript').send(PAGE_SCRIPT);
  });

  router.post('/calls', express.json({ limit: '4kb' }), async (req: HttpRequest, res: HttpResponse) => {
    const body = (req.body ?? {}) as { from?: unknown; to?: unknown };
    // A new application session per call; this browser's HTTP session now points at it.
    const appSession = ctx.sipFactory.createApplicationSession();
    await getConvergedSession(req).join(appSession);
    try {
      await calls.place(appSession, body.from, body.to);
    } catch (error) {
      appSession.invalidate();
      if (error instanceof InvalidCallError) {
        res.status(400).json({ error: error.message });
        return;
      }
      throw error;
    }
    res.status(201).location(`${ctx.basePath}/calls/${appSession.getId()}`).json({ id: appSession.getId(), call: calls.describe(appSession) });
  });

  router.get('/calls/current', async (req, res) => {
    const appSession = await getConvergedSession(req).getApplicationSession(false);
    const call = appSession === undefined ? undefined : calls.describe(appSession);
    if (call === undefined) res.status(404).json({ error: 'this browser has placed no call (or it is gone)' });
    else res.json(call);
  });

  router.get('/calls/:id', async (req, res) => {
    const appSession = ctx.sessionsUtil.getApplicationSessionById(req.params.id);
    if (appSession === undefined) {
      res.status(404).json({ error: `no call ${req.params.id}` });
      return;
    }
    await getConvergedSession(req).join(appSession);
    const call = calls.describe(appSession);
    if (call === undefined) res.status(404).json({ error: `no call ${req.params.id}` });
    else res.json(call);
  });

  router.delete('/calls/:id', async (req, res) => {
    const appSession = ctx.sessionsUtil.getApplicationSessionById(req.params.id);
    if (appSession === undefined) {
      res.status(404).json({ error: `no call ${req.params.id}` });
      return;
    }
    await getConvergedSession(req).join(appSession);
    await calls.hangUp(appSession);
    const call = calls.describe(appSession);
    if (call === undefined) res.status(404).json({ error: `no call ${req.params.id}` });
    else res.json(call);
  });

  return router;
}
