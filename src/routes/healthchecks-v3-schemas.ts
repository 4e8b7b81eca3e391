/**
 * The answers of the Healthchecks API routes (v1, v2 and v3 share these shapes; v1 adds fields),
 * for the OpenAPI document. They document, they do not shape: the Healthchecks scope sends the
 * dictionaries check-dict.ts builds with JSON.stringify (no schema-driven serialiser that could
 * drop or coerce a field), and each object allows more properties than it lists.
 */
import { Type } from 'typebox';
import { HEARTBEAT_STATES } from '../heartbeats/schedule.js';

const open = { additionalProperties: true } as const;
const Iso = (description: string) => Type.Union([Type.String({ description }), Type.Null()]);
const Url = Type.String({ format: 'uri' });

export const V3Check = Type.Object(
  {
    name: Type.String(),
    slug: Type.String(),
    tags: Type.String({ description: 'Space-separated' }),
    desc: Type.String(),
    grace: Type.Integer(),
    n_pings: Type.Integer(),
    status: Type.Enum([...HEARTBEAT_STATES]),
    started: Type.Boolean(),
    last_ping: Iso('ISO 8601 with an offset'),
    next_ping: Iso('When the next ping is expected'),
    manual_resume: Type.Boolean(),
    methods: Type.String({ description: '"" or "POST"' }),
    badge_url: Url,
    timeout: Type.Optional(Type.Integer({ description: 'Simple schedules only' })),
    schedule: Type.Optional(Type.String({ description: 'Cron and OnCalendar schedules only' })),
    tz: Type.Optional(Type.String({ description: 'Cron and OnCalendar schedules only' })),
    unique_key: Type.Optional(Type.String({ description: 'Read-only keys only, instead of uuid and the URLs' })),
    uuid: Type.Optional(Type.String({ format: 'uuid' })),
    ping_url: Type.Optional(Url),
    update_url: Type.Optional(Url),
    pause_url: Type.Optional(Url),
    resume_url: Type.Optional(Url),
    channels: Type.Optional(Type.String({ description: 'Comma-separated channel UUIDs, sorted' })),
  },
  open,
);

export const V3CheckList = Type.Object({ checks: Type.Array(V3Check) }, open);

export const V3PingList = Type.Object(
  {
    pings: Type.Array(
      Type.Object(
        {
          type: Type.String({ description: 'success, fail, start, log or ign' }),
          date: Type.String({ description: 'ISO 8601 with an offset and a fraction of a second' }),
          n: Type.Integer(),
          scheme: Type.String(),
          remote_addr: Type.Union([Type.String(), Type.Null()]),
          method: Type.String(),
          ua: Type.Union([Type.String(), Type.Null()]),
          rid: Type.Union([Type.String(), Type.Null()]),
          duration: Type.Optional(Type.Number({ description: 'Seconds since the matching start' })),
          exitstatus: Type.Union([Type.Integer(), Type.Null()]),
          body_url: Type.Union([Url, Type.Null()]),
        },
        open,
      ),
    ),
  },
  open,
);

export const V3Flips = Type.Object({ flips: Type.Array(Type.Object({ timestamp: Type.String(), up: Type.Union([Type.Literal(0), Type.Literal(1)]) }, open)) }, open);

const BadgeUrls = Type.Object({ svg: Url, svg3: Url, json: Url, json3: Url, shields: Url, shields3: Url }, open);
export const V3Badges = Type.Object({ badges: Type.Record(Type.String(), BadgeUrls, { description: 'Per tag, and "*" for all checks' }) }, open);

export const V3Channels = Type.Object({ channels: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), kind: Type.String() }, open)) }, open);
