/**
 * Small proxy applications shared by the proxy integration tests. Each reads
 * its targets from the request (a `X-Targets` header: comma-separated URIs)
 * so one app serves every scenario.
 */
import {
  ErrorResponse,
  Invite,
  SipApplication,
  SipServlet,
  SuccessResponse,
  BranchResponse,
  parseUri,
  type SipServletRequest,
  type SipServletResponse,
  type Uri,
} from 'siplet/sdk';

export const events: string[] = [];

function targets(req: SipServletRequest): Uri[] {
  return (req.getHeader('X-Targets') ?? '')
    .split(',')
    .map((t) => parseUri(t.trim()))
    .filter((u): u is Uri => u !== undefined);
}

@SipApplication({ name: 'forker', proxyTimeout: 30 })
@SipServlet({ name: 'forker' })
export class Forker extends SipServlet {
  override doInvite(req: SipServletRequest): void {
    if (!req.isInitial()) return;
    const proxy = req.getProxy();
    proxy.setParallel(req.getHeader('X-Mode') !== 'sequential');
    proxy.setRecordRoute(req.getHeader('X-Record-Route') !== 'no');
    const timeout = req.getHeader('X-Branch-Timeout');
    const branches = proxy.createProxyBranches(targets(req));
    if (timeout) for (const b of branches) b.setProxyBranchTimeout(Number(timeout));
    proxy.startProxy();
  }
  override doOptions(req: SipServletRequest): void {
    req.getProxy().proxyTo(targets(req));
  }
  override doBye(req: SipServletRequest): void {
    events.push(`bye:${req.isInitial()}`);
  }
  override doAck(req: SipServletRequest): void {
    events.push(`ack:${req.isInitial()}`);
  }
  override doProvisionalResponse(res: SipServletResponse): void {
    events.push(`provisional:${res.getStatus()}`);
  }
  override doSuccessResponse(res: SipServletResponse): void {
    events.push(`success:${res.getStatus()}:${res.getMethod()}`);
  }
  override doErrorResponse(res: SipServletResponse): void {
    events.push(`error:${res.getStatus()}`);
  }
  override doRedirectResponse(res: SipServletResponse): void {
    events.push(`redirect:${res.getStatus()}`);
  }
  override doBranchResponse(res: SipServletResponse): void {
    events.push(`branch:${res.getStatus()}`);
  }
}

/** A JSR 359 style proxy: proxies to the Request-URI and records what it sees. */
@SipApplication({ name: 'plain-proxy' })
@SipServlet({ name: 'plain' })
export class PlainProxy {
  @Invite()
  invite(req: SipServletRequest): void {
    if (req.isInitial()) {
      req.getProxy().setRecordRoute(true);
      req.getProxy().proxyTo(req.getRequestURI());
    }
  }
  @SuccessResponse()
  ok(res: SipServletResponse): void {
    events.push(`pojo-success:${res.getStatus()}`);
  }
  @ErrorResponse()
  failed(res: SipServletResponse): void {
    events.push(`pojo-error:${res.getStatus()}`);
  }
  @BranchResponse()
  branch(res: SipServletResponse): void {
    events.push(`pojo-branch:${res.getStatus()}`);
  }
}
