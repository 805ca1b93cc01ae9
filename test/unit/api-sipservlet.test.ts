import { describe, expect, it } from 'vitest';
import { getSipMetadata, SipServlet, type SipServletRequest } from '../../src/api/index.js';

describe('SipServlet: base class and @SipServlet decorator in one name', () => {
  it('records servlet metadata when used as a decorator and stays a base class', () => {
    @SipServlet({ name: 'hello', loadOnStartup: 2 })
    class Hello extends SipServlet {
      override doInvite(_req: SipServletRequest): void {}
    }
    const meta = getSipMetadata(Hello);
    expect(meta?.servlet).toMatchObject({ name: 'hello', loadOnStartup: 2 });
    const h = new Hello();
    expect(h).toBeInstanceOf(SipServlet);
    expect(typeof h.doRequest).toBe('function');
  });
});
