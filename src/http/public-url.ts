/**
 * The configured public URL (PUBLIC_URL, config.ts) on the app, where routes that hand out
 * absolute links (ping URLs, update URLs, badge links) read it. Links never come from the
 * request's Host or X-Forwarded-* headers, which the client chooses: a forged Host would
 * otherwise put an attacker's address into links that users copy into their cron jobs.
 */
import type { AddressInfo } from 'node:net';
import { defaultPublicUrl, type Config } from '../config.js';
import type { VigieApp } from './types.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Base of every absolute link, without a trailing slash (e.g. https://vigie.example.com). */
    readonly publicUrl: string;
  }
}

export function installPublicUrl(app: VigieApp, config: Pick<Config, 'publicUrl' | 'host' | 'port'>): void {
  // PORT=0 (tests, a supervisor that picks the port) without PUBLIC_URL: the default names the
  // port the server really listens on, known only once it listens.
  const followsListeningPort = config.port === 0 && config.publicUrl === defaultPublicUrl(config.host, 0);
  app.decorate('publicUrl', {
    getter(): string {
      const address = followsListeningPort ? (app.server.address() as AddressInfo | null) : null;
      return address ? defaultPublicUrl(config.host, address.port) : config.publicUrl;
    },
  });
}
