/**
 * The SIP core: what every request meets before a transaction user or an
 * application sees it (the stateless checks of RFC 3261 §8.2 and §16.3), and the
 * UAS behaviour of a server with no application for a request.
 */
export { checkRequest, type Refusal, type RequestCheckOptions } from './request-checks.js';
export { answerWithoutApplication, newTag } from './no-application.js';
export { KNOWN_METHODS, SUPPORTED_OPTION_TAGS, isKnownMethod, type KnownMethod } from './methods.js';
