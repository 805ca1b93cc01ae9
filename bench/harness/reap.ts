/**
 * Peers started by the harness die with the process that started them: a benchmark or test run that
 * ends on an uncaught error (a closed output pipe, a failed assertion outside a hook) would otherwise
 * leave Siplet, SIPp or Kamailio running, holding ports and CPU, with nobody to stop them.
 */
import type { ChildProcess } from 'node:child_process';

const live = new Map<ChildProcess, NodeJS.Signals>();
let hooked = false;

/**
 * Signals `child` if it still runs when this process exits. SIGKILL by default; Kamailio gets SIGTERM,
 * which its main process passes on to its workers.
 */
export function reapOnExit(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const [running, how] of live) if (running.exitCode === null && running.signalCode === null) running.kill(how);
    });
  }
  live.set(child, signal);
  child.once('exit', () => live.delete(child));
}
