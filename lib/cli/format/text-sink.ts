// A listing of 100k destinations is 7 MB of text built from short lines. Kept as string
// concatenations, every line survives as a tree of small strings that each young-generation
// collection copies; written at once into one growing buffer, a line dies young.

export class TextSink {
  private buf = Buffer.allocUnsafe(1 << 16);
  private len = 0;

  append(s: string): void {
    // A UTF-8 byte is at most three per UTF-16 unit.
    const need = this.len + s.length * 3;
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  toString(): string {
    return this.buf.toString('utf8', 0, this.len);
  }
}
