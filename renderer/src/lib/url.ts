/**
 * A media URL the host gave us (dataset videos under /files/…), resolved against the page and
 * carrying the page's `?token=` when it points at the same origin: the host requires the token
 * for operator data, and a <video> element cannot send headers. Pure.
 */
export function mediaUrl(url: string, pageHref: string): string {
  const page = new URL(pageHref);
  const u = new URL(url, page);
  const token = page.searchParams.get('token');
  if (token !== null && token !== '' && u.origin === page.origin && !u.searchParams.has('token')) u.searchParams.set('token', token);
  return u.toString();
}
