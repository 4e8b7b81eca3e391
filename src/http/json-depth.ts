/**
 * A limit on how deeply a JSON request body nests (BODY_MAX_DEPTH, 64 by default). Parsing a
 * 10,000-deep body is cheap, but everything after it that walks the value recursively (schema
 * validation, JSON.stringify, the ingest checks) overflows the stack: a 20 kB body was a 500.
 * The depth is counted on the text before parsing, in one loop without recursion, so the check
 * itself cannot overflow whatever the body.
 */
import { AppError } from '../errors.js';

export const DEFAULT_BODY_MAX_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Whether arrays and objects in the JSON text nest deeper than `maxDepth` (brackets inside strings do not count). */
export function jsonNestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH)
        i++; // the escaped character, which may be a quote
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** 400: the body is well-formed or not, but it is refused before anyone reads it. */
export class JsonTooDeepError extends AppError {
  readonly statusCode = 400;
  constructor(maxDepth: number) {
    super(`JSON body is nested deeper than ${maxDepth} levels (BODY_MAX_DEPTH)`);
  }
}
