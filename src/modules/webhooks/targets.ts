import { type LookupAddress, lookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { ApiError } from '../../http/errors.js';

/*
 * A webhook must not become a way into the network orgstack runs in: targets that are loopback,
 * private, link-local (cloud metadata lives at 169.254.169.254), shared, multicast or unspecified
 * addresses are refused, when the endpoint is saved and again at every connection (the name may
 * resolve differently by then). Operators can allow chosen networks.
 */

const FORBIDDEN: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

export class TargetPolicy {
  private readonly forbidden = new BlockList();
  private readonly allowed = new BlockList();

  constructor(allowedNetworks: readonly string[]) {
    for (const [address, prefix, family] of FORBIDDEN) this.forbidden.addSubnet(address, prefix, family);
    for (const cidr of allowedNetworks) {
      const [address, bits] = cidr.split('/') as [string, string];
      this.allowed.addSubnet(address, Number(bits), isIP(address) === 6 ? 'ipv6' : 'ipv4');
    }
  }

  /** Whether orgstack may connect to this address. */
  permits(address: string): boolean {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
    const mapped = family === 'ipv6' ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
    if (mapped) return this.permits(mapped);
    if (this.allowed.check(address, family)) return true;
    return !this.forbidden.check(address, family);
  }

  /** Refuses (400) a URL orgstack may not send to: wrong scheme, credentials, or a forbidden address. */
  async checkUrl(raw: string): Promise<URL> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ApiError('invalid_request', '`url` is not a valid URL.', 'url');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ApiError('invalid_request', '`url` must be http:// or https://.', 'url');
    }
    if (url.username || url.password) {
      throw new ApiError('invalid_request', '`url` must not carry credentials.', 'url');
    }
    const addresses = await resolveAll(hostOf(url)).catch(() => {
      throw new ApiError(
        'webhook_target_not_allowed',
        `\`url\` host ${url.hostname} does not resolve.`,
        'url',
      );
    });
    if (addresses.length === 0 || !addresses.every((address) => this.permits(address))) {
      throw new ApiError(
        'webhook_target_not_allowed',
        '`url` resolves to a private, loopback or link-local address, which webhooks may not reach.',
        'url',
      );
    }
    return url;
  }

  /** A `lookup` for http.request that refuses forbidden addresses at connection time. */
  guardedLookup(): typeof lookup {
    type Callback = (error: Error | null, address?: string | LookupAddress[], family?: number) => void;
    return ((hostname: string, options: { all?: boolean } | undefined, callback: Callback) => {
      lookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
        if (error) return callback(error);
        const usable = addresses.filter((entry) => this.permits(entry.address));
        if (usable.length === 0) {
          return callback(
            Object.assign(new Error(`${hostname} resolves to an address webhooks may not reach`), {
              code: 'EADDRNOTALLOWED',
            }),
          );
        }
        if (options?.all) return callback(null, usable);
        return callback(null, usable[0]!.address, usable[0]!.family);
      });
    }) as typeof lookup;
  }
}

/** The host as a resolver or isIP wants it: IPv6 literals lose their brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

function resolveAll(host: string): Promise<string[]> {
  if (isIP(host)) return Promise.resolve([host]);
  return new Promise((resolve, reject) => {
    lookup(host, { all: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses.map((entry) => entry.address)),
    );
  });
}
