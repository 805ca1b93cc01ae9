/**
 * PLACEHOLDER composition root, written so `siplet start` runs before the real one lands; the
 * engineer wiring the layers replaces this file whole. Contract kept: `startServer(config, logger)`
 * resolves once listening and returns `close()`.
 */
import type { SipletConfig } from './config/index.js';
import type { Logger } from './util/index.js';

export interface RunningServer {
  close(): Promise<void>;
}

export async function startServer(config: SipletConfig, logger: Logger): Promise<RunningServer> {
  const log = logger.child({ layer: 'server' });
  log.warn({ host: config.host, sipPort: config.sipPort }, 'placeholder server: no SIP layers are wired yet');
  return {
    async close() {
      log.info('placeholder server closed');
    },
  };
}
