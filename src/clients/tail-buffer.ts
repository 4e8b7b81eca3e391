/**
 * Keeps the last `limit` bytes written to it, in bounded memory whatever the total: chunks are
 * dropped from the front once the bytes after them are enough.
 */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(readonly limit: number) {}

  push(chunk: Buffer): void {
    if (chunk.length >= this.limit) {
      this.chunks = [chunk.subarray(chunk.length - this.limit)];
      this.size = this.limit;
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= this.limit) this.size -= this.chunks.shift()!.length;
  }

  /** Exactly the last `limit` bytes (or everything, when less was written). */
  contents(): Buffer {
    const all = Buffer.concat(this.chunks);
    return all.length > this.limit ? all.subarray(all.length - this.limit) : all;
  }
}
