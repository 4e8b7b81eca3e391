import { Type } from 'typebox';
import type { Channel } from '../alerting/channels.repository.js';
import type { LastDelivery } from '../alerting/delivery-status.js';
import { SEVERITIES, type Severity } from '../alerting/events.js';
import { actorOf } from '../http/access.js';
import { errorResponses, IdParams, NoContent, Nullable, Timestamp, toIso, Uuid } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import { providerFor } from '../notify/index.js';
import { CHANNEL_KINDS, redactConfig, type ChannelKind } from '../notify/provider.js';
import type { Services } from '../services.js';

const CONFIG_DESCRIPTION = [
  "The provider's settings, checked against the kind's schema. Secrets (marked *) are write-only:",
  'never returned, kept by an update that leaves them out, removed by null.',
  "email: {to: [addresses]} (the SMTP relay is the server's, SMTP_* variables).",
  'slack: {url*} (the incoming webhook URL). telegram: {bot_token*, chat_id}. pagerduty: {routing_key*}.',
  'webhook: {url, secret*, headers*} — see the WebhookBody schema for what is POSTed.',
].join(' ');

const Config = Type.Record(Type.String(), Type.Unknown(), { description: CONFIG_DESCRIPTION });
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const Severities = Nullable(Type.Array(Type.Enum([...SEVERITIES]), { minItems: 1, uniqueItems: true, description: 'Only these levels; null: all' }));
const Tags = Nullable(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 50, description: 'Only monitors with one of these tags; null: all' }));

const editable = {
  name: Name,
  config: Config,
  send_resolved: Type.Boolean({ description: 'Also send recoveries (default true)' }),
  severities: Severities,
  tags: Tags,
  is_active: Type.Boolean(),
};

const ChannelCreate = Type.Object(
  {
    name: Name,
    kind: Type.Enum([...CHANNEL_KINDS]),
    config: Config,
    send_resolved: Type.Optional(editable.send_resolved),
    severities: Type.Optional(Severities),
    tags: Type.Optional(Tags),
    is_active: Type.Optional(editable.is_active),
  },
  { additionalProperties: false },
);
const ChannelPatch = Type.Partial(Type.Object(editable), { minProperties: 1, additionalProperties: false });

const ChannelResponse = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: Type.Enum([...CHANNEL_KINDS]),
  config: Type.Record(Type.String(), Type.Unknown(), { description: 'Without its secrets' }),
  secrets_set: Type.Array(Type.String(), { description: 'Names of the secret fields that hold a value' }),
  send_resolved: Type.Boolean(),
  severities: Severities,
  tags: Tags,
  is_active: Type.Boolean(),
  is_default_email: Type.Boolean({ description: "Follows the tenant's notification_email setting" }),
  created_at: Timestamp,
  updated_at: Timestamp,
  last_delivery: Nullable(
    Type.Object(
      {
        status: Type.Enum(['sent', 'failed']),
        at: Timestamp,
        error: Nullable(Type.String({ description: 'What the provider answered, for a failure' })),
      },
      { description: 'The latest delivery attempt of an alert through this channel (test messages aside); null before the first' },
    ),
  ),
});

const TestResponse = Type.Object({
  ok: Type.Boolean(),
  retryable: Type.Boolean({ description: 'For a failure: whether it may pass later' }),
  status: Nullable(Type.Integer({ description: 'HTTP status, or SMTP reply code' })),
  detail: Type.String({ description: 'What the provider answered' }),
});

export function toChannelResponse(channel: Channel, lastDelivery: LastDelivery | null = null) {
  const { config, secretsSet } = redactConfig(providerFor(channel.kind), channel.config);
  return {
    id: channel.id,
    name: channel.name,
    kind: channel.kind,
    config,
    secrets_set: secretsSet,
    send_resolved: channel.sendResolved,
    severities: channel.severities,
    tags: channel.tags,
    is_active: channel.isActive,
    is_default_email: channel.isDefaultEmail,
    created_at: toIso(channel.createdAt),
    updated_at: toIso(channel.updatedAt),
    last_delivery: lastDelivery && { status: lastDelivery.status, at: toIso(lastDelivery.at), error: lastDelivery.error },
  };
}

export function registerChannelRoutes(app: VigieApp, services: Services): void {
  const tags = ['alerting'];
  const notFound = errorResponses(401, 403, 404, 422);

  app.get(
    '/api/v1/channels',
    { config: { access: 'read' }, schema: { tags, summary: 'Notification channels', response: { 200: Type.Array(ChannelResponse), ...errorResponses(401, 403) } } },
    async (request) => {
      const tenantId = actorOf(request).tenantId;
      const last = await services.channels.lastDeliveries(tenantId);
      return (await services.channels.list(tenantId)).map((channel) => toChannelResponse(channel, last.get(channel.id) ?? null));
    },
  );

  app.post(
    '/api/v1/channels',
    {
      config: { access: 'write' },
      schema: { tags, summary: 'Create a channel (e-mail, Slack, Telegram, PagerDuty, webhook)', body: ChannelCreate, response: { 201: ChannelResponse, ...errorResponses(401, 403, 409, 422) } },
    },
    async (request, reply) => {
      const body = request.body;
      const channel = await services.channels.create(actorOf(request).tenantId, {
        name: body.name,
        kind: body.kind as ChannelKind,
        config: body.config,
        sendResolved: body.send_resolved,
        severities: body.severities as Severity[] | null | undefined,
        tags: body.tags,
        isActive: body.is_active,
      });
      return reply.status(201).send(toChannelResponse(channel));
    },
  );

  app.get('/api/v1/channels/:id', { config: { access: 'read' }, schema: { tags, summary: 'One channel', params: IdParams, response: { 200: ChannelResponse, ...notFound } } }, async (request) => {
    const tenantId = actorOf(request).tenantId;
    const channel = await services.channels.get(tenantId, request.params.id);
    return toChannelResponse(channel, (await services.channels.lastDeliveries(tenantId, channel.id)).get(channel.id) ?? null);
  });

  app.patch(
    '/api/v1/channels/:id',
    {
      config: { access: 'write' },
      schema: {
        tags,
        summary: 'Change a channel; secrets left out of config are kept',
        params: IdParams,
        body: ChannelPatch,
        response: { 200: ChannelResponse, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      const body = request.body;
      const tenantId = actorOf(request).tenantId;
      const channel = await services.channels.update(tenantId, request.params.id, {
        name: body.name,
        config: body.config,
        sendResolved: body.send_resolved,
        severities: body.severities as Severity[] | null | undefined,
        tags: body.tags,
        isActive: body.is_active,
      });
      return toChannelResponse(channel, (await services.channels.lastDeliveries(tenantId, channel.id)).get(channel.id) ?? null);
    },
  );

  app.delete(
    '/api/v1/channels/:id',
    { config: { access: 'write' }, schema: { tags, summary: 'Delete a channel and its queued messages', params: IdParams, response: { 204: NoContent, ...errorResponses(401, 403, 404, 409, 422) } } },
    async (request, reply) => {
      await services.channels.remove(actorOf(request).tenantId, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/channels/:id/test',
    {
      config: { access: 'write' },
      schema: { tags, summary: "Send a test message now and report the provider's answer", params: IdParams, response: { 200: TestResponse, ...notFound } },
    },
    async (request) => {
      const result = await services.channels.test(actorOf(request).tenantId, request.params.id);
      return { ok: result.ok, retryable: result.ok ? false : result.retryable, status: result.status ?? null, detail: result.detail };
    },
  );
}
