// The two charts of docs/benchmarks.md, drawn as plain SVG from the numbers (no external service, no dependency).

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (n: number): string => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n >= 10 ? n.toFixed(0) : n.toFixed(1));

export const COLORS: Record<string, string> = {
  direct: '#9e9e9e', fulcrum: '#1565c0', haproxy: '#43a047', nginx: '#fb8c00', node: '#8e24aa',
};

/** Grouped horizontal bars: one group per workload, one bar per contender (requests/s). */
export function dataPathChart(groups: { name: string; bars: { key: string; label: string; value: number | null }[] }[], title: string): string {
  const barH = 16;
  const gap = 4;
  const groupGap = 26;
  const left = 150;
  const width = 760;
  const plotW = width - left - 70;
  const max = Math.max(1, ...groups.flatMap((g) => g.bars.map((b) => b.value ?? 0)));
  const out: string[] = [];
  let y = 56;
  for (const g of groups) {
    out.push(`<text x="10" y="${y + 12}" font-weight="bold">${esc(g.name)}</text>`);
    y += 18;
    for (const b of g.bars) {
      const w = b.value === null ? 0 : Math.max(1, (b.value / max) * plotW);
      out.push(`<text x="${left - 8}" y="${y + barH - 4}" text-anchor="end">${esc(b.label)}</text>`);
      if (b.value === null) out.push(`<text x="${left + 4}" y="${y + barH - 4}" fill="#777">not run</text>`);
      else {
        out.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[b.key] ?? '#607d8b'}"/>`);
        out.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + barH - 4}">${fmt(b.value)}</text>`);
      }
      y += barH + gap;
    }
    y += groupGap - gap;
  }
  const height = y + 10;
  return svg(width, height, title, out);
}

/** Horizontal bars on a log scale (ms): p50 dark, p99 light, with goal lines. */
export function latencyChart(rows: { label: string; p50: number; p99: number; goal?: number }[], title: string): string {
  const left = 330;
  const width = 800;
  const plotW = width - left - 150;
  const rowH = 34;
  const minV = 0.5;
  const maxV = Math.max(1000, ...rows.map((r) => r.p99)) * 1.2;
  const x = (v: number) => left + (Math.log10(Math.max(minV, v) / minV) / Math.log10(maxV / minV)) * plotW;
  const out: string[] = [];
  const top = 60;
  const bottom = top + rows.length * rowH;
  for (const t of [1, 10, 100, 1000, 10000].filter((t) => t <= maxV)) {
    out.push(`<line x1="${x(t).toFixed(1)}" y1="${top - 6}" x2="${x(t).toFixed(1)}" y2="${bottom}" stroke="#ddd"/>`);
    out.push(`<text x="${x(t).toFixed(1)}" y="${bottom + 16}" text-anchor="middle" fill="#555">${t >= 1000 ? `${t / 1000} s` : `${t} ms`}</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(r.label)}</text>`);
    out.push(`<rect x="${left}" y="${y + 2}" width="${(x(r.p99) - left).toFixed(1)}" height="20" fill="#90caf9"/>`);
    out.push(`<rect x="${left}" y="${y + 2}" width="${(x(r.p50) - left).toFixed(1)}" height="20" fill="#1565c0"/>`);
    out.push(`<text x="${left + plotW + 12}" y="${y + 17}" fill="#333">${fmt(r.p50)} / ${fmt(r.p99)} ms</text>`);
    if (r.goal) {
      out.push(`<line x1="${x(r.goal).toFixed(1)}" y1="${y - 1}" x2="${x(r.goal).toFixed(1)}" y2="${y + 25}" stroke="#c62828" stroke-width="2" stroke-dasharray="4 2"/>`);
    }
  });
  out.push(`<rect x="${left}" y="${bottom + 26}" width="14" height="10" fill="#1565c0"/><text x="${left + 18}" y="${bottom + 35}">p50</text>`);
  out.push(`<rect x="${left + 60}" y="${bottom + 26}" width="14" height="10" fill="#90caf9"/><text x="${left + 78}" y="${bottom + 35}">p99</text>`);
  out.push(`<line x1="${left + 130}" y1="${bottom + 31}" x2="${left + 150}" y2="${bottom + 31}" stroke="#c62828" stroke-width="2" stroke-dasharray="4 2"/><text x="${left + 156}" y="${bottom + 35}">goal (p99)</text>`);
  return svg(width, bottom + 50, title, out);
}

function svg(width: number, height: number, title: string, body: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="24" font-size="15" font-weight="bold">${esc(title)}</text>
${body.join('\n')}
</svg>
`;
}
