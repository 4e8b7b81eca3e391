/**
 * `npm install` prints no EBADENGINE warning: every package in package-lock.json accepts the
 * running Node in its `engines.node` range (package.json's overrides pin the ones that did not).
 * The range check covers the forms the lock file uses: `||` alternatives, space-separated
 * comparators, `>=`, `>`, `<`, `<=`, `^`, `~`, `=`, bare and `x` versions, and `*`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

type Version = [number, number, number];

function parseVersion(text: string): { version: Version; given: number } {
  const parts = text
    .replace(/^v/, '')
    .split('.')
    .filter((part) => part !== '' && !/^[x*]$/i.test(part));
  const numbers = parts.map((part) => Number.parseInt(part, 10));
  if (numbers.some((n) => Number.isNaN(n))) throw new Error(`cannot read version "${text}"`);
  return { version: [numbers[0] ?? 0, numbers[1] ?? 0, numbers[2] ?? 0], given: numbers.length };
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** The exclusive upper bound of a partial or caret/tilde version. */
function bump(version: Version, index: number): Version {
  const next: Version = [...version];
  next[index]! += 1;
  for (let i = index + 1; i < 3; i++) next[i] = 0;
  return next;
}

function satisfiesComparator(node: Version, comparator: string): boolean {
  const match = /^(>=|<=|>|<|=|\^|~)?\s*(.+)$/.exec(comparator.trim());
  if (!match) throw new Error(`cannot read comparator "${comparator}"`);
  const [, operator = '', text = ''] = match;
  if (text === '*' || /^x$/i.test(text)) return true;
  const { version, given } = parseVersion(text);
  const c = compare(node, version);
  switch (operator) {
    case '>=':
      return c >= 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    case '<':
      return c < 0;
    case '^': {
      const firstNonZero = version[0] !== 0 || given === 1 ? 0 : version[1] !== 0 || given === 2 ? 1 : 2;
      return c >= 0 && compare(node, bump(version, firstNonZero)) < 0;
    }
    case '~':
      return c >= 0 && compare(node, bump(version, given >= 2 ? 1 : 0)) < 0;
    default:
      // `20`, `20.x`, `=20.1.2`: everything the given parts fix.
      return given >= 3 ? c === 0 : c >= 0 && compare(node, bump(version, given - 1)) < 0;
  }
}

function satisfies(nodeVersion: string, range: string): boolean {
  const node = parseVersion(nodeVersion).version;
  return range.split('||').some((alternative) => {
    const comparators = alternative
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .filter(Boolean);
    return comparators.length === 0 || comparators.every((comparator) => satisfiesComparator(node, comparator));
  });
}

describe('engines of installed packages', () => {
  it('reads the range forms the lock file uses', () => {
    expect(satisfies('20.20.2', '>=20.12')).toBe(true);
    expect(satisfies('20.20.2', '>= 18')).toBe(true);
    expect(satisfies('20.20.2', '>=22')).toBe(false);
    expect(satisfies('20.20.2', '^20.19.0 || ^22.13.0 || >=24')).toBe(true);
    expect(satisfies('20.18.0', '^20.19.0 || ^22.13.0 || >=24')).toBe(false);
    expect(satisfies('20.20.2', '^18.18.0 || ^20.9.0 || >=21.1.0')).toBe(true);
    expect(satisfies('20.20.2', '20.x || 22.x || 23.x')).toBe(true);
    expect(satisfies('21.0.0', '20.x || 22.x')).toBe(false);
    expect(satisfies('20.20.2', '18 || 20 || >=22')).toBe(true);
    expect(satisfies('21.5.0', '18 || 20 || >=22')).toBe(false);
    expect(satisfies('20.20.2', '>=16 || 14 >=14.17')).toBe(true);
    expect(satisfies('14.10.0', '>=16 || 14 >=14.17')).toBe(false);
    expect(satisfies('20.20.2', '^10 || ^12 || >=14')).toBe(true);
    expect(satisfies('20.20.2', '*')).toBe(true);
    expect(satisfies('20.20.2', '>= 10.x')).toBe(true);
    expect(satisfies('20.20.2', '~20.20.0')).toBe(true);
    expect(satisfies('20.21.0', '~20.20.0')).toBe(false);
    expect(satisfies('20.20.2', '<20')).toBe(false);
  });

  it('every package in package-lock.json accepts the running Node', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };
    const refused = Object.entries(lock.packages)
      .flatMap(([path, entry]) => {
        const range = entry.engines && !Array.isArray(entry.engines) ? entry.engines.node : undefined;
        return range !== undefined && !satisfies(process.versions.node, range) ? [`${path || 'vigie'}@${entry.version ?? '?'} wants node ${range}`] : [];
      })
      .sort();
    expect(refused, `running Node ${process.versions.node}`).toEqual([]);
  });
});
