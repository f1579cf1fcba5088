/** A URL's port, the scheme's default where it names none. */
export function portOf(url: string): number {
  const u = new URL(url);
  return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
}

/** The name a runtime's series carry by default: its URL's host:port. */
export function hostPort(url: string): string {
  return `${new URL(url).hostname}:${portOf(url)}`;
}
