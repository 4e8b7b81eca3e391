/**
 * Status badges (issue 5), the pure part: aggregation, the JSON and shields.io shapes Healthchecks
 * serves, and the SVG. Node has no DOMParser, so the SVG goes through a small well-formedness
 * checker below rather than a real XML parser.
 */
import { describe, expect, it } from 'vitest';
import { badgeJson, badgeStatusOf, escapeXml, renderBadgeSvg, shieldsJson, textWidth, type BadgeStatus } from '../src/heartbeats/badges.js';
import type { HeartbeatState } from '../src/heartbeats/schedule.js';

const ENTITY = /&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/y;

/** Every `&` starts a known entity and no raw `<` is left: what XML demands of text and attributes. */
function checkChars(text: string, where: string): void {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '<') throw new Error(`raw "<" in ${where}`);
    if (text[i] === '&') {
      ENTITY.lastIndex = i;
      if (!ENTITY.test(text)) throw new Error(`bare "&" in ${where}: ${text.slice(i, i + 12)}`);
    }
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(text[i]!)) throw new Error(`control character in ${where}`);
  }
}

/**
 * A small XML well-formedness walk: tags, comments and text must tile the whole document,
 * start and end tags must nest, attributes must be quoted and unique, and there must be exactly
 * one root element. Returns the root's name.
 */
