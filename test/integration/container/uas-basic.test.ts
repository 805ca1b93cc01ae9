/**
 * A UAS servlet answering calls, in both decorator styles.
 *
 *   alice (scripted)            Siplet: app "answer"
 *      | INVITE ------------------> | doInvite → 180, 200
 *      | <------------------- 180   |
 *      | <------------------- 200   |
 *      | ACK ---------------------> | doAck
 *      | BYE ---------------------> | doBye → 200
 *      | <------------------- 200   |   sessions invalidated when ready
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Invite, Ack, Bye, SipApplication, SipServlet, type SipServletRequest } from 'siplet/sdk';
import { createTestSiplet, type TestSiplet } from 'siplet/sdk/testing';

const DAR = 'INVITE: ("answer", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")\nALL: ("answer", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")';

let siplet: TestSiplet | undefined;
afterEach(async () => {
  await siplet?.close();
  siplet = undefined;
});

const seen: string[] = [];

@SipApplication({ name: 'answer' })
@SipServlet({ name: 'main' })
class AnswerServlet extends SipServlet {
  override async doInvite(req: SipServletRequest): Promise<void> {
    seen.push('invite');
    await req.createResponse(180).send();
    const ok = req.createResponse(200);
    ok.setContent('v=0\r\n', 'application/sdp');
    await ok.send();
  }
  override doAck(): void {
    seen.push('ack');
  }
  override async doBye(req: SipServletRequest): Promise<void> {
    seen.push('bye');
    await req.createResponse(200).send();
  }
}

@SipApplication({ name: 'answer' })
@SipServlet({ name: 'pojo' })
class AnswerPojo {
  @Invite()
  async invite(req: SipServletRequest): Promise<void> {
    seen.push('pojo-invite');
    await req.createResponse(200).send();
  }
  @Ack()
  ack(): void {
    seen.push('pojo-ack');
  }
  @Bye()
  async bye(req: SipServletRequest): Promise<void> {
    seen.push('pojo-bye');
    await req.createResponse(200).send();
  }
}

describe('UAS servlet', () => {
  for (const [style, exports] of [['SipServlet subclass', { AnswerServlet }], ['JSR 359 decorators', { AnswerPojo }]] as const) {
    it(`answers, gets the ACK and the BYE (${style})`, async () => {
      seen.length = 0;
      siplet = await createTestSiplet({ apps: [{ exports }], dar: DAR });
      const alice = await siplet.ua('alice');
      const invite = alice.createRequest('INVITE', { to: 'sip:bob@127.0.0.1', body: 'v=0\r\n' });
      await alice.send(invite);
      const ok = await alice.expectResponse(invite, 200);
      expect(ok.to.tag).toBeDefined();
      expect(ok.contact[0]?.uri.toString()).toContain('127.0.0.1:5060');
      await alice.ack(invite, ok);
      const bye = alice.createInDialog(invite, ok, 'BYE');
      await alice.send(bye);
      expect((await alice.expectResponse(bye)).status).toBe(200);
      expect(seen.filter((s) => s.includes('ack'))).toHaveLength(1);
      // Everything of the call is gone once the BYE is answered.
      await new Promise((r) => setTimeout(r, 20));
      expect(siplet.container.stats().sessions).toMatchObject({ applicationSessions: 0, sipSessions: 0, dialogs: 0 });
    });
  }

  it('answers a request the servlet does not handle with 500, an unknown method with 501 and Allow', async () => {
    siplet = await createTestSiplet({ apps: [{ exports: { AnswerServlet } }], dar: DAR });
    const alice = await siplet.ua('alice');
    const msg = alice.createRequest('MESSAGE', { to: 'sip:bob@127.0.0.1', body: 'hi', contentType: 'text/plain' });
    await alice.send(msg);
    const r = await alice.expectResponse(msg);
    expect(r.status).toBe(500);
    const odd = alice.createRequest('FOO', { to: 'sip:bob@127.0.0.1' });
    await alice.send(odd);
    const r2 = await alice.expectResponse(odd);
    expect(r2.status).toBe(501);
    expect(r2.getAll('allow')).toContain('INVITE');
  });
});
