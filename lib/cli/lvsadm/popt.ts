// The slice of libpopt 1.19's poptGetNextOpt that ipvsadm's option table exercises:
// "--long[=arg]", short clusters ("-Ln", "-t1.2.3.4:80", "-p=60"), "--" and leftovers.

import { at } from '../format/at.js';

export type ArgKind = 'none' | 'string' | 'optional';

export interface PoptOption {
  long: string | null;
  short: string | null;
  kind: ArgKind;
  val: number | string;
}

export type PoptEvent =
  | { type: 'opt'; val: number | string; arg: string | null }
  | { type: 'end' }
  | { type: 'error'; message: 'unknown option' | 'missing argument' };

export class Popt {
  private next = 1;
  private nextCharArg: string | null = null;
  private restLeftover = false;
  private readonly leftovers: string[] = [];
  private nextLeftover = 0;

  constructor(
    private readonly argv: readonly string[],
    private readonly table: readonly PoptOption[],
  ) {}

  /** poptBadOption(POPT_BADOPTION_NOALIAS): the argv word consumed last. */
  badOption(): string {
    return this.argv[this.next - 1] ?? '';
  }

  /** poptGetArg */
  getArg(): string | null {
    if (this.nextLeftover < this.leftovers.length) return at(this.leftovers, this.nextLeftover++);
    return null;
  }

  getNextOpt(): PoptEvent {
    const argc = this.argv.length;
    for (;;) {
      if (this.nextCharArg === null && this.next === argc) return { type: 'end' };
      let opt: PoptOption | undefined;
      let longArg: string | null = null;
      if (this.nextCharArg === null) {
        const word = at(this.argv, this.next++);
        if (this.restLeftover || !word.startsWith('-') || word === '-') {
          this.leftovers.push(word);
          continue;
        }
        if (word === '--') {
          this.restLeftover = true;
          continue;
        }
        let s = word.slice(1);
        const oneDash = !s.startsWith('-');
        if (!oneDash) s = s.slice(1);
        const eq = s.indexOf('=');
        const name = eq >= 0 ? s.slice(0, eq) : s;
        if (eq >= 0) longArg = s.slice(eq + 1);
        // No ipvsadm option is POPT_ARGFLAG_ONEDASH, so "-word" is always a short cluster.
        if (!oneDash) {
          opt = this.table.find((o) => o.long !== null && o.long === name);
          if (!opt) return { type: 'error', message: 'unknown option' };
        } else {
          this.nextCharArg = word.slice(1);
          longArg = null;
        }
      }
      if (this.nextCharArg !== null) {
        const cluster = this.nextCharArg;
        this.nextCharArg = null;
        const ch = at(cluster, 0);
        opt = this.table.find((o) => o.short === ch);
        if (!opt) return { type: 'error', message: 'unknown option' };
        const rest = cluster.slice(1);
        if (rest !== '') this.nextCharArg = rest.startsWith('=') ? rest.slice(1) : rest;
      }
      if (!opt) return { type: 'error', message: 'unknown option' };
      let arg: string | null = null;
      if (opt.kind !== 'none') {
        if (longArg !== null) arg = longArg;
        else if (this.nextCharArg !== null) {
          arg = this.nextCharArg;
          this.nextCharArg = null;
        } else if (this.next === argc) {
          if (opt.kind !== 'optional') return { type: 'error', message: 'missing argument' };
          arg = null;
        } else if (opt.kind === 'optional' && at(this.argv, this.next).startsWith('-')) {
          arg = null;
        } else {
          arg = at(this.argv, this.next++);
        }
      }
      return { type: 'opt', val: opt.val, arg };
    }
  }
}