function assertWellFormed(xml: string): string {
  const token = /<\?[^?]*\?>|<!--[\s\S]*?-->|<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/y;
  const attribute = /([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  const open: string[] = [];
  let roots = 0;
  let root = '';
  let pos = 0;
  while (pos < xml.length) {
    token.lastIndex = pos;
    const m = token.exec(xml);
    if (!m) throw new Error(`not well-formed at ${pos}: ${xml.slice(pos, pos + 30)}`);
    pos = token.lastIndex;
    const [whole, closing, name, attrs, selfClosing, text] = m;
    if (text !== undefined) {
      if (open.length === 0 && text.trim() !== '') throw new Error('text outside the root element');
      checkChars(text, 'text');
      continue;
    }
    if (!name) continue; // a comment or processing instruction
    if (closing) {
      if (attrs || selfClosing) throw new Error(`malformed end tag ${whole}`);
      const expected = open.pop();
      if (expected !== name) throw new Error(`</${name}> closes <${expected ?? 'nothing'}>`);
      continue;
    }
    const seen = new Set<string>();
    for (const a of (attrs ?? '').matchAll(attribute)) {
      if (seen.has(a[1]!)) throw new Error(`duplicate attribute ${a[1]} on <${name}>`);
      seen.add(a[1]!);
      checkChars(a[2] ?? a[3] ?? '', `attribute ${a[1]}`);
    }
    if (open.length === 0) {
      roots++;
      root = name;
    }
    if (!selfClosing) open.push(name);
  }
  if (open.length > 0) throw new Error(`unclosed <${open.join('>, <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return root;
}

const unescape = (s: string) => s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e]!);

/** The decoded contents of every <text> element, in order. */
const texts = (svg: string) => [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => unescape(m[1]!));
const svgWidth = (svg: string) => Number(/^<svg\b[^>]*\bwidth="(\d+)"/.exec(svg)?.[1]);

describe('assertWellFormed (the checker itself)', () => {
  it('accepts a good document and rejects the usual breakages', () => {
    expect(assertWellFormed('<a x="1"><b/>t &amp; u</a>')).toBe('a');
    expect(() => assertWellFormed('<a><b></a></b>')).toThrow();
    expect(() => assertWellFormed('<a>x & y</a>')).toThrow(/bare/);
    expect(() => assertWellFormed('<a><script>x</a>')).toThrow();
    expect(() => assertWellFormed('<a x="1" x="2"/>')).toThrow(/duplicate/);
    expect(() => assertWellFormed('<a x=1/>')).toThrow();
    expect(() => assertWellFormed('<a/><b/>')).toThrow(/root/);
    expect(() => assertWellFormed('<a>\u0001</a>')).toThrow(/control/);
  });
});

describe('badgeStatusOf', () => {
  it('counts new, up, started and paused checks as up, and an empty set as up', () => {
    expect(badgeStatusOf(['new', 'up', 'started', 'paused'])).toEqual({ status: 'up', total: 4, grace: 0, down: 0 });
    expect(badgeStatusOf([])).toEqual({ status: 'up', total: 0, grace: 0, down: 0 });
  });

  it('is late when any check is in grace and none is down', () => {
    expect(badgeStatusOf(['up', 'grace', 'paused', 'grace'])).toEqual({ status: 'late', total: 4, grace: 2, down: 0 });
  });

  it('is down when any check is down, whatever else is in grace', () => {
    expect(badgeStatusOf(['grace', 'up', 'down', 'started'])).toEqual({ status: 'down', total: 4, grace: 1, down: 1 });
    expect(badgeStatusOf(['down', 'down'])).toEqual({ status: 'down', total: 2, grace: 0, down: 2 });
  });

  it('summarises a single check as Healthchecks does for a per-check badge', () => {
    const one = (s: HeartbeatState) => badgeStatusOf([s]);
    expect(one('grace')).toEqual({ status: 'late', total: 1, grace: 1, down: 0 });
    expect(one('down')).toEqual({ status: 'down', total: 1, grace: 0, down: 1 });
    expect(one('started')).toEqual({ status: 'up', total: 1, grace: 0, down: 0 });
  });

  it('two-state badges (withLate: false) show grace as up but still count it', () => {
    expect(badgeStatusOf(['up', 'grace'], { withLate: false })).toEqual({ status: 'up', total: 2, grace: 1, down: 0 });
    expect(badgeStatusOf(['grace', 'down'], { withLate: false }).status).toBe('down');
  });
});

describe('badgeJson', () => {
  it('has exactly the Healthchecks shape and key order', () => {
    const summary = { ...badgeStatusOf(['up', 'grace', 'down']), extra: 'not for the public' };
    const json = badgeJson(summary);
    expect(json).toStrictEqual({ status: 'down', total: 3, grace: 1, down: 1 });
    expect(JSON.stringify(json)).toBe('{"status":"down","total":3,"grace":1,"down":1}');
  });
});

describe('shieldsJson', () => {
  it('is a shields.io endpoint document with shields colour names', () => {
    const cases: Array<[BadgeStatus, string]> = [
      ['up', 'success'],
      ['late', 'important'],
      ['down', 'critical'],
    ];
    for (const [status, color] of cases) {
      expect(shieldsJson('backups', status)).toStrictEqual({ schemaVersion: 1, label: 'backups', message: status, color });
    }
    expect(JSON.stringify(shieldsJson('db', 'up'))).toBe('{"schemaVersion":1,"label":"db","message":"up","color":"success"}');
  });

  it('refuses a status that is not a badge status', () => {
    expect(() => shieldsJson('x', 'grace' as BadgeStatus)).toThrow(TypeError);
    expect(() => shieldsJson('x', 'toString' as BadgeStatus)).toThrow(TypeError);
  });
});

describe('renderBadgeSvg', () => {
  it('is a well-formed, accessible SVG with the label and the status', () => {
    const svg = renderBadgeSvg('nightly-backup', 'up');
    expect(assertWellFormed(svg)).toBe('svg');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain('role="img"');
    expect(svg).toContain('aria-label="nightly-backup: up"');
    expect(svg).toContain('<title>nightly-backup: up</title>');
    expect(texts(svg)).toEqual(['nightly-backup', 'nightly-backup', 'up', 'up']);
  });

  it('colours the status part green, orange or red', () => {
    expect(renderBadgeSvg('t', 'up')).toContain('fill="#4c1"');
    expect(renderBadgeSvg('t', 'late')).toContain('fill="#fe7d37"');
    expect(renderBadgeSvg('t', 'down')).toContain('fill="#e05d44"');
    expect(() => renderBadgeSvg('t', 'grace' as BadgeStatus)).toThrow(TypeError);
  });

  it('escapes markup, ampersands and quotes in the label, and shows it back unchanged', () => {
    const label = `<script>alert("x")</script> & Tom's "jobs"`;
    const svg = renderBadgeSvg(label, 'down');
    assertWellFormed(svg);
    expect(svg).not.toContain('<script');
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Tom&apos;s');
    expect(texts(svg).slice(0, 2)).toEqual([label, label]);
    const aria = /aria-label="([^"]*)"/.exec(svg)?.[1];
    expect(unescape(aria!)).toBe(`${label}: down`);
  });

  it('stays well-formed with characters XML cannot carry, and with astral characters', () => {
    assertWellFormed(renderBadgeSvg('bad\u0000\u001b\ud800name', 'late'));
    expect(escapeXml('a\u0000b')).toBe('a\uFFFDb');
    const emoji = renderBadgeSvg('🚀 deploy', 'up');
    assertWellFormed(emoji);
    expect(texts(emoji)[0]).toBe('🚀 deploy');
    expect(textWidth('🚀')).toBe(textWidth('\u4e00')); // one character, not two UTF-16 units
    assertWellFormed(renderBadgeSvg('', 'up'));
  });

  it('gets wider with longer labels and wider characters, and its parts add up', () => {
    const short = renderBadgeSvg('db', 'up');
    const long = renderBadgeSvg('database-maintenance-window', 'up');
    expect(svgWidth(long)).toBeGreaterThan(svgWidth(short));
    expect(svgWidth(renderBadgeSvg('WWWW', 'up'))).toBeGreaterThan(svgWidth(renderBadgeSvg('iiii', 'up')));
    expect(svgWidth(renderBadgeSvg('db', 'down'))).toBeGreaterThan(svgWidth(short));

    // Grey label part + coloured status part = whole badge, each padded around its text.
    const [labelRect, statusRect] = [...long.matchAll(/<rect (?:x="(\d+)" )?width="(\d+)" height="20" fill="(?!url)[^"]*"\/>/g)];
    const labelWidth = Number(labelRect![2]);
    expect(Number(statusRect![1])).toBe(labelWidth);
    expect(labelWidth + Number(statusRect![2])).toBe(svgWidth(long));
    expect(labelWidth).toBe(textWidth('database-maintenance-window') + 10);
  });
});
