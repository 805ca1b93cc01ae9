import { Servlet, type SipClassDecorator, type SipServletOptions } from './decorators.js';
import type { SipServletRequest, SipServletResponse } from './message.js';

/** What a servlet learns about itself when the container starts it. */
export interface SipServletConfig {
  servletName: string;
  applicationName: string;
  /** Init parameters from the descriptor or the decorator. */
  initParams: Readonly<Record<string, string>>;
}

type Handler<M> = (message: M) => void | Promise<void>;

/**
 * Base class of SIP servlets (JSR 289 §2.2). Requests reach `doRequest`, which
 * calls the `doXxx` method of the request's method; responses reach
 * `doResponse`, which calls `doProvisionalResponse`, `doSuccessResponse`,
 * `doRedirectResponse` or `doErrorResponse` (and `doBranchResponse` for
 * intermediate responses of a proxy branch). Handlers may be async.
 *
 * A request method the servlet does not override gets the JSR 289 default:
 * an initial request is answered 500 for known methods, 501 for unknown ones
 * (with Allow); ACK and CANCEL are never answered.
 *
 * `SipServlet` is also the JSR 289 `@SipServlet` decorator: `@SipServlet({ name })`
 * on a subclass (or on a plain class with JSR 359 handler decorators) records its
 * servlet metadata, exactly as `@Servlet(...)` does.
 *
 * @example
 * import { SipServlet, type SipServletRequest } from 'siplet/sdk';
 * @SipServlet({ name: 'hello', loadOnStartup: 1 })
 * export class Hello extends SipServlet {
 *   override async doInvite(req: SipServletRequest) {
 *     await req.createResponse(486).send();
 *   }
 * }
 */
abstract class SipServletBase {
  #config: SipServletConfig | undefined;

  /** Called once before the first message; override to set up (call `super.init(config)`). */
  init(config: SipServletConfig): void | Promise<void> {
    this.#config = config;
  }

  /** Called when the application is undeployed. */
  destroy(): void | Promise<void> {}

  getServletConfig(): SipServletConfig | undefined {
    return this.#config;
  }

  getServletName(): string | undefined {
    return this.#config?.servletName;
  }

  doRequest(request: SipServletRequest): void | Promise<void> {
    const handler = this.#requestHandler(request.getMethod());
    if (handler === undefined) return notHandled(request);
    return handler.call(this, request);
  }

  doResponse(response: SipServletResponse): void | Promise<void> {
    if (response.isBranchResponse()) return this.doBranchResponse(response);
    const status = response.getStatus();
    if (status < 200) return this.doProvisionalResponse(response);
    if (status < 300) return this.doSuccessResponse(response);
    if (status < 400) return this.doRedirectResponse(response);
    return this.doErrorResponse(response);
  }

  doInvite(request: SipServletRequest): void | Promise<void> {
    return notHandled(request);
  }
  doAck(_request: SipServletRequest): void | Promise<void> {}
  doOptions(request: SipServletRequest): void | Promise<void> {
    return notHandled(request);
  }
  doBye(request: SipServletRequest): void | Promise<void> {
    return notHandled(request);
  }
  doCancel(_request: SipServletRequest): void | Promise<void> {}
  doRegister(request: SipServletRequest): void | Promise<void> {
    return notHandled(request);
  }
  doSubscribe(request: SipServletRequest): void | Promise<void> {
    return notHandled(request);
  }
  doNotify(request: SipServletRequest): void | Promise<void> {
    return notHandled(request);
  }
  doMessage(request: SipServletRequest): void | Promise<void> {
    return notHandled(request);
  }
  doInfo(request: SipServletRequest): void | Promise<void> {
    return notHandled(request);
  }
  doRefer(request: SipServletRequest): void | Promise<void> {
    return notHandled(request);
  }
  doPublish(request: SipServletRequest): void | Promise<void> {
    return notHandled(request);
  }
  doUpdate(request: SipServletRequest): void | Promise<void> {
    return notHandled(request);
  }
  doPrack(request: SipServletRequest): void | Promise<void> {
    return notHandled(request);
  }

  doProvisionalResponse(_response: SipServletResponse): void | Promise<void> {}
  doSuccessResponse(_response: SipServletResponse): void | Promise<void> {}
  doRedirectResponse(_response: SipServletResponse): void | Promise<void> {}
  doErrorResponse(_response: SipServletResponse): void | Promise<void> {}
  doBranchResponse(_response: SipServletResponse): void | Promise<void> {}

  #requestHandler(method: string): Handler<SipServletRequest> | undefined {
    switch (method) {
      case 'INVITE':
        return this.doInvite;
      case 'ACK':
        return this.doAck;
      case 'OPTIONS':
        return this.doOptions;
      case 'BYE':
        return this.doBye;
      case 'CANCEL':
        return this.doCancel;
      case 'REGISTER':
        return this.doRegister;
      case 'SUBSCRIBE':
        return this.doSubscribe;
      case 'NOTIFY':
        return this.doNotify;
      case 'MESSAGE':
        return this.doMessage;
      case 'INFO':
        return this.doInfo;
      case 'REFER':
        return this.doRefer;
      case 'PUBLISH':
        return this.doPublish;
      case 'UPDATE':
        return this.doUpdate;
      case 'PRACK':
        return this.doPrack;
      default:
        return undefined;
    }
  }
}

type SipServletDecoratorFactory = (options?: SipServletOptions) => SipClassDecorator;

/** The servlet base class, callable as the `@SipServlet(options)` decorator. */
export const SipServlet = new Proxy(SipServletBase, {
  apply: (_target, _this, args: [SipServletOptions?]) => Servlet(args[0]),
}) as typeof SipServletBase & SipServletDecoratorFactory;
export type SipServlet = SipServletBase;

/**
 * Request attribute set when a servlet did not handle a request. The container
 * answers such a request with the JSR 289 default (500, or 501 with Allow for an
 * unknown method) when it is an initial request still uncommitted once the
 * handler returns.
 */
export const NOT_HANDLED_ATTRIBUTE = 'siplet.notHandled';

function notHandled(request: SipServletRequest): void {
  request.setAttribute(NOT_HANDLED_ATTRIBUTE, true);
}
