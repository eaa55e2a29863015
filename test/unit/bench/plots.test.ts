// The benchmark plots: the renderer draws what it is given, and the committed plots and
// docs/benchmarks.md are what scripts/gen-bench-plots.mjs makes of bench/results/*.json.
import { expect } from 'chai';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { axisTicks, figures, renderBarChart, type Results } from '../../../bench/plots/index.js';
import { CommandError, run } from '../../harness/exec.js';

// dist/test/unit/bench → repository root
const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const script = join(root, 'scripts/gen-bench-plots.mjs');

/** Runs the script with --check on copies of docs/ and bench/results/; its stderr, or ''. */
async function checkCopies(change: (docs: string, results: string) => void): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-plots-'));
  try {
    const docs = join(dir, 'docs');
    const results = join(dir, 'results');
    cpSync(join(root, 'docs'), docs, { recursive: true });
    cpSync(join(root, 'bench/results'), results, { recursive: true });
    change(docs, results);
    await run(process.execPath, [script, '--check', '--docs', docs, '--results', results]);
    return '';
  } catch (e) {
    if (e instanceof CommandError && e.exitCode === 1) return e.stderr;
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function results(): Results {
  const out: Results = {};
  for (const name of ['netlink', 'lvsadm', 'sync']) {
    out[name] = JSON.parse(readFileSync(join(root, `bench/results/${name}.json`), 'utf8'));
  }
  return out;
}

describe('bench/plots', () => {
  describe('renderBarChart', () => {
    const chart = renderBarChart({
      title: 'A <test> & more',
      subtitle: 'sub',
      unit: 's',
      bars: [
        { label: 'ipvsadm', value: 4, who: 'ipvsadm' },
        { label: 'ours', value: 1, range: [0.5, 2], who: 'kube-ipvs' },
      ],
    });
    const widths = [...chart.matchAll(/<rect x="310" y="\d+" width="([\d.]+)"/g)].map((m) =>
      Number(m[1]),
    );

    it('draws bar lengths in proportion to the figures', () => {
      expect(widths).to.have.length(2);
      expect((widths[0] as number) / (widths[1] as number)).to.be.closeTo(4, 0.01);
    });

    it('escapes text, labels each bar with its figure, draws a whisker for a range', () => {
      expect(chart).to.contain('<title>A &lt;test&gt; &amp; more</title>');
      expect(chart).to.not.contain('<test>');
      expect(chart).to.contain('>4.00 s</text>');
      expect(chart).to.contain('>1.00 s</text>');
      expect(chart.match(/stroke="#222222"/g)).to.have.length(3);
      expect(chart).to.contain('whisker: fastest to slowest run');
    });

    it('is the same text for the same figures', () => {
      const again = renderBarChart({
        title: 'A <test> & more',
        subtitle: 'sub',
        unit: 's',
        bars: [
          { label: 'ipvsadm', value: 4, who: 'ipvsadm' },
          { label: 'ours', value: 1, range: [0.5, 2], who: 'kube-ipvs' },
        ],
      });
      expect(again).to.equal(chart);
    });
  });

  it('axisTicks: a 1-2-5 step reaching the largest figure', () => {
    expect(axisTicks(33.03)).to.deep.equal([0, 10, 20, 30, 40]);
    expect(axisTicks(4.5)).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(axisTicks(398)).to.deep.equal([0, 100, 200, 300, 400]);
    expect(axisTicks(0.7)).to.deep.equal([0, 0.2, 0.4, 0.6, 0.8]);
  });

  it('plots our figures beside ipvsadm wherever a benchmark measured both', () => {
    const figs = figures(results());
    expect(figs.map((f) => f.file)).to.deep.equal([
      'netlink-write.svg',
      'netlink-read.svg',
      'lvsadm.svg',
      'sync-cold.svg',
      'sync-update.svg',
    ]);
    for (const f of figs.slice(0, 4)) {
      expect(
        f.chart.bars.map((b) => b.who),
        f.file,
      ).to.include.members(['ipvsadm', 'kube-ipvs']);
    }
    const write = figs[0]?.chart.bars ?? [];
    expect(write[0]).to.deep.include({ label: 'ipvsadm -R', value: 33.032680448 });
    expect(write[0]?.range).to.deep.equal([31.548086016, 33.677860352]);
  });

  it("a sync figure's whisker spans every rep, and the slowest change is the slowest of all reps", () => {
    const r = results();
    const daemon = (r.sync as { runs: { daemon: Record<string, number | number[]>[] } }).runs
      .daemon;
    const all = (k: string) => daemon.flatMap((d) => d[k] as number | number[]);
    const figs = figures(r);
    const bar = (file: string, label: string) =>
      figs.find((f) => f.file === file)?.chart.bars.find((b) => b.label === label);
    const resyncS = all('resync_ms').map((ms) => ms / 1000);
    expect(daemon.length).to.be.greaterThan(1);
    const [lo, hi] = bar('sync-cold.svg', 'full resync, no drift')?.range ?? [NaN, NaN];
    expect(lo).to.be.closeTo(Math.min(...resyncS), 1e-9);
    expect(hi).to.be.closeTo(Math.max(...resyncS), 1e-9);
    expect(bar('sync-update.svg', 'p99')?.range).to.deep.equal([
      Math.min(...all('update_p99_ms')),
      Math.max(...all('update_p99_ms')),
    ]);
    expect(bar('sync-update.svg', 'slowest')?.value).to.equal(Math.max(...all('update_max_ms')));
  });

  it('refuses results that lack a plotted figure, naming the file and field', () => {
    const r = results();
    delete (r.netlink as Record<string, unknown>).bindings_dump_s;
    expect(() => figures(r)).to.throw(
      'bench/results/netlink.json: bindings_dump_s is not a number',
    );
  });

  describe('scripts/gen-bench-plots.mjs', function () {
    this.timeout(30_000);

    it('the committed plots and docs/benchmarks.md are up to date (regenerate: npm run bench:plots)', async () => {
      expect(await checkCopies(() => undefined)).to.equal('');
    });

    it('a new result makes the plot and the page stale', async () => {
      const err = await checkCopies((_docs, res) => {
        const file = join(res, 'netlink.json');
        const r = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
        r.ipvsadm_restore_s = 40;
        writeFileSync(file, JSON.stringify(r));
      });
      expect(err).to.contain('netlink-write.svg is stale');
      expect(err).to.contain('benchmarks.md is stale');
      expect(err).to.not.contain('lvsadm.svg');
    });

    it('an edited plot or a plot no longer made is stale', async () => {
      const err = await checkCopies((docs) => {
        writeFileSync(join(docs, 'benchmarks/lvsadm.svg'), '<svg/>\n');
        writeFileSync(join(docs, 'benchmarks/old.svg'), '<svg/>\n');
      });
      expect(err).to.contain('lvsadm.svg is stale');
      expect(err).to.contain('old.svg is no longer generated');
    });
  });
});
