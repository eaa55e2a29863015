// A small unified line diff for failure reports (outputs are a few hundred lines at most).

import { at } from '../../../lib/cli/format/at.js';

export function unifiedDiff(a: string, b: string, aName: string, bName: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  // lcs[i * w + j]: longest common subsequence of x[i..] and y[j..].
  const w = m + 1;
  const lcs = new Array<number>((n + 1) * w).fill(0);
  const L = (i: number, j: number): number => at(lcs, i * w + j);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = x[i] === y[j] ? L(i + 1, j + 1) + 1 : Math.max(L(i + 1, j), L(i, j + 1));
    }
  }
  const out = [`--- ${aName}`, `+++ ${bName}`];
  let i = 0;
  let j = 0;
  const show = (s: string): string => JSON.stringify(s).slice(1, -1);
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      out.push(` ${show(at(x, i))}`);
      i++;
      j++;
    } else if (j < m && (i >= n || L(i, j + 1) >= L(i + 1, j))) {
      out.push(`+${show(at(y, j))}`);
      j++;
    } else {
      out.push(`-${show(at(x, i))}`);
      i++;
    }
  }
  return out.join('\n');
}
