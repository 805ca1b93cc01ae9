import type { SipServletRequest, SipServletResponse } from '../../../../src/api/index.js';

/** Just enough of a request for servlet dispatch: method and attributes. */
export function fakeRequest(method: string): SipServletRequest {
  const attributes = new Map<string, unknown>();
  return {
    getMethod: () => method,
    getAttribute: (name: string) => attributes.get(name),
    setAttribute: (name: string, value: unknown) => void attributes.set(name, value),
    removeAttribute: (name: string) => void attributes.delete(name),
    isInitial: () => true,
  } as unknown as SipServletRequest;
}

/** Just enough of a response for servlet dispatch: status, the method it answers, branch flag. */
export function fakeResponse(status: number, method = 'INVITE', branch = false): SipServletResponse {
  return {
    getMethod: () => method,
    getStatus: () => status,
    isBranchResponse: () => branch,
  } as unknown as SipServletResponse;
}
