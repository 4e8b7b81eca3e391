/** A ping's body as it is stored: text, cut to the body limit on a character boundary. */

/**
 * Drops a UTF-8 character cut in two by the body limit, so what is kept is a true prefix of what
 * was sent and stays within the limit (decoding half a character would add a 3-byte U+FFFD).
 */
export function wholeCharacters(bytes: Buffer): Buffer {
  let start = bytes.length - 1;
  while (start >= 0 && bytes.length - start <= 4 && (bytes[start]! & 0xc0) === 0x80) start--; // continuation bytes
  if (start < 0 || bytes[start]! < 0xc0) return bytes; // ends on ASCII or after a whole character
  const lead = bytes[start]!;
  const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
  return bytes.length - start < length ? bytes.subarray(0, start) : bytes;
}

/** The first `limit` bytes of `bytes` as text (no character cut in two). */
export function keptBody(bytes: Buffer, limit: number): string {
  return (bytes.length > limit ? wholeCharacters(bytes.subarray(0, limit)) : bytes).toString('utf8');
}
