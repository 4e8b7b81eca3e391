/**
 * Public status badges (no key: the URLs are hard to guess and show only a label and a status),
 * in Healthchecks' URL scheme — see src/heartbeats/badge-links.ts. SVG, Healthchecks' JSON, or a
 * shields.io endpoint document. Never cached by proxies or GitHub's image proxy: a badge must
 * show the status of now. Unknown keys, bad signatures and unknown formats are all a plain 404,
 * so a wrong guess learns nothing.
 */
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { ALL_CHECKS, BADGE_FORMATS, type BadgeFormat, type BadgeTarget } from '../heartbeats/badge-links.js';
import { badgeJson, badgeStatusOf, renderBadgeSvg, shieldsJson } from '../heartbeats/badges.js';
import { errorResponses, textResponse } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import type { BadgeLinksService } from '../heartbeats/badge-links.js';

/** `name.fmt` → [name, fmt]; the name may itself hold dots (a tag like `db.eu`). */
function splitFormat(file: string): [string, BadgeFormat] | null {
  const dot = file.lastIndexOf('.');
  if (dot <= 0) return null;
  const format = file.slice(dot + 1);
  return (BADGE_FORMATS as readonly string[]).includes(format) ? [file.slice(0, dot), format as BadgeFormat] : null;
}

const BadgeStatusSchema = Type.Enum(['up', 'late', 'down']);
/** `.json`: Healthchecks' badge JSON. */
const BadgeJsonSchema = Type.Object({ status: BadgeStatusSchema, total: Type.Integer(), grace: Type.Integer(), down: Type.Integer() });
/** `.shields`: a shields.io endpoint document. */
const ShieldsJsonSchema = Type.Object({ schemaVersion: Type.Literal(1), label: Type.String(), message: BadgeStatusSchema, color: Type.String() });
/** Healthchecks' CORS on badges (its `cors("GET")`): any page may fetch a badge's JSON. */
function allowAnyOrigin(reply: FastifyReply): FastifyReply {
  return reply
    .header('access-control-allow-origin', '*')
    .header('access-control-allow-headers', 'X-Api-Key')
    .header('access-control-allow-methods', 'GET, OPTIONS')
    .header('access-control-max-age', '600');
}

function send(reply: FastifyReply, target: BadgeTarget | null, format: BadgeFormat) {
  allowAnyOrigin(reply).header('cache-control', 'no-cache, no-store, must-revalidate');
  if (!target) return reply.status(404).header('content-type', 'text/plain; charset=utf-8').send('not found');
  const summary = badgeStatusOf(target.states, { withLate: target.withLate });
  if (format === 'svg') return reply.header('content-type', 'image/svg+xml; charset=utf-8').send(renderBadgeSvg(target.label, summary.status));
  if (format === 'json') return reply.send(badgeJson(summary));
  return reply.send(shieldsJson(target.label, summary.status));
}

const notFound = (reply: FastifyReply) => send(reply, null, 'svg');

export function registerBadgeRoutes(app: VigieApp, services: { readonly badges: BadgeLinksService }): void {
  const options = (summary: string) => ({
    config: { access: 'public' as const },
    schema: {
      tags: ['badges'],
      summary,
      description:
        'Formats: .svg (image/svg+xml), .json ({status, total, grace, down}), .shields (shields.io endpoint). A signature ending in -2 (or /b/2/) gives two states (up, down: a check in grace counts as up); otherwise three (up, late, down).',
      response: {
        200: {
          description: 'The badge: an SVG document, or JSON by the format asked',
          content: { 'image/svg+xml': { schema: Type.String() }, 'application/json': { schema: Type.Union([BadgeJsonSchema, ShieldsJsonSchema]) } },
        },
        404: textResponse('not found: unknown key, wrong signature or format'),
        ...errorResponses(503),
      },
    },
  });

  app.get('/badge/:key/:file', options("Badge of all the tenant's heartbeat checks: /badge/{badge_key}/{signature}[-2].{format}"), async (request, reply) => {
    const { key, file } = request.params as { key: string; file: string };
    const parts = splitFormat(file);
    if (!parts) return notFound(reply);
    return send(reply, await services.badges.byTag(key, parts[0], ALL_CHECKS), parts[1]);
  });

  app.get('/badge/:key/:signature/:file', options('Badge of the checks with a tag: /badge/{badge_key}/{signature}[-2]/{tag}.{format}'), async (request, reply) => {
    const { key, signature, file } = request.params as { key: string; signature: string; file: string };
    const parts = splitFormat(file);
    if (!parts) return notFound(reply);
    return send(reply, await services.badges.byTag(key, signature, parts[0]), parts[1]);
  });

  app.get('/b/:states/:file', options('Badge of one check: /b/{2|3}/{check badge_key}.{format}'), async (request, reply) => {
    const { states, file } = request.params as { states: string; file: string };
    const parts = splitFormat(file);
    if (!parts || (states !== '2' && states !== '3') || !/^[0-9a-f-]{36}$/.test(parts[0])) return notFound(reply);
    return send(reply, await services.badges.byCheck(parts[0], states === '3'), parts[1]);
  });

  for (const url of ['/badge/:key/:file', '/badge/:key/:signature/:file', '/b/:states/:file']) {
    app.options(url, { config: { access: 'public' }, schema: { tags: ['badges'], summary: 'CORS preflight of a badge', response: { 204: Type.Null() } } }, (_request, reply) => {
      void allowAnyOrigin(reply).status(204).send();
    });
  }
}
