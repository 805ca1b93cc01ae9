/**
 * Siplet's testing kit: a whole Siplet on an in-memory network and scripted
 * user agents that send and expect SIP messages, so servlets are tested
 * without sockets (as SipUnit does for the Java containers). Siplet's own
 * container tests use it.
 */
export { createTestSiplet, TestSiplet, type TestApp, type TestSipletOptions } from './test-siplet.js';
export { ScriptedUa, type RequestOptions, type ResponseOptions, type SipMessageValue } from './scripted-ua.js';
export { MemoryNetwork, MemoryTransport } from '../../src/sip/transport/index.js';
