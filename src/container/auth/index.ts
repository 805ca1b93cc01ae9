/**
 * Digest authentication (RFC 3261 §22, RFC 8760; JSR 289 security constraints): the
 * `DigestAuthenticator` that challenges requests an app's security constraints cover and verifies
 * their credentials against a `CredentialSource` (HA1 only, never passwords), with self-validating
 * expiring nonces, nonce-count replay protection and per-address brute-force bans; and the UAC side
 * (`answerChallenges`) that `request.addAuthHeader` uses.
 *
 * Owns no I/O and no sessions: the container calls it and sends what it answers.
 */
export { type CredentialSource, type DigestCredentials } from './credential-source.js';
export {
  DigestAuthenticator,
  DEFAULT_DIGEST_AUTH_SETTINGS,
  type AuthCounters,
  type AuthRequest,
  type AuthVerdict,
  type DigestAuthenticatorOptions,
  type DigestAuthSettings,
} from './digest-authenticator.js';
export { answerChallenges, type ChallengeAnswer, type ChallengeAnswerInput } from './digest-client.js';
export { CHALLENGE_ALGORITHMS, digestHa1, digestHash, digestResponse, parseAlgorithm, type DigestAlgorithm, type DigestResponseInput } from './digest.js';
export { parseAuthParams, formatAuthParams, type AuthParams } from './auth-params.js';
export { protectionFor, type Protection } from './protection.js';
