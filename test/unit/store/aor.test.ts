import { describe, expect, it } from 'vitest';
import { normalizeAor } from '../../../src/store/index.js';
import { SipUri } from '../../../src/sip/message/index.js';

describe('normalizeAor', () => {
  it('keeps scheme, user and host[:port], lower-cases the host, drops password, parameters and headers', () => {
    expect(normalizeAor('sip:Alice@Example.COM')).toBe('sip:Alice@example.com');
    expect(normalizeAor('sips:alice:secret@EXAMPLE.com:5061;transport=tcp?subject=x')).toBe('sips:alice@example.com:5061');
    expect(normalizeAor(' sip:example.com ')).toBe('sip:example.com');
    expect(normalizeAor('sip:%61lice@example.com')).toBe('sip:alice@example.com');
    expect(normalizeAor('sip:alice@[2001:DB8::1]:5060')).toBe('sip:alice@[2001:db8::1]:5060');
    expect(normalizeAor(new SipUri({ user: 'bob', host: 'Example.com', port: 5070 }))).toBe('sip:bob@example.com:5070');
  });

  it('is undefined for anything but a sip or sips URI', () => {
    for (const text of ['tel:+15551234567', 'mailto:a@example.com', 'not a uri', '']) expect(normalizeAor(text), text).toBeUndefined();
  });
});
