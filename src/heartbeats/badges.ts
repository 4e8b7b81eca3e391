/**
 * Status badges, as Healthchecks serves them: an aggregate status over a set of heartbeat checks
 * (one check, a tag, or the whole project), rendered as a flat SVG badge, as Healthchecks' JSON,
 * or as a shields.io endpoint document. Pure functions only: the routes choose the checks, the
 * label and the response headers.
 */
import type { HeartbeatState } from './schedule.js';

/** What a badge can say. `late` means "in grace": past its deadline but not yet down. */
export type BadgeStatus = 'up' | 'late' | 'down';

export interface BadgeSummary {
  status: BadgeStatus;
  /** Checks counted, and how many of them are in grace or down (counted even when not shown). */
  total: number;
  grace: number;
  down: number;
}

export interface BadgeOptions {
  /**
   * Healthchecks offers two-state badges (its default URLs, the signature ending in `-2`) that
   * report a check in grace as `up`, and three-state ones that report it as `late`. The counts
   * are the same either way; only `status` differs.
   */
  withLate?: boolean;
}

/**
 * Down if any check is down, else late if any is in grace, else up. A new, started or paused
 * check has missed nothing, so it counts as up — as in Healthchecks, an empty set is up too.
 */
export function badgeStatusOf(states: readonly HeartbeatState[], { withLate = true }: BadgeOptions = {}): BadgeSummary {
  let grace = 0;
  let down = 0;
  for (const state of states) {
    if (state === 'down') down++;
    else if (state === 'grace') grace++;
  }
  const status: BadgeStatus = down > 0 ? 'down' : grace > 0 && withLate ? 'late' : 'up';
  return { status, total: states.length, grace, down };
}

export interface BadgeJson {
  status: BadgeStatus;
  total: number;
  grace: number;
  down: number;
}

/** Healthchecks' `.json` badge. A fresh object, so nothing else a caller hangs on the summary leaks out. */
export function badgeJson(summary: BadgeSummary): BadgeJson {
  return { status: summary.status, total: summary.total, grace: summary.grace, down: summary.down };
}

export interface ShieldsJson {
  schemaVersion: 1;
  label: string;
  message: BadgeStatus;
  color: string;
}

/** shields.io's named colours, which Healthchecks uses so that shields' styles can restyle them. */
const SHIELDS_COLORS: Record<BadgeStatus, string> = { up: 'success', late: 'important', down: 'critical' };

/** The shields.io "endpoint" document (https://shields.io/endpoint) for the `.shields` badge. */
export function shieldsJson(label: string, status: BadgeStatus): ShieldsJson {
  return { schemaVersion: 1, label, message: status, color: colorOf(SHIELDS_COLORS, status) };
}

const SVG_COLORS: Record<BadgeStatus, string> = { up: '#4c1', late: '#fe7d37', down: '#e05d44' };

/**
 * Approximate advance widths (px) of Verdana at 11px, the font badges are drawn in. Characters
 * sharing a width are grouped to keep the table small; the SVG also sets `textLength`, so an
 * error here only changes the padding, never lets text overflow its box.
 */
const WIDTH_GROUPS: ReadonlyArray<readonly [number, string]> = [
  [3.0, "il|'"],
  [3.9, ' .,`j'],
  [4.3, 't!'],
  [4.7, 'r()[]{}fI:;'],
  [5.0, '-/\\J"'],
  [5.7, 'csz?'],
  [6.3, 'FTYL'],
  [6.6, 'aekvxyP*'],
  [6.9, 'bdghnopqu$0123456789_E'],
  [7.5, 'ABCKRSXZV'],
  [8.2, 'DHNU&'],
  [8.7, 'GOQ'],
  [9.0, 'wM#<>=+~^'],
  [10.7, 'mW@%'],
];
const CHAR_WIDTHS = new Map<string, number>(WIDTH_GROUPS.flatMap(([w, chars]) => [...chars].map((c) => [c, w] as const)));

/** Other Latin-like characters average about 7px; CJK and other wide scripts take a full em. */
function charWidth(ch: string): number {
  const known = CHAR_WIDTHS.get(ch);
  if (known !== undefined) return known;
  return (ch.codePointAt(0) ?? 0) >= 0x2e80 ? 11 : 7;
}

/** Iterates code points, not UTF-16 units, so an emoji or astral character counts once. */
export function textWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += charWidth(ch);
  return Math.ceil(width);
}

/**
 * Escapes text for XML content and attribute values alike. Labels are tag and check names that
 * users choose, and the badge URL is public: an unescaped `<` would break the SVG, or worse.
 * Characters XML 1.0 forbids outright (most C0 controls, lone surrogates, U+FFFE/U+FFFF) cannot
 * be escaped at all, so they become U+FFFD instead of making the document malformed.
 */
export function escapeXml(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if ((cp < 0x20 && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d) || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0xfffe || cp === 0xffff) {
      out += '\uFFFD';
    } else if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '"') out += '&quot;';
    else if (ch === "'") out += '&apos;';
    else out += ch;
  }
  return out;
}

/** Rejects a status that is not one of ours, rather than drawing "undefined" (routes pass strings). */
function colorOf(table: Record<BadgeStatus, string>, status: BadgeStatus): string {
  if (!Object.hasOwn(table, status)) throw new TypeError(`unknown badge status: ${String(status)}`);
  return table[status];
}

/** Horizontal padding on each side of each half, as in Healthchecks and shields' flat style. */
const PAD = 5;

/**
 * A two-part flat badge: the label (tag or check name) on grey, the status on its colour.
 * `role="img"`, `aria-label` and `<title>` make it readable by screen readers and give a tooltip;
 * the shadow copies of the text are `aria-hidden` so the label is not read twice.
 */
export function renderBadgeSvg(label: string, status: BadgeStatus): string {
  const color = colorOf(SVG_COLORS, status);
  const labelText = textWidth(label);
  const statusText = textWidth(status);
  const labelWidth = labelText + 2 * PAD;
  const statusWidth = statusText + 2 * PAD;
  const width = labelWidth + statusWidth;
  const labelX = labelWidth / 2;
  const statusX = labelWidth + statusWidth / 2;
  const l = escapeXml(label);
  const title = escapeXml(`${label}: ${status}`);
  // textLength pins each text to the width we measured, so the font the viewer actually has
  // (Verdana, or a fallback) is stretched or squeezed to fit instead of spilling out of its box.
  const text = (x: number, length: number, content: string) =>
    `<text aria-hidden="true" x="${x}" y="15" fill="#010101" fill-opacity=".3" textLength="${length}">${content}</text>` + `<text x="${x}" y="14" textLength="${length}">${content}</text>`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="20" role="img" aria-label="${title}">` +
    `<title>${title}</title>` +
    `<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>` +
    `<clipPath id="r"><rect width="${width}" height="20" rx="3" fill="#fff"/></clipPath>` +
    `<g clip-path="url(#r)">` +
    `<rect width="${labelWidth}" height="20" fill="#555"/>` +
    `<rect x="${labelWidth}" width="${statusWidth}" height="20" fill="${color}"/>` +
    `<rect width="${width}" height="20" fill="url(#s)"/>` +
    `</g>` +
    `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="11">` +
    text(labelX, labelText, l) +
    text(statusX, statusText, status) +
    `</g>` +
    `</svg>\n`
  );
}
