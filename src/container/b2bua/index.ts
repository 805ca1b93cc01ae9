/**
 * Back-to-back user agents in the container (JSR 289 §12): the B2buaHelper that
 * creates and relays requests between two legs, and the registry of linked
 * sessions and requests and of the messages each leg has not committed yet.
 */
export { LegHelper, type LegHost } from './leg-helper.js';
export { LegRegistry } from './leg-registry.js';
export { applyHeaderMap, copyHeaders, NOT_COPIED, type HeaderMap, type MappedAddresses } from './header-map.js';
