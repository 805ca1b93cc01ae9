import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SipApplication, SipServlet, type SipServletRequest } from '../sdk/index.js';
import { createTestSiplet } from '../sdk/testing/index.js';

/**
 * Memory over a long run of short calls: a whole Siplet (transactions,
 * container, sessions) on the in-memory network, a servlet answering every
 * INVITE, and a scripted caller placing INVITE / 200 / ACK / BYE calls,
 * `concurrency` at a time. After each block of calls the heap is measured after
 * a full GC, with the live session and transaction counts: the heap must stay
 * flat once the transactions that outlive their calls (RFC 6026 Timer L, 64×T1)
 * reach their steady state.
 */
export interface CallsMemoryOptions {
  /** Calls per measured block. Default 10,000. */
  block?: number;
  /** Measured blocks after one warm-up block. Default 5. */
  blocks?: number;
  concurrency?: number;
  /** T1 in ms: transactions linger 64×T1 after their call. Default 100 (6.4 s). */
  t1?: number;
  onProgress?: (line: string) => void;
}

export interface CallsMemoryPoint {
  calls: number;
  heapUsedMb: number;
  sipSessions: number;
  applicationSessions: number;
  transactions: number;
  callsPerSecond: number;
}

export interface CallsMemoryResult {
  points: CallsMemoryPoint[];
  /** Heap after the last block's transactions ended (Timer L and J ran out), after a full GC. */
  drainedHeapMb: number;
  /**
   * Heap per lingering transaction: each point's heap above the drained heap, divided by the
   * transactions it held (no session outlives its call, so they are what the difference holds).
   */
  bytesPerTransaction: number;
}

@SipApplication({ name: 'answer' })
@SipServlet({ name: 'answer' })
class Answer extends SipServlet {
  override async doInvite(req: SipServletRequest): Promise<void> {
    const ok = req.createResponse(200);
    ok.setContent('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n', 'application/sdp');
    await ok.send();
  }
  override async doBye(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
  }
}

function gcNow(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

export async function runCallsMemoryBench(options: CallsMemoryOptions = {}): Promise<CallsMemoryResult> {
  const block = options.block ?? 10_000;
  const blocks = options.blocks ?? 5;
  const concurrency = options.concurrency ?? 50;
  const progress = options.onProgress ?? (() => {});
  const siplet = await createTestSiplet({
    apps: [{ exports: { Answer } }],
    dar: 'INVITE: ("answer", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")',
    config: { t1: options.t1 ?? 100 },
  });
  siplet.network.logLimit = 0;
  const alice = await siplet.ua('alice');
  const call = async (): Promise<void> => {
    const invite = alice.createRequest('INVITE', { to: 'sip:bob@127.0.0.1', body: 'v=0\r\n' });
    await alice.send(invite);
    const ok = await alice.expectResponse(invite, 200, 10_000);
    await alice.ack(invite, ok);
    const bye = alice.createInDialog(invite, ok, 'BYE');
    await alice.send(bye);
    await alice.expectResponse(bye, 200, 10_000);
    // The test UA keeps what it received; a benchmark drops it.
    alice.received.length = 0;
  };
  const runBlock = async (): Promise<number> => {
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < block) {
          next++;
          await call();
        }
      }),
    );
    return block / ((performance.now() - started) / 1000);
  };
  const points: CallsMemoryPoint[] = [];
  let drainedHeapMb = 0;
  try {
    await runBlock();
    for (let i = 1; i <= blocks; i++) {
      const rate = await runBlock();
      gcNow();
      const stats = siplet.stack.container.stats();
      const point: CallsMemoryPoint = {
        calls: i * block,
        heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20,
        sipSessions: stats.sessions.sipSessions,
        applicationSessions: stats.sessions.applicationSessions,
        transactions: siplet.stack.transactions.size,
        callsPerSecond: rate,
      };
      points.push(point);
      progress(
        `  after ${point.calls} calls: heap ${point.heapUsedMb.toFixed(1)} MB, live SIP sessions ${point.sipSessions}, ` +
          `application sessions ${point.applicationSessions}, transactions ${point.transactions}, ${Math.round(rate)} calls/s`,
      );
    }
    // Every transaction ends within 64×T1 of its call; wait for them, then the heap left is the baseline.
    const drainBy = performance.now() + 64 * (options.t1 ?? 100) * 3;
    while (siplet.stack.transactions.size > 0 && performance.now() < drainBy) await new Promise((r) => setTimeout(r, 100));
    gcNow();
    drainedHeapMb = process.memoryUsage().heapUsed / 2 ** 20;
    progress(`  drained: heap ${drainedHeapMb.toFixed(1)} MB, transactions ${siplet.stack.transactions.size}`);
  } finally {
    await siplet.close();
  }
  const perTransaction = points.map((p) => ((p.heapUsedMb - drainedHeapMb) * 2 ** 20) / Math.max(1, p.transactions));
  const bytesPerTransaction = perTransaction.reduce((a, b) => a + b, 0) / Math.max(1, perTransaction.length);
  return { points, drainedHeapMb, bytesPerTransaction };
}

export function formatCallsMemory({ points, drainedHeapMb, bytesPerTransaction }: CallsMemoryResult): string[] {
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) return [];
  return [
    `short calls memory: heap ${first.heapUsedMb.toFixed(1)} MB after ${first.calls} calls, ${last.heapUsedMb.toFixed(1)} MB after ${last.calls}; ` +
      `growth ${(last.heapUsedMb - first.heapUsedMb).toFixed(1)} MB; live sessions at the end ${last.sipSessions}`,
    `short calls memory: drained heap ${drainedHeapMb.toFixed(1)} MB; heap per lingering transaction ${(bytesPerTransaction / 1024).toFixed(1)} KiB`,
  ];
}
