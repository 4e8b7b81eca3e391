/**
 * Healthchecks' keyword filtering of e-mail pings (its `smtpd` command and e-mail docs): with
 * filtering off every message is a success; with it on, the subject and/or the body is searched
 * for comma-separated keywords, case-sensitively, in a fixed order: a failure keyword wins, then
 * a success keyword, then a start keyword; a message matching none is ignored (stored as an
 * `ign` ping that changes nothing), or a failure when the check says so (`filter_default_fail`).
 */

/** A check's filter settings (heartbeat_checks, migration 0014). */
export interface KeywordFilter {
  filterSubject: boolean;
  filterBody: boolean;
  startKw: string;
  successKw: string;
  failureKw: string;
  /** Healthchecks' "If no keywords match": a failure instead of an ignored ping. */
  defaultFail: boolean;
}

/** What an e-mail ping is, as Healthchecks names the actions. */
export type EmailAction = 'success' | 'fail' | 'start' | 'ign';

/** The parts of a message the filter can search. */
export interface MessageText {
  subject: string;
  /** The plain-text part, decoded. */
  text: string;
  /** The HTML part, decoded (its text is searched, not its markup). */
  html: string;
}

export const filteringOn = (filter: KeywordFilter): boolean => filter.filterSubject || filter.filterBody;

/** True when any of the comma-separated keywords (trimmed, empty ones skipped) occurs in `haystack`, case-sensitively. */
export function matchKeywords(haystack: string, keywords: string): boolean {
  return keywords
    .split(',')
    .map((keyword) => keyword.trim())
    .some((keyword) => keyword !== '' && haystack.includes(keyword));
}

/** The text Healthchecks searches: the subject, then the plain part, then the HTML part's text. */
function searchedText(filter: KeywordFilter, message: MessageText): string {
  const chunks: string[] = [];
  if (filter.filterSubject) chunks.push(message.subject);
  if (filter.filterBody) chunks.push(message.text, htmlToText(message.html));
  return chunks.join('\n');
}

export function emailAction(filter: KeywordFilter, message: MessageText): EmailAction {
  if (!filteringOn(filter)) return 'success';
  const text = searchedText(filter, message);
  if (matchKeywords(text, filter.failureKw)) return 'fail';
  if (matchKeywords(text, filter.successKw)) return 'success';
  if (matchKeywords(text, filter.startKw)) return 'start';
  return filter.defaultFail ? 'fail' : 'ign';
}

const SKIPPED_ELEMENTS = new Set(['script', 'style']);
const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/**
 * The visible text of an HTML part, as Healthchecks' html2text gives it: tags dropped, script and
 * style contents skipped, entities decoded, runs of white space made one space. A single linear
 * scan (no regular expression over the markup), since the message comes from anyone.
 */
export function htmlToText(html: string): string {
  const out: string[] = [];
  let skipping: string | null = null;
  let i = 0;
  while (i < html.length) {
    const open = html.indexOf('<', i);
    const textEnd = open === -1 ? html.length : open;
    if (skipping === null && textEnd > i) out.push(html.slice(i, textEnd));
    if (open === -1) break;
    const close = html.indexOf('>', open + 1);
    if (close === -1) break; // an unclosed tag at the end: not text
    const tag = /^<\s*(\/?)\s*([a-z0-9]+)/i.exec(html.slice(open, Math.min(close + 1, open + 40)));
    if (tag) {
      const name = tag[2]!.toLowerCase();
      if (SKIPPED_ELEMENTS.has(name)) skipping = tag[1] === '/' ? null : name;
    }
    i = close + 1;
  }
  return decodeEntities(out.join('')).split(/\s+/).filter(Boolean).join(' ');
}
