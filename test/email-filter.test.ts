/**
 * The pure parts of e-mail pings: Healthchecks' keyword matching (hc/lib/string.py
 * `match_keywords`: comma-separated, trimmed, case-sensitive substrings), its order (smtpd.py:
 * failure, then success, then start, else ignored), the HTML part's text (hc/lib/html.py
 * `html2text`: tags dropped, script/style skipped, white space collapsed) and recipient addresses.
 */
import { describe, expect, it } from 'vitest';
import { emailAction, htmlToText, matchKeywords, type KeywordFilter } from '../src/heartbeats/email-filter.js';
import { parseRecipient } from '../src/heartbeats/email-recipients.js';

const filter = (over: Partial<KeywordFilter>): KeywordFilter => ({ filterSubject: false, filterBody: false, startKw: '', successKw: '', failureKw: '', defaultFail: false, ...over });
const message = (subject: string, text = '', html = '') => ({ subject, text, html });

describe('keyword matching', () => {
  it('matches any trimmed, non-empty keyword as a case-sensitive substring', () => {
    expect(matchKeywords('Backup FAILED on db-1', ' ok , FAILED ')).toBe(true);
    expect(matchKeywords('Backup failed on db-1', 'FAILED')).toBe(false);
    expect(matchKeywords('anything', ' , ,')).toBe(false);
    expect(matchKeywords('anything', '')).toBe(false);
  });

  it('filtering off: every message is a success, whatever the keywords', () => {
    expect(emailAction(filter({ failureKw: 'ERROR' }), message('ERROR'))).toBe('success');
  });

  it('failure wins over success, success over start; nothing matching is ignored', () => {
    const f = filter({ filterSubject: true, startKw: 'begin', successKw: 'done', failureKw: 'error' });
    expect(emailAction(f, message('begin done error'))).toBe('fail');
    expect(emailAction(f, message('begin done'))).toBe('success');
    expect(emailAction(f, message('begin'))).toBe('start');
    expect(emailAction(f, message('nothing here'))).toBe('ign');
    // Healthchecks' "If no keywords match: classify as failure" (filter_default_fail).
    expect(emailAction({ ...f, defaultFail: true }, message('nothing here'))).toBe('fail');
    expect(emailAction({ ...f, defaultFail: true }, message('done'))).toBe('success');
    expect(emailAction({ ...f, filterSubject: false, defaultFail: true }, message('nothing here'))).toBe('success');
  });

  it('searches only the parts the filter names', () => {
    const subjectOnly = filter({ filterSubject: true, failureKw: 'error' });
    expect(emailAction(subjectOnly, message('fine', 'an error'))).toBe('ign');
    const bodyOnly = filter({ filterBody: true, failureKw: 'error' });
    expect(emailAction(bodyOnly, message('an error', 'fine'))).toBe('ign');
    expect(emailAction(bodyOnly, message('fine', '', '<p>an <i>error</i></p>'))).toBe('fail');
  });
});

describe('the text of an HTML part', () => {
  it('drops tags and the contents of script and style, decodes entities, collapses white space', () => {
    expect(htmlToText('<html><head><style>p{color:red}</style></head><body><p>Backup\n  <b>done</b></p><script>alert("x")</script>&amp; &lt;ok&gt; &#233;&#xe9;</body></html>')).toBe(
      'Backup done& <ok> éé',
    );
    expect(htmlToText('a < b and no closing')).toBe('a');
    expect(htmlToText('<SCRIPT>hidden</SCRIPT>shown')).toBe('shown');
  });

  it('takes linear time on hostile markup', () => {
    const hostile = '<script'.repeat(50_000) + '<'.repeat(100_000);
    const started = performance.now();
    htmlToText(hostile);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('recipient addresses', () => {
  it('reads {uuid}@domain and {ping_key}+{slug}@domain; anything else names no check', () => {
    expect(parseRecipient('0D7E6F52-5C1B-4F4A-9A3B-3D6C0C2B9E11@HC.example.com', 'hc.example.com')).toEqual({ uuid: '0d7e6f52-5c1b-4f4a-9a3b-3d6c0c2b9e11' });
    expect(parseRecipient('Abc_def-0123456789abcd+db-dump_1@hc.example.com', 'hc.example.com')).toEqual({ pingKey: 'Abc_def-0123456789abcd', slug: 'db-dump_1' });
    for (const address of ['0d7e6f52-5c1b-4f4a-9a3b-3d6c0c2b9e11@other.com', 'key+Upper@hc.example.com', 'key+a+b@hc.example.com', 'postmaster@hc.example.com', '@hc.example.com', 'no-at-sign']) {
      expect(parseRecipient(address, 'hc.example.com'), address).toBeNull();
    }
  });
});
