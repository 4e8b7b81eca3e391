/**
 * CSV fields of exports (src/metrics/export-format.ts): RFC 4180 quoting, and text a spreadsheet
 * would run as a formula — agents choose hostnames, labels and string values — made inert,
 * while numbers (negative ones included) stay numbers.
 */
import { describe, expect, it } from 'vitest';
import { csvField, csvLine } from '../src/metrics/export-format.js';

describe('CSV export fields', () => {
  it('quotes commas, quotes and line ends, and leaves plain text and numbers alone', () => {
    expect(csvField('web-01')).toBe('web-01');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(-3.5)).toBe('-3.5');
    expect(csvField(true)).toBe('true');
  });

  it('makes text starting like a formula inert with a leading apostrophe', () => {
    expect(csvField('=HYPERLINK("http://x","click")')).toBe(`"'=HYPERLINK(""http://x"",""click"")"`);
    expect(csvField('+1+1')).toBe("'+1+1");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\t=1')).toBe("'\t=1");
    expect(csvLine(['=cmd', 42, null])).toBe("'=cmd,42,\r\n");
  });
});
