/**
 * The container's SIP servlet messages (JSR 289 §4, §5): received and sent
 * requests and responses over the SIP message layer, with the system-header
 * rules; they hand sending to a MessageRuntime.
 */
export { ServletMessage } from './servlet-message.js';
export { IncomingRequest, type IncomingRequestInit } from './incoming-request.js';
export { OutgoingRequest, type OutgoingKind } from './outgoing-request.js';
export { IncomingResponse } from './incoming-response.js';
export { OutgoingResponse } from './outgoing-response.js';
export { ParameterableValue } from './parameterable.js';
export { checkWritable } from './system-headers.js';
export type { MessageRuntime } from './message-runtime.js';
