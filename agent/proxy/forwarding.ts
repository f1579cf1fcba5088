/** How the proxy passes a request on: which headers go, to which path, and why it failed. */

/**
 * Headers that belong to one connection, not to the request (RFC 9110 section 7.6.1): a proxy
 * never passes them on. Everything else passes unchanged, in its order and case.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Raw headers without the hop-by-hop ones (and those Connection names) and `drop`, as a flat
 * list in their order and case.
 */
export function passedHeaders(raw: readonly string[], drop?: string): string[] {
  const named = new Set<string>();
  for (let i = 0; i < raw.length; i += 2)
    if ((raw[i] as string).toLowerCase() === 'connection')
      for (const token of (raw[i + 1] as string).split(',')) named.add(token.trim().toLowerCase());
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(name) || named.has(name) || name === drop) continue;
    out.push(raw[i] as string, raw[i + 1] as string);
  }
  return out;
}

/**
 * The upstream's base path, then the request's path and query as the client sent them. A
 * request in absolute form (`POST http://elsewhere/x`) keeps its path only: the upstream is
 * fixed whatever a request names.
 */
export function joinPath(base: string, url: string): string {
  const prefix = base.replace(/\/+$/, '');
  let path = url;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      const parsed = new URL(url);
      path = `${parsed.pathname}${parsed.search}`;
    } catch {
      path = '/';
    }
  }
  return `${prefix}${path.startsWith('/') ? path : `/${path}`}`;
}

/** Why an upstream could not be reached, as a bounded reason. */
export function failureReason(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EAI_AGAIN':
      return 'unreachable';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return 'reset';
  }
}
