/**
 * Fault isolation: a servlet that throws or rejects gets its request answered
 * 500 (or the SipError's status), the failure is logged with the app and the
 * servlet, and that app and every other app go on serving.
 *
 *   alice (scripted)            Siplet: "faulty" takes INVITE, "steady" takes MESSAGE
 *      | INVITE (X-Fail: throw) --> | faulty: doInvite throws
 *      | <-------------------- 500  |   logged {app: faulty, servlet: boom}
 *      | ACK ---------------------> |
 *      | INVITE (X-Fail: sip) ----> | faulty: throw new SipError(486)
 *      | <-------------------- 486  |
 *      | INVITE ------------------> | faulty: 200 (still serving)
 *      | MESSAGE -----------------> | steady: 200 (never bothered)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipApplication, SipError, SipServlet, type SipServletRequest } from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { capturingLogger, live, settle, until, type LogRecord } from './helpers.js';

const DAR = [
  'INVITE: ("faulty", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")',
  'MESSAGE: ("steady", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")',
].join('\n');

let siplet: TestSiplet | undefined;
afterEach(async () => {
  await siplet?.close();
  siplet = undefined;
});

const done: string[] = [];

@SipApplication({ name: 'faulty' })
@SipServlet({ name: 'boom' })
class FaultyServlet extends SipServlet {
  override async doInvite(req: SipServletRequest): Promise<void> {
    switch (req.getHeader('X-Fail')) {
      case 'throw':
        throw new Error('doInvite blew up');
      case 'reject':
        await Promise.resolve();
        return Promise.reject(new TypeError('doInvite rejected'));
      case 'sip':
        throw new SipError(486, 'Busy Here (app)');
      case 'after':
        // Answered first: the failure must not produce a second response.
        await req.createResponse(200).send();
        throw new Error('failed after answering');
      default:
        await req.createResponse(200).send();
    }
  }
  override doAck(req: SipServletRequest): void {
    if (req.getHeader('X-Fail') === 'ack') throw new Error('doAck blew up');
    done.push('ack');
  }
  override async doBye(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
    done.push('bye');
  }
}

@SipApplication({ name: 'steady' })
@SipServlet({ name: 'steady' })
class SteadyServlet extends SipServlet {
  override async doMessage(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
    done.push('message');
  }
}

async function invite(ua: ScriptedUa, fail?: string) {
  const req = ua.createRequest('INVITE', { to: 'sip:bob@127.0.0.1', headers: fail ? { 'X-Fail': fail } : {} });
  await ua.send(req);
  const res = await ua.expectResponse(req);
  await ua.ack(req, res);
  return { req, res };
}

async function message(ua: ScriptedUa): Promise<number> {
  const req = ua.createRequest('MESSAGE', { to: 'sip:bob@127.0.0.1', body: 'still there?', contentType: 'text/plain' });
  await ua.send(req);
  return (await ua.expectResponse(req)).status;
}

async function start(): Promise<{ alice: ScriptedUa; records: LogRecord[] }> {
  done.length = 0;
  const { logger, records } = capturingLogger();
  siplet = await createTestSiplet({ apps: [{ exports: { FaultyServlet } }, { exports: { SteadyServlet } }], dar: DAR, logger });
  return { alice: await siplet.ua('alice'), records };
}

const failures = (records: LogRecord[]): LogRecord[] => records.filter((r) => r.level >= 50);

describe('fault isolation', () => {
  for (const [fail, message_] of [
    ['throw', 'doInvite blew up'],
    ['reject', 'doInvite rejected'],
  ] as const) {
    it(`answers 500 when the handler ${fail === 'throw' ? 'throws' : 'returns a rejected promise'}, logs it with app and servlet, and keeps serving`, async () => {
      const { alice, records } = await start();
      const { res } = await invite(alice, fail);
      expect(res.status).toBe(500);
      expect(res.to.tag).toBeDefined();
      const logged = failures(records);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ app: 'faulty', servlet: 'boom', method: 'INVITE', err: { message: message_ } });
      expect(siplet!.container.stats().counters.handlerErrors).toBe(1);
      // The same app serves the next call, and the other app was never affected.
      expect((await invite(alice)).res.status).toBe(200);
      expect(await message(alice)).toBe(200);
      await until(() => done.includes('ack') && done.includes('message'), 'the ACK and the MESSAGE');
    });
  }

  it('answers with the status of a thrown SipError, reason included', async () => {
    const { alice, records } = await start();
    const { res } = await invite(alice, 'sip');
    expect(res.status).toBe(486);
    expect(res.reason).toBe('Busy Here (app)');
    expect(failures(records)[0]).toMatchObject({ app: 'faulty', servlet: 'boom' });
    expect((await invite(alice)).res.status).toBe(200);
  });

  it('sends no second response when the handler fails after answering; the call goes on', async () => {
    const { alice, records } = await start();
    const { req, res } = await invite(alice, 'after');
    expect(res.status).toBe(200);
    const bye = alice.createInDialog(req, res, 'BYE');
    await alice.send(bye);
    expect((await alice.expectResponse(bye)).status).toBe(200);
    await settle();
    const finals = alice.received.filter((m) => !m.isRequest && m.callId === req.callId && m.cseq.method === 'INVITE' && m.status >= 200);
    expect(finals.map((m) => (m.isRequest ? 0 : m.status))).toEqual([200]);
    expect(failures(records)).toHaveLength(1);
    expect(done).toEqual(['ack', 'bye']);
    await until(() => siplet?.container.stats().sessions.applicationSessions === 0, 'the call to be gone');
  });

  it('answers nothing to an ACK whose handler throws; the dialog still takes its BYE', async () => {
    const { alice, records } = await start();
    const req = alice.createRequest('INVITE', { to: 'sip:bob@127.0.0.1' });
    await alice.send(req);
    const ok = await alice.expectResponse(req, 200);
    const ack = alice.createInDialog(req, ok, 'ACK', { headers: { 'X-Fail': 'ack' } });
    // RFC 3261 §13.2.2.4: the ACK of a 2xx carries the INVITE's CSeq number.
    ack.set('CSeq', `${req.cseq.seq} ACK`);
    await alice.send(ack);
    await until(() => failures(records).length === 1, 'the failure to be logged');
    expect(failures(records)[0]).toMatchObject({ app: 'faulty', servlet: 'boom', method: 'ACK' });
    const bye = alice.createInDialog(req, ok, 'BYE');
    await alice.send(bye);
    expect((await alice.expectResponse(bye)).status).toBe(200);
    await settle();
    expect(alice.unread()).toEqual([]);
    await until(() => siplet?.container.stats().sessions.applicationSessions === 0, 'the call to be gone');
    expect(live(siplet!.container.stats().sessions)).toEqual({ applicationSessions: 0, sipSessions: 0, dialogs: 0 });
  });

  it('a failed call leaves no session behind', async () => {
    const { alice } = await start();
    await invite(alice, 'throw');
    await invite(alice, 'sip');
    await until(() => siplet?.container.stats().sessions.applicationSessions === 0, 'the failed calls to be gone');
    expect(live(siplet!.container.stats().sessions)).toEqual({ applicationSessions: 0, sipSessions: 0, dialogs: 0 });
  });
});
