import { describe, expect, it } from 'vitest';
import { answerChallenges, digestHa1, digestResponse, formatAuthParams, parseAlgorithm, parseAuthParams } from '../../../../src/container/auth/index.js';
import { challengeParams, h } from './helpers.js';

describe('digest computation', () => {
  it('reproduces the RFC 2617 §3.5 worked example (MD5, qop auth)', () => {
    const ha1 = digestHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
    expect(ha1).toBe(h('MD5', 'Mufasa:testrealm@host.com:Circle Of Life'));
    const response = digestResponse({
      algorithm: 'MD5',
      ha1,
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    });
    expect(response).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('reproduces the RFC 7616 §3.9.1 example that RFC 8760 adopts (SHA-256 and MD5)', () => {
    const common = {
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth' as const,
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    };
    const sha = digestResponse({ ...common, algorithm: 'SHA-256', ha1: digestHa1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life') });
    expect(sha).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    const md5 = digestResponse({ ...common, algorithm: 'MD5', ha1: digestHa1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life') });
    expect(md5).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('computes the -sess and no-qop forms as RFC 2617 §3.2.2 defines them', () => {
    const ha1 = h('SHA-256', 'alice:example.com:pw');
    const ha2 = h('SHA-256', 'REGISTER:sip:example.com');
    const sessHa1 = h('SHA-256', `${ha1}:n1:c1`);
    expect(digestResponse({ algorithm: 'SHA-256-sess', ha1, nonce: 'n1', method: 'REGISTER', uri: 'sip:example.com', qop: 'auth', nc: '00000002', cnonce: 'c1' })).toBe(
      h('SHA-256', `${sessHa1}:n1:00000002:c1:auth:${ha2}`),
    );
    expect(digestResponse({ algorithm: 'SHA-256', ha1, nonce: 'n1', method: 'REGISTER', uri: 'sip:example.com' })).toBe(h('SHA-256', `${ha1}:n1:${ha2}`));
  });

  it('reads algorithm names case-insensitively, MD5 when absent, and refuses others', () => {
    expect(parseAlgorithm(undefined)).toBe('MD5');
    expect(parseAlgorithm('sha-256')).toBe('SHA-256');
    expect(parseAlgorithm('MD5-sess')).toBe('MD5-sess');
    expect(parseAlgorithm('SHA-512-256')).toBeUndefined();
  });
});

describe('auth parameters', () => {
  it('parses quoted and token values, escapes, odd spacing and commas inside quotes', () => {
    const parsed = parseAuthParams('Digest  username="a\\"b" ,realm="x, y",nonce="n",  algorithm=SHA-256,qop=auth, nc=00000001');
    expect(parsed?.scheme).toBe('Digest');
    expect(Object.fromEntries(parsed!.params)).toEqual({ username: 'a"b', realm: 'x, y', nonce: 'n', algorithm: 'SHA-256', qop: 'auth', nc: '00000001' });
  });

  it('refuses malformed values instead of guessing', () => {
    for (const bad of ['', 'Digest realm', 'Digest realm="open', 'Digest realm="a" nonce="b"', 'Digest realm="a", realm="b"', 'Digest =x', 'Digest a=']) {
      expect(parseAuthParams(bad), bad).toBeUndefined();
    }
    expect(parseAuthParams('Digest ' + Array.from({ length: 40 }, (_, i) => `p${i}=1`).join(','))).toBeUndefined();
  });

  it('writes quoted strings with escapes and tokens bare', () => {
    expect(formatAuthParams('Digest', [['realm', 'a"b', 'quoted'], ['algorithm', 'MD5', 'token']])).toBe('Digest realm="a\\"b", algorithm=MD5');
  });
});

describe('answerChallenges (the UAC side)', () => {
  const challenges = [
    'Digest realm="example.com", nonce="abc", opaque="op", algorithm=SHA-256, qop="auth"',
    'Digest realm="example.com", nonce="abc", opaque="op", algorithm=MD5, qop="auth"',
  ];

  it('answers the first supported challenge of each realm, computed as the server will check it', () => {
    const { answers, missing } = answerChallenges({ challenges, method: 'REGISTER', uri: 'sip:example.com', credentialsFor: () => ({ username: 'alice', password: 'pw' }) });
    expect(missing).toEqual([]);
    expect(answers).toHaveLength(1);
    const p = challengeParams(answers[0]!.value);
    expect(p).toMatchObject({ username: 'alice', realm: 'example.com', nonce: 'abc', uri: 'sip:example.com', algorithm: 'SHA-256', qop: 'auth', nc: '00000001', opaque: 'op' });
    const ha1 = h('SHA-256', 'alice:example.com:pw');
    const ha2 = h('SHA-256', 'REGISTER:sip:example.com');
    expect(p['response']).toBe(h('SHA-256', `${ha1}:abc:00000001:${p['cnonce']}:auth:${ha2}`));
  });

  it('counts up the nonce-count when the same nonce is answered again, with a new cnonce', () => {
    const once = () => challengeParams(answerChallenges({ challenges: ['Digest realm="r", nonce="reused-nonce", qop="auth"'], method: 'INVITE', uri: 'sip:b@r', credentialsFor: () => ({ username: 'u', password: 'p' }) }).answers[0]!.value);
    const first = once();
    const second = once();
    expect([first['nc'], second['nc']]).toEqual(['00000001', '00000002']);
    expect(first['cnonce']).not.toBe(second['cnonce']);
    expect(first['algorithm']).toBe('MD5');
  });

  it('skips algorithms and qop it cannot do, answers RFC 2069 challenges without qop, and lists realms without credentials', () => {
    const result = answerChallenges({
      challenges: [
        'Digest realm="a", nonce="1", algorithm=SHA-512-256, qop="auth"',
        'Digest realm="a", nonce="1", algorithm=MD5, qop="auth-int"',
        'Digest realm="a", nonce="1", algorithm=MD5',
        'Digest realm="b", nonce="2", algorithm=MD5, qop="auth"',
        'Basic realm="c"',
      ],
      method: 'INVITE',
      uri: 'sip:x@a',
      credentialsFor: (realm) => (realm === 'a' ? { username: 'u', password: 'p' } : undefined),
    });
    expect(result.missing).toEqual(['b']);
    const p = challengeParams(result.answers[0]!.value);
    expect(p['qop']).toBeUndefined();
    expect(p['response']).toBe(h('MD5', `${h('MD5', 'u:a:p')}:1:${h('MD5', 'INVITE:sip:x@a')}`));
  });
});
