/**
 * The application model (STYLE habit 8): what the decorators recorded and what the descriptor says,
 * merged, defaulted and validated into one `ApplicationModel` per app. The container reads only
 * this model, never decorator metadata or descriptors. Also owns the rule that picks a plain-class
 * servlet's most specific handler, and the `ServletInvoker` that drives either servlet style.
 *
 * Owns no I/O: reading app folders and constructing instances is `container/deploy`.
 */
export {
  buildApplicationModel,
  DEFAULT_PROXY_TIMEOUT_SECONDS,
  DEFAULT_SESSION_TIMEOUT_MINUTES,
  type BuildApplicationModelResult,
} from './build-application-model.js';
export type {
  ApplicationModel,
  HttpModel,
  ListenerModel,
  RequestHandlerEntry,
  ResponseHandlerEntry,
  SecurityConstraintModel,
  ServletKind,
  ServletModel,
} from './application-model.js';
export type { DescriptorListener, DescriptorSecurityConstraint, DescriptorServlet, DescriptorShape } from './descriptor.js';
export { checkDescriptor, DESCRIPTOR_FIELDS, type DescriptorHttp } from './descriptor.js';
export { selectRequestHandler, selectResponseHandler } from './handler-table.js';
export { LISTENER_KINDS, LISTENER_METHODS, listenerKindsOf, type ListenerKindMap } from './listener-kinds.js';
export { createServletInvoker, type ServletInvoker } from './servlet-invoker.js';
