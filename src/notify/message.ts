/**
 * What a notification says, written once for every provider: the subject line, a plain-text
 * body, an HTML body, and the per-monitor pieces (headline and labelled fields) that chat
 * providers render in their own markup. Pure functions: the time zone comes from the tenant,
 * never from the server's environment, so the same notification reads the same everywhere.
 */
import type { MonitorState } from '../monitors/kinds.js';
import type { Notification, NotificationItem } from './notification.js';

export interface ItemField {
  label: string;
  value: string;
}

export interface ItemDescription {
  /** e.g. "api.example.com (http) is DOWN" */
  headline: string;
  fields: ItemField[];
}

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
}

const SUBJECT_MAX_CHARS = 200;
/** A check's message can quote a response; a notification shows its start, so one item always fits a chat message. */
const REASON_MAX_CHARS = 1000;

/** Colours of the HTML headline, one per state, so a glance tells bad news from good. */
const STATE_COLOURS: Record<MonitorState, string> = {
  down: '#c62828',
  warning: '#ef6c00',
  up: '#2e7d32',
  paused: '#616161',
  pending: '#616161',
  maintenance: '#1565c0',
};

export function stateLabel(state: MonitorState): string {
  return state.toUpperCase();
}

/** "1 h 5 min": the two largest non-zero units, rounded down, so it never overstates an outage. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 1000) return 'less than 1 s';
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  let rest = Math.floor(ms);
  for (const [name, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) parts.push(`${count} ${name}`);
    else if (parts.length > 0) break; // "1 h 0 min 30 s" would mislead; "1 h" is the truth rounded down
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A formatter per zone, built once: a delivery loop formats thousands of times with few zones. */
function formatterFor(timeZone: string): Intl.DateTimeFormat | undefined {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
        timeZoneName: 'longOffset',
      });
    } catch {
      return undefined; // RangeError: not a zone this runtime knows
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * "2026-03-14 15:04:05 Europe/Paris (GMT+01:00)": ISO-like order whatever the locale data, with
 * the zone's name and offset so a reader in another zone can convert. An unknown zone falls back
 * to UTC rather than failing a delivery: the time is then still right, only in another zone.
 */
export function formatTime(at: number, timeZone: string): string {
  const zone = formatterFor(timeZone) ? timeZone : 'UTC';
  const parts = Object.fromEntries(
    formatterFor(zone)!
      .formatToParts(new Date(at))
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${zone} (${parts.timeZoneName})`;
}

// Only named entities Telegram's HTML also accepts (&lt; &gt; &amp; &quot;), plus a numeric one.
const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes the five characters that can change the meaning of HTML text or attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ENTITIES[char]!);
}

/** Names from users may hold line breaks; a subject or headline must stay on one line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function describeItem(item: NotificationItem, timeZone: string, kind: Notification['kind']): ItemDescription {
  const still = kind === 'reminder' ? 'still ' : '';
  const fields: ItemField[] = [
    { label: 'Monitor', value: oneLine(item.monitorName) },
    { label: 'Kind', value: item.monitorKind },
    { label: 'State', value: `${stateLabel(item.toState)} (was ${stateLabel(item.fromState)})` },
  ];
  if (item.reason) fields.push({ label: 'Reason', value: truncate(item.reason, REASON_MAX_CHARS) });
  fields.push({ label: 'Time', value: formatTime(item.at, timeZone) });
  if (item.downForMs !== null) fields.push({ label: 'Down for', value: formatDuration(item.downForMs) });
  return { headline: `${oneLine(item.monitorName)} (${item.monitorKind}) is ${still}${stateLabel(item.toState)}`, fields };
}

/** The sentence before the items, when one is needed. */
export function introduction(notification: Notification): string | undefined {
  if (notification.kind === 'test') return 'This is a test message from Vigie: this channel receives notifications.';
  if (notification.kind === 'reminder') return 'Reminder: these incidents are still open.';
  if (notification.items.length > 1) return `${notification.items.length} monitors changed state.`;
  return undefined;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** "[acme] api (http) is DOWN", or for a group "[acme] 3 monitors: 2 DOWN, 1 UP". */
export function renderSubject(notification: Notification): string {
  const { items, kind, tenant } = notification;
  const prefix = kind === 'test' ? 'Test: ' : kind === 'reminder' ? 'Reminder: ' : '';
  let summary: string;
  if (items.length === 1) {
    summary = describeItem(items[0], tenant.timeZone, kind).headline;
  } else {
    const counts = new Map<string, number>();
    for (const item of items) counts.set(stateLabel(item.toState), (counts.get(stateLabel(item.toState)) ?? 0) + 1);
    summary = `${items.length} monitors: ${[...counts].map(([state, count]) => `${count} ${state}`).join(', ')}`;
  }
  return truncate(`[${oneLine(tenant.name)}] ${prefix}${summary}`, SUBJECT_MAX_CHARS);
}

export function footer(notification: Notification): string {
  return `Sent by Vigie for ${oneLine(notification.tenant.name)}.`;
}

export function renderText(notification: Notification): string {
  const blocks: string[] = [];
  const intro = introduction(notification);
  if (intro) blocks.push(intro);
  for (const item of notification.items) {
    const { headline, fields } = describeItem(item, notification.tenant.timeZone, notification.kind);
    blocks.push([headline, ...fields.map(({ label, value }) => `  ${label}: ${value}`)].join('\n'));
  }
  blocks.push(`-- \n${footer(notification)}`);
  return `${blocks.join('\n\n')}\n`;
}

export function renderHtml(notification: Notification): string {
  const out: string[] = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8">',
    `<title>${escapeHtml(renderSubject(notification))}</title>`,
    '</head><body style="font-family: Arial, Helvetica, sans-serif; color: #212121;">',
  ];
  const intro = introduction(notification);
  if (intro) out.push(`<p>${escapeHtml(intro)}</p>`);
  for (const item of notification.items) {
    const { headline, fields } = describeItem(item, notification.tenant.timeZone, notification.kind);
    out.push(`<h2 style="color: ${STATE_COLOURS[item.toState]}; font-size: 18px;">${escapeHtml(headline)}</h2>`);
    out.push('<table cellpadding="4" style="border-collapse: collapse;">');
    for (const { label, value } of fields) {
      out.push(`<tr><th align="left" valign="top">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`);
    }
    out.push('</table>');
  }
  out.push(`<p style="color: #757575; font-size: 12px;">${escapeHtml(footer(notification))}</p>`, '</body></html>');
  return `${out.join('\n')}\n`;
}

export function renderMessage(notification: Notification): RenderedMessage {
  return { subject: renderSubject(notification), text: renderText(notification), html: renderHtml(notification) };
}
