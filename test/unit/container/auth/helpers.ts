/**
 * Test doubles for digest authentication, written apart from src/container/auth so that tests
 * check it against an independent computation (node:crypto and a plain regular expression).
 */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { CredentialSource, DigestCredentials } from '../../../../src/container/index.js';

export const h = (algorithm: 'MD5' | 'SHA-256', text: string): string => createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(text).digest('hex');

export interface TestUser {
  username: string;
  realm: string;
  password: string;
  roles?: string[];
}

/** An in-memory CredentialSource keeping HA1 only, as a user store does; counts its lookups. */
export function memoryCredentials(users: readonly TestUser[]): CredentialSource & { lookups: number } {
  const table = new Map<string, DigestCredentials>();
  for (const u of users) {
    table.set(`${u.realm}\n${u.username}`, {
      username: u.username,
      realm: u.realm,
      ha1Md5: h('MD5', `${u.username}:${u.realm}:${u.password}`),
      ha1Sha256: h('SHA-256', `${u.username}:${u.realm}:${u.password}`),
      roles: [...(u.roles ?? [])],
    });
  }
  const source = {
    lookups: 0,
    credentials(realm: string, username: string) {
      source.lookups++;
      return table.get(`${realm}\n${username}`);
    },
  };
  return source;
}

/** The parameters of one WWW-Authenticate / Proxy-Authenticate value, read with a plain regex. */
export function challengeParams(value: string): Record<string, string> {
  expect(value.startsWith('Digest ')).toBe(true);
  const params: Record<string, string> = {};
  for (const m of value.slice(7).matchAll(/([a-z]+)=(?:"([^"]*)"|([^\s,]+))/gi)) params[m[1]!.toLowerCase()] = m[2] ?? m[3]!;
  return params;
}

export interface AuthorizationInput {
  /** One challenge value. */
  challenge: string;
  username: string;
  password: string;
  method: string;
  uri: string;
  nc?: number;
  cnonce?: string;
  /** Send without qop (RFC 2069 style). */
  noQop?: boolean;
  /** Override what goes into the header after computing (to forge or break it). */
  override?: Record<string, string>;
  /** Leave these parameters out. */
  omit?: string[];
  /** Compute the response with this algorithm name (e.g. MD5-sess) instead of the challenge's. */
  algorithm?: 'MD5' | 'SHA-256' | 'MD5-sess' | 'SHA-256-sess';
}

/** An Authorization value answering `challenge`, computed per RFC 2617 §3.2.2 / RFC 8760 with node:crypto. */
export function authorization(input: AuthorizationInput): string {
  const c = challengeParams(input.challenge);
  const algorithm = input.algorithm ?? (c['algorithm'] as 'MD5' | 'SHA-256');
  const hash = algorithm.startsWith('MD5') ? 'MD5' : 'SHA-256';
  const cnonce = input.cnonce ?? randomBytes(8).toString('hex');
  const nc = (input.nc ?? 1).toString(16).padStart(8, '0');
  let ha1 = h(hash, `${input.username}:${c['realm']}:${input.password}`);
  if (algorithm.endsWith('-sess')) ha1 = h(hash, `${ha1}:${c['nonce']}:${cnonce}`);
  const ha2 = h(hash, `${input.method}:${input.uri}`);
  const response = input.noQop ? h(hash, `${ha1}:${c['nonce']}:${ha2}`) : h(hash, `${ha1}:${c['nonce']}:${nc}:${cnonce}:auth:${ha2}`);
  const fields: Record<string, string> = {
    username: `"${input.username}"`,
    realm: `"${c['realm']}"`,
    nonce: `"${c['nonce']}"`,
    uri: `"${input.uri}"`,
    response: `"${response}"`,
    algorithm,
    ...(input.noQop ? {} : { cnonce: `"${cnonce}"`, qop: 'auth', nc }),
    ...(c['opaque'] === undefined ? {} : { opaque: `"${c['opaque']}"` }),
    ...input.override,
  };
  for (const name of input.omit ?? []) delete fields[name];
  return 'Digest ' + Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(', ');
}
