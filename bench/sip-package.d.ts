/**
 * The slice of the `sip` npm package (kirm/sip 0.0.6, CommonJS, untyped) that the
 * parser benchmark compares against. Shapes are what its `parse` builds eagerly:
 * Via, From, To, Contact, CSeq and Content-Length are parsed, URIs in From/To stay text.
 */
declare module 'sip' {
  export interface SipPackageAddress {
    name?: string;
    uri: string;
    params: Record<string, string | null>;
  }

  export interface SipPackageVia {
    version: string;
    protocol: string;
    host: string;
    port?: number;
    params: Record<string, string | null>;
  }

  export interface SipPackageHeaders {
    via?: SipPackageVia[];
    from?: SipPackageAddress;
    to?: SipPackageAddress;
    cseq?: { seq: number; method: string };
    'call-id'?: string;
    [name: string]: unknown;
  }

  export interface SipPackageMessage {
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    version?: string;
    headers: SipPackageHeaders;
    content?: string;
  }

  interface SipPackage {
    /** Parses one message; the text is taken as latin1 ("binary"). `undefined` when it does not parse. */
    parse(text: string): SipPackageMessage | undefined;
    /** Serialises a message, recomputing Content-Length. */
    stringify(message: SipPackageMessage): string;
  }

  const sip: SipPackage;
  export default sip;
}
