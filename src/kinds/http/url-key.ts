/**
 * What seed 000's duplicate-URL rule compares: the URL as the WHATWG parser writes it, so
 * `HTTPS://EXAMPLE.COM:443/status/500` and `https://example.com/status/500` are one target.
 * Scheme and host are lower-cased, the default port is dropped and an empty path is `/`; the
 * path and query keep their case (servers may tell them apart). Stored as `url_key` (migration
 * 0015), unique per tenant.
 */
export function urlKey(url: string): string {
  return new URL(url).href;
}
