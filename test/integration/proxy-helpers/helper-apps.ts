/**
 * The application the proxy-helper tests drive: its doInvite runs whatever
 * helper call the test put in `plan`, and records the outcome (or the error)
 * and what its servlet callbacks saw.
 */
import { SipApplication, SipServlet, type ProxyOutcome, type SipServletRequest, type SipServletResponse } from 'siplet/sdk';

export interface Plan {
  /** The helper call for the next INVITE. */
  run: (req: SipServletRequest) => Promise<ProxyOutcome>;
  /** Do not await the outcome in doInvite (what `supervised: true` needs). */
  detach?: boolean;
  /** Let a rejection out of doInvite, as an app that simply awaits the helper would. */
  rethrow?: boolean;
}

export const plan: { current: Plan | undefined } = { current: undefined };
export const outcomes: ProxyOutcome[] = [];
export const errors: unknown[] = [];
export const events: string[] = [];

export function reset(next: Plan): void {
  plan.current = next;
  outcomes.length = 0;
  errors.length = 0;
  events.length = 0;
}

@SipApplication({ name: 'helpers', proxyTimeout: 30 })
@SipServlet({ name: 'helpers' })
export class HelperApp extends SipServlet {
  override async doInvite(req: SipServletRequest): Promise<void> {
    if (!req.isInitial() || plan.current === undefined) return;
    const { run, detach, rethrow } = plan.current;
    const running = run(req).then(
      (outcome) => void outcomes.push(outcome),
      (error: unknown) => {
        errors.push(error);
        if (rethrow) throw error;
      },
    );
    if (!detach) await running;
  }
  override doBranchResponse(res: SipServletResponse): void {
    events.push(`branch:${res.getStatus()}`);
  }
  override doSuccessResponse(res: SipServletResponse): void {
    events.push(`success:${res.getStatus()}`);
  }
  override doErrorResponse(res: SipServletResponse): void {
    events.push(`error:${res.getStatus()}`);
  }
  override doProvisionalResponse(res: SipServletResponse): void {
    events.push(`provisional:${res.getStatus()}`);
  }
}

export const DAR = 'INVITE: ("helpers", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")';
