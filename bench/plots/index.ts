// Plots of the benchmark results for docs/benchmarks.md (scripts/gen-bench-plots.mjs).
export {
  renderBarChart,
  axisTicks,
  escapeXml,
  formatValue,
  type Bar,
  type BarChart,
} from './svg.js';
export {
  figures,
  figuresMarkdown,
  spliceBenchmarks,
  BEGIN,
  END,
  type Figure,
  type Results,
} from './figures.js';
