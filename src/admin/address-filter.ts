import { BlockList, isIP } from 'node:net';

/** Loopback, always allowed: the console is a management surface for the machine it runs on. */
const LOOPBACK = ['127.0.0.0/8', '::1/128'];

/**
 * Which client addresses `/admin` answers: loopback, plus the networks of `--admin-allow`. The
 * address checked is the TCP peer's (`socket.remoteAddress`), never a header such as
 * `X-Forwarded-For`, which any client can write.
 *
 * @example
 * const filter = new AddressFilter(['10.0.0.0/8', '192.168.1.20/32']);
 * filter.allows('::ffff:10.1.2.3'); // true
 */
export class AddressFilter {
  readonly #list = new BlockList();
  /** The networks given (besides loopback), as `address/prefix`. */
  readonly networks: readonly string[];

  /** `networks`: `address/prefix` or a single address; a malformed entry throws a `TypeError`. */
  constructor(networks: readonly string[] = []) {
    this.networks = [...networks];
    for (const network of [...LOOPBACK, ...networks]) {
      const slash = network.indexOf('/');
      const address = slash < 0 ? network : network.slice(0, slash);
      const family = isIP(address);
      if (family === 0) throw new TypeError(`"${network}" is not a network: give a CIDR such as 10.0.0.0/8 or an IP address`);
      const prefix = slash < 0 ? (family === 4 ? 32 : 128) : Number(network.slice(slash + 1));
      this.#list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** Whether a client at `address` may use the console (false for an unknown address). */
  allows(address: string | undefined): boolean {
    if (address === undefined) return false;
    // An IPv4 client of a dual-stack listener shows as ::ffff:a.b.c.d.
    const plain = address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
    const family = isIP(plain);
    if (family === 0) return false;
    return this.#list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }
}
