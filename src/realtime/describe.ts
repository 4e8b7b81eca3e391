/**
 * The WebSocket API's description for the OpenAPI document (OpenAPI 3.0 cannot describe a
 * socket's messages), generated from the topic list so that it cannot drift from the code.
 */
import { CLOSE, WS_PATH, WS_SUBPROTOCOL } from './ws-route.js';
import { FILTERS, TOPIC_SPECS, TOPICS } from './topics.js';

export function websocketApiDescription(): string {
  const rows = TOPICS.map((topic) => {
    const spec = TOPIC_SPECS[topic];
    return `| \`${topic}\` | \`${spec.messageType}\` | ${spec.description} | ${spec.filters.map((f) => `\`${f}\``).join(', ') || '—'} |`;
  });
  return [
    `## WebSocket API: \`GET ${WS_PATH}\``,
    '',
    `Authenticate with \`X-API-Key\`, \`Authorization: Bearer <jwt>\`, a \`Sec-WebSocket-Protocol\` entry \`bearer.<jwt>\` or \`apikey.<key>\` offered with \`${WS_SUBPROTOCOL}\`, \`?token=\`, or a first message \`{"action": "auth", "token": "<jwt>"}\` / \`{"action": "auth", "api_key": "<key>"}\`. A socket sees its tenant only; an ingest-only key cannot subscribe.`,
    '',
    'Client messages: `{"action": "subscribe", "id": "<yours>", "stream_type": "<topic>", "filters": {…}}`, `{"action": "unsubscribe", "id": "…"}`, `{"action": "ping"}`.',
    `Filters are lists (an event matches when its field is in every list given; \`labels\` is an object of required label values): ${FILTERS.map((f) => `\`${f}\``).join(', ')}.`,
    '',
    'Server messages: `{"type": "<message type>", "timestamp": "<ISO 8601>", "published_at": "<ISO 8601>", "subscription": "<id>", "seq": <n>, "data": {…}}` for events (`timestamp` is the event\'s own time, its `data.at`; `published_at` is when the server published it, right after the write that produced it committed, so a client measures its delay from it; `seq` counts this socket\'s events from 1: a gap means a loss; after a reconnect, read the REST routes for a fresh snapshot), and `subscribed`, `unsubscribed`, `pong`, `authenticated`, `error` (`detail` names what is wrong; the socket stays open).',
    '',
    '| stream_type | message type | what | filters |',
    '|---|---|---|---|',
    ...rows,
    '',
    `Close codes: ${CLOSE.tryAgainLater} too many clients, ${CLOSE.slowConsumer} slow consumer (send buffer full), ${CLOSE.unauthorized} not authenticated, ${CLOSE.forbidden} not allowed, ${CLOSE.idle} idle timeout.`,
  ].join('\n');
}
