/**
 * The composition root: the one place that constructs Siplet's layers and
 * wires them together, lower layers reporting upward through the handlers the
 * layer above registers.
 *
 *   UDP/TCP transports ─► TransportLayer ─► MessageTransport (parse, §18)
 *     ─► TransactionLayer (§17) ─► core (stateless checks, answers without apps)
 */
import type { SipletConfig } from './config/index.js';
import { HttpServer } from './http/index.js';
import { answerWithoutApplication } from './sip/core/index.js';
import { createResponse } from './sip/message/index.js';
import { TransactionLayer, type ServerTransaction } from './sip/transaction/index.js';
import { MessageTransport, TcpTransport, TransportLayer, UdpTransport } from './sip/transport/index.js';
import { forLayer, SipletError, type Logger } from './util/index.js';

export interface RunningServer {
  /** The SIP port every listener is bound to. */
  readonly sipPort: number;
  readonly httpPort: number;
  /** Counters of every layer, as `GET /health` reports them. */
  stats(): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startServer(config: SipletConfig, logger: Logger): Promise<RunningServer> {
  const log = forLayer(logger, 'server');
  const started = Date.now();

  const transportLog = forLayer(logger, 'transport');
  const layer = new TransportLayer({ logger: transportLog });
  for (const address of config.host.split(',')) {
    layer.add(
      new UdpTransport({
        address,
        port: config.sipPort,
        maxMessageSize: config.maxMessageSize,
        recvBufferSize: config.udpBufferSize || undefined,
        sendBufferSize: config.udpBufferSize || undefined,
        logger: transportLog,
      }),
    );
    layer.add(
      new TcpTransport({
        address,
        port: config.sipPort,
        maxConnections: config.tcpMaxConnections,
        maxMessageSize: config.maxMessageSize,
        maxBufferedBytes: config.tcpMaxBuffered,
        idleTimeoutMs: config.tcpIdleTimeout,
        logger: transportLog,
      }),
    );
  }
  const messages = new MessageTransport({
    layer,
    limits: {
      maxMessageSize: config.maxMessageSize,
      maxHeaders: config.maxHeaders,
      maxHeaderLineLength: config.maxHeaderLineLength,
      maxVia: config.maxVia,
    },
    logger: transportLog,
  });
  const transactions = new TransactionLayer({
    sender: messages,
    timers: { t1: config.t1, t2: config.t2, t4: config.t4 },
    trying100: config.trying100,
    logger: forLayer(logger, 'transaction'),
  });
  messages.onRequest((request, source) => transactions.receiveRequest(request, source));
  messages.onResponse((response, source) => transactions.receiveResponse(response, source));

  const coreLog = forLayer(logger, 'core');
  transactions.onRequest((request, transaction) => {
    try {
      answer(request, transaction);
    } catch (error) {
      coreLog.error({ err: error, method: request.method }, 'request handling failed');
      transaction.respond(createResponse(request, 500));
    }
  });

  const stats = (): Record<string, unknown> => ({
    uptimeSeconds: Math.round((Date.now() - started) / 1000),
    transport: layer.stats(),
    messages: messages.stats(),
    transactions: { live: transactions.size, ...transactions.counters },
  });

  const http = new HttpServer({ host: config.httpHost, port: config.httpPort, logger: forLayer(logger, 'http'), health: stats });

  try {
    await layer.listen();
  } catch (error) {
    throw new SipletError('SIPLET_LISTEN_FAILED', `Cannot listen for SIP on ${config.host} port ${config.sipPort}: ${String((error as Error).message ?? error)}. Set --sip-port / SIPLET_SIP_PORT to a free port or --host to an address of this machine.`, { cause: error });
  }
  try {
    await http.listen();
  } catch (error) {
    await layer.close();
    throw new SipletError('SIPLET_LISTEN_FAILED', `Cannot listen for HTTP on ${config.httpHost} port ${config.httpPort}: ${String((error as Error).message ?? error)}. Set --http-port / SIPLET_HTTP_PORT to a free port.`, { cause: error });
  }
  log.info({ host: config.host, sipPort: config.sipPort, transports: layer.transports.map((t) => `${t.protocol}:${t.local.address}:${t.local.port}`) }, 'SIP listening');

  return {
    sipPort: layer.transports[0]?.local.port ?? config.sipPort,
    httpPort: http.port,
    stats,
    async close() {
      transactions.close();
      await http.close();
      await layer.close();
      log.info('server closed');
    },
  };
}

/**
 * The transaction user of a server without applications: a CANCEL that found
 * its INVITE is answered 200 and the INVITE 487 if it is still pending
 * (RFC 3261 §9.2); everything else gets the core's UAS answer.
 */
function answer(request: import('./sip/message/index.js').SipRequest, transaction: ServerTransaction): void {
  if (request.method === 'CANCEL' && transaction.kind === 'server-non-invite' && transaction.cancelled !== undefined) {
    const invite = transaction.cancelled;
    transaction.respond(createResponse(request, 200));
    if (invite.lastResponse === undefined || invite.lastResponse.status < 200) {
      invite.respond(createResponse(invite.request, 487, { toTag: invite.lastResponse?.to.tag ?? 'cancelled' }));
    }
    return;
  }
  const response = answerWithoutApplication(request);
  if (response !== undefined) transaction.respond(response);
}
