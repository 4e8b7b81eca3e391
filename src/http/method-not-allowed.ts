/**
 * Which methods a path has, for a 405 with `Allow` when a known path is asked with another
 * method (Fastify's router only says "no route", which would be a 404). Route patterns are
 * collected as they are registered and matched the way Fastify's router reads them: static
 * text, `:param` (up to the next `/`, or a param's own regular expression) and a `*` tail.
 * Only misses consult it, so the scan costs nothing on the normal path.
 */
import type { VigieApp } from './types.js';

/** The order of methods in an `Allow` header. HEAD is left out: every GET route answers it. */
const METHOD_ORDER = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const withoutTrailingSlash = (path: string) => (path.length > 1 ? path.replace(/\/+$/, '') : path);

/** A Fastify route pattern as an anchored regular expression over a URL path. */
export function patternToRegExp(pattern: string): RegExp {
  const text = withoutTrailingSlash(pattern);
  const tokens = /:([A-Za-z0-9_]+)(\([^)]*\))?|\*/g;
  let source = '';
  let last = 0;
  for (const match of text.matchAll(tokens)) {
    source += escape(text.slice(last, match.index));
    // A param's own expression is matched on the segment alone, its anchors included.
    source += match[0] === '*' ? '.*' : match[2] ? `(?:${match[2].slice(1, -1).replace(/^\^/, '').replace(/\$$/, '')})` : '[^/]+?';
    last = match.index + match[0].length;
  }
  source += escape(text.slice(last));
  // Built from Vigie's own route table, not from a user's input: the lint rule for users' patterns does not apply.
  // eslint-disable-next-line no-restricted-syntax
  return new RegExp(`^${source}$`);
}

export interface RouteMethods {
  /** The methods some route answers on this path (without its query string), in `Allow` order; empty for an unknown path. */
  allowedOn(path: string): string[];
}

export function trackRouteMethods(app: VigieApp): RouteMethods {
  const byPattern = new Map<string, { regExp: RegExp; methods: Set<string> }>();
  app.addHook('onRoute', (route) => {
    const entry = byPattern.get(route.url) ?? { regExp: patternToRegExp(route.url), methods: new Set<string>() };
    for (const method of [route.method].flat()) if (method !== 'HEAD') entry.methods.add(method);
    byPattern.set(route.url, entry);
  });
  return {
    allowedOn(path) {
      const target = withoutTrailingSlash(path);
      const methods = new Set<string>();
      for (const { regExp, methods: own } of byPattern.values()) if (regExp.test(target)) for (const m of own) methods.add(m);
      const rank = (m: string) => (METHOD_ORDER.includes(m) ? METHOD_ORDER.indexOf(m) : METHOD_ORDER.length);
      return [...methods].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    },
  };
}
