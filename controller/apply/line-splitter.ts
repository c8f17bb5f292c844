/** Lines of a byte stream (a Pod log read as it arrives), each cut at a bound. */

/** Splits a byte stream into UTF-8 lines, each cut at `maxBytes`. */
export class LineSplitter {
  private carry: Buffer[] = [];
  private carried = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxBytes: number,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      this.keep(chunk.subarray(start, nl));
      this.flush();
      start = nl + 1;
    }
    this.keep(chunk.subarray(start));
  }

  end(): void {
    if (this.carried > 0) this.flush();
  }

  private keep(part: Buffer): void {
    const room = this.maxBytes - this.carried;
    if (room <= 0 || part.length === 0) return;
    const kept = part.length > room ? part.subarray(0, room) : part;
    this.carry.push(Buffer.from(kept)); // a copy: the chunk's memory is not held
    this.carried += kept.length;
  }

  private flush(): void {
    this.onLine(Buffer.concat(this.carry).toString());
    this.carry = [];
    this.carried = 0;
  }
}
