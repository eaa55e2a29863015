import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/unit/docs → repository root
const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

// Sources (not dist/) whose requirement citations must resolve in docs/behaviour.md.
const SOURCE_DIRS = ['lib', 'bindings', 'native', 'test', 'bench', 'scripts'];
const SOURCE_EXTS = new Set(['.ts', '.mjs', '.c']);
const CITATION = /\b(?:R\d+\.\d+|G-\d+)\b/g;
// This file names example citations itself; counting them would make the checks below vacuous.
const SELF = 'test/unit/docs/behaviour.test.ts';

function sourceFiles(dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const e of readdirSync(abs, { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(rel));
    else if (SOURCE_EXTS.has(extname(e.name)) && rel !== SELF) out.push(rel);
  }
  return out;
}

interface Citation {
  id: string;
  where: string;
}

function citations(): Citation[] {
  const out: Citation[] = [];
  for (const file of SOURCE_DIRS.flatMap(sourceFiles)) {
    readFileSync(join(root, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const m of line.matchAll(CITATION)) out.push({ id: m[0], where: `${file}:${i + 1}` });
      });
  }
  return out;
}

/** R-numbers are headings ("### R7.5 ..."), G-numbers rows of the gap table ("| G-15 |"). */
function entries(doc: string): Set<string> {
  const out = new Set<string>();
  for (const line of doc.split('\n')) {
    const heading = /^#{2,4}\s+(R\d+\.\d+)\s/.exec(line);
    if (heading?.[1]) out.add(heading[1]);
    const row = /^\|\s*(G-\d+)\s*\|/.exec(line);
    if (row?.[1]) out.add(row[1]);
  }
  return out;
}

/** Backticked repository paths to files (with an extension) that a doc names. */
function namedFiles(doc: string): string[] {
  const re = /`((?:lib|bindings|native|test|bench|scripts|docs)\/[\w./-]+\.[a-z]+)`/g;
  return [...new Set([...doc.matchAll(re)].map((m) => m[1] as string))];
}

/**
 * On a line naming `test/....test.ts` (or a shared scenario file, `test/harness/scenarios/
 * NAME.ts`, whose titles several test files run), every "quoted title" after it, by file.
 */
function quotedTitles(doc: string): { file: string; title: string }[] {
  const out: { file: string; title: string }[] = [];
  for (const line of doc.split('\n')) {
    const m = /`((?:test|bench)\/[\w./-]+\.test\.ts|test\/harness\/scenarios\/[\w-]+\.ts)`/.exec(
      line,
    );
    if (!m?.[1]) continue;
    const rest = line.slice(m.index + m[0].length);
    for (const q of rest.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
      out.push({ file: m[1], title: (q[1] as string).replace(/\\(.)/g, '$1') });
    }
  }
  return out;
}

describe('docs/behaviour.md', () => {
  const doc = readFileSync(join(root, 'docs/behaviour.md'), 'utf8');
  const known = entries(doc);

  it('has an entry for every R- and G-number the sources cite', () => {
    const cited = citations();
    // The scan must see the citations that are known to exist, or it proves nothing.
    expect(cited.length).to.be.greaterThan(50);
    expect(cited.map((c) => c.id)).to.include.members(['R1.1', 'R7.5', 'R16.1', 'G-6']);
    const missing = cited.filter((c) => !known.has(c.id)).map((c) => `${c.id} at ${c.where}`);
    expect(missing, 'cited but not in docs/behaviour.md').to.deep.equal([]);
  });

  it('names only files that exist (behaviour.md and architecture.md)', () => {
    const arch = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
    const named = [...namedFiles(doc), ...namedFiles(arch)];
    expect(named).to.include('test/unit/model/translate.test.ts');
    const absent = named.filter((p) => !existsSync(join(root, p)));
    expect(absent, 'named in docs but not in the repository').to.deep.equal([]);
  });

  it('quotes only test titles that are in the test file named before them', () => {
    const titles = quotedTitles(doc);
    expect(titles.length).to.be.greaterThan(50);
    const wrong = titles
      .filter(({ file, title }) => {
        const path = join(root, file);
        return !existsSync(path) || !readFileSync(path, 'utf8').includes(title);
      })
      .map(({ file, title }) => `${file}: "${title}"`);
    expect(wrong, 'quoted titles not found').to.deep.equal([]);
  });
});
