/**
 * hello-uas: the smallest useful UAS. It answers INVITE with 180 Ringing and
 * 200 OK (with an SDP answer), takes the ACK, answers BYE, and answers OPTIONS.
 *
 *   caller                      hello-uas
 *     | INVITE -------------------> |
 *     | <-------------------- 180   |
 *     | <-------------------- 200   |   (SDP answer; resent until the ACK)
 *     | ACK ----------------------> |
 *     | BYE ----------------------> |
 *     | <-------------------- 200   |
 */
import {
  APP_CONFIG,
  APP_LOGGER,
  inject,
  SipApplication,
  SipServlet,
  type AppConfig,
  type AppLogger,
  type SipServletRequest,
} from 'siplet/sdk';

@SipApplication({ name: 'hello-uas', description: 'Answers every call and hangs up when asked', sessionTimeout: 3 })
@SipServlet({ name: 'hello', loadOnStartup: 1 })
export class HelloUas extends SipServlet {
  readonly #log: AppLogger;
  readonly #config: AppConfig;

  constructor(@inject(APP_LOGGER) log: AppLogger, @inject(APP_CONFIG) config: AppConfig) {
    super();
    this.#log = log;
    this.#config = config;
  }

  override async doInvite(req: SipServletRequest): Promise<void> {
    if (!req.isInitial()) {
      // A re-INVITE: accept it with the same answer.
      await this.#answer(req);
      return;
    }
    await req.createResponse(180).send();
    await this.#answer(req);
  }

  override doAck(): void {}

  override async doBye(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
  }

  override async doOptions(req: SipServletRequest): Promise<void> {
    const res = req.createResponse(200);
    res.setHeader('Accept', 'application/sdp');
    await res.send();
  }

  async #answer(req: SipServletRequest): Promise<void> {
    const ok = req.createResponse(200);
    const address = req.getLocalAddr() ?? '127.0.0.1';
    const port = this.#config.get<number>('mediaPort', 6000);
    ok.setContent(sdp(address, port), 'application/sdp');
    await ok.send();
    this.#log.debug({ callId: req.getCallId() }, 'answered');
  }
}

function sdp(address: string, port: number): string {
  const family = address.includes(':') ? 'IP6' : 'IP4';
  return [
    'v=0',
    `o=hello-uas 1 1 IN ${family} ${address}`,
    's=hello',
    `c=IN ${family} ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0 8`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    '',
  ].join('\r\n');
}
