/**
 * The click-to-call sample against real peers: Siplet as its own process, its HTTP API driven with
 * fetch, two SIPp UASs as the parties (scenarios ctc-first.xml, ctc-second.xml, ctc-busy.xml).
 *
 *   test (HTTP)           Siplet: click-to-call                 SIPp first            SIPp second
 *     | POST /calls -----> | INVITE (no SDP) ------------------> |                       |
 *     | GET: calling/first |                   (300 ms) <-- 180  |                       |
 *     | GET: ringing/first |                   (800 ms) <-- 200 (offer), retransmitted   |
 *     | GET: calling/second| INVITE (offer) ---------------------------------------------> |
 *     | GET: ringing/second|                                          (300 ms) <---- 180  |
 *     |                    |                                          (800 ms) <---- 200 (answer)
 *     |                    | ACK ------------------------------------------------------> |
 *     | GET: answered      | ACK (answer: SIPp checks the SDP) -> |                       |
 *     | DELETE ----------> | BYE -----------------------------> | BYE ----------------> |
 *     | GET: ended         | <------------------------------ 200 | <----------------- 200 |
 *
 *   second party busy (486) ─► the first party's ACK carries an answer refusing its streams, then BYE
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startSipp, type SippResult, type SippRun } from './harness/sipp.js';
import { startSiplet, type SipletProcess } from './harness/siplet-process.js';

const scenarios = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');

interface CallView {
  id: string;
  state: string;
  calling?: string;
  reason?: string;
  from: { state: string; sip?: string; status?: number };
  to: { state: string; sip?: string; status?: number };
}

let siplet: SipletProcess | undefined;
const peers: SippRun[] = [];

afterEach(async () => {
  for (const peer of peers.splice(0)) await peer.stop(500);
  await siplet?.stop();
  siplet = undefined;
});

function explain(result: SippResult): string {
  return `sipp ${result.args.join(' ')}\ncounters ${JSON.stringify(result.counters)}\n${result.stdout.slice(-1500)}\n${result.errors.slice(-3000)}\n--- siplet ---\n${siplet?.output().slice(-4000) ?? ''}`;
}

/** A SIPp UAS for one call on a free port, ready to answer. */
async function party(scenario: string): Promise<{ uri: string; run: SippRun }> {
  const port = await freePort();
  const run = startSipp({ scenarioFile: join(scenarios, scenario), localPort: port, calls: 1, timeoutSeconds: 30, killAfterMs: 60_000 });
  peers.push(run);
  await run.ready;
  return { uri: `sip:${scenario.replace('.xml', '')}@127.0.0.1:${port}`, run };
}

async function api(path: string, init?: RequestInit): Promise<{ status: number; body: CallView & { error?: string; call?: CallView } }> {
  const res = await fetch(`http://127.0.0.1:${siplet?.httpPort}/click-to-call${path}`, init);
  return { status: res.status, body: (await res.json()) as CallView & { error?: string; call?: CallView } };
}

/** Polls GET every 25 ms until `done`, returning every distinct state/calling seen, in order. */
async function watch(id: string, done: (call: CallView) => boolean, ms = 15_000): Promise<{ seen: string[]; last: CallView }> {
  const seen: string[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const { status, body } = await api(`/calls/${id}`);
    expect(status).toBe(200);
    const label = body.calling === undefined ? body.state : `${body.state}/${body.calling}`;
    if (seen[seen.length - 1] !== label) seen.push(label);
    if (done(body)) return { seen, last: body };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the call did not get there within ${ms} ms; seen ${seen.join(' → ')}\n${siplet?.output().slice(-4000) ?? ''}`);
}

describe('click-to-call between two SIPp UASs', () => {
  it('connects the parties (flow I: the first party\'s ACK carries the second party\'s answer), reports every step, and hangs up both', async () => {
    siplet = await startSiplet({ apps: [{ name: 'click-to-call' }], dar: '' });
    const first = await party('ctc-first.xml');
    const second = await party('ctc-second.xml');

    const placed = await api('/calls', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: first.uri, to: second.uri }) });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    expect(placed.body.call).toMatchObject({ state: 'calling', calling: 'first' });
    const id = (placed.body as unknown as { id: string }).id;

    const { seen, last } = await watch(id, (c) => c.state === 'answered' || c.state === 'ended');
    expect(seen, siplet.output().slice(-3000)).toEqual(['calling/first', 'ringing/first', 'calling/second', 'ringing/second', 'answered']);
    expect(last).toMatchObject({ from: { state: 'answered', sip: 'CONFIRMED' }, to: { state: 'answered', sip: 'CONFIRMED' } });

    const hungUp = await api(`/calls/${id}`, { method: 'DELETE' });
    expect(hungUp.body).toMatchObject({ state: 'ended', reason: 'hung up' });
    const [a, b] = await Promise.all([first.run.result, second.run.result]);
    expect(a, explain(a)).toMatchObject({ exitCode: 0, successful: 1, failed: 0 });
    expect(b, explain(b)).toMatchObject({ exitCode: 0, successful: 1, failed: 0 });
    expect((await api(`/calls/${id}`)).body).toMatchObject({ state: 'ended', reason: 'hung up', from: { state: 'ended' }, to: { state: 'ended' } });
  }, 60_000);

  it('releases the first party (ACK with an answer refusing its offer, then BYE) when the second is busy', async () => {
    siplet = await startSiplet({ apps: [{ name: 'click-to-call' }], dar: '' });
    const first = await party('ctc-first.xml');
    const second = await party('ctc-busy.xml');
    const placed = await api('/calls', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: first.uri, to: second.uri }) });
    const id = (placed.body as unknown as { id: string }).id;
    const { last } = await watch(id, (c) => c.state === 'ended');
    expect(last).toMatchObject({ reason: 'second party did not answer: 486 Busy Here', to: { state: 'failed', status: 486 } });
    const [a, b] = await Promise.all([first.run.result, second.run.result]);
    expect(a, explain(a)).toMatchObject({ exitCode: 0, successful: 1, failed: 0 });
    expect(b, explain(b)).toMatchObject({ exitCode: 0, successful: 1, failed: 0 });
    expect((await api(`/calls/${id}`)).body).toMatchObject({ state: 'ended', from: { state: 'ended' } });
  }, 60_000);
});
