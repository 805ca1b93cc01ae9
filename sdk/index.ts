/**
 * The Siplet SDK: what applications import (`import { SipServlet } from 'siplet/sdk'`).
 * It is the public API of src/api, the servlet model in TypeScript; helpers for
 * proxies, B2BUAs and registrars join it as they land (the registrar: `RegistrarServlet`).
 * Converged apps build their HTTP routes with the server's own express, re-exported here
 * (`express.Router()`, `express.json()`), so an app folder needs no express of its own.
 * Apps get the running container's own copy of this module, so decorators and classes match.
 */
export * from '../src/api/index.js';
export { NameAddress, SipUri, TelUri, AbsoluteUri, Parameters, parseUri, parseNameAddress, type Uri } from '../src/sip/message/index.js';
export { ringGroup, hunt, failover, type ProxyOutcome, type ProxyHelperOptions, type RingGroupOptions, type HuntOptions, type HuntTarget, type FailoverOptions } from './proxy-helpers.js';
export { RegistrarServlet, DEFAULT_REGISTRAR_OPTIONS, REGISTRAR_REFUSALS, type RegistrarOptions, type RegistrationEvent } from './registrar.js';
export { b2bua, dispatchToB2bua, B2buaServlet, B2buaCall, B2buaError, B2BUA_DEFAULTS, type B2buaOptions, type B2buaEnd, type B2buaEndCause, type B2buaAnswer, type B2buaParty, type B2buaDirection, type HeaderPolicy, type HeaderRewrite } from './b2bua.js';
export { default as express } from 'express';
export type { Request as HttpRequest, Response as HttpResponse, NextFunction as HttpNext, Router as HttpRouter } from 'express';
