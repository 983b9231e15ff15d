// Merging Prometheus text expositions: every LB's HAProxy exporter says `# HELP`/`# TYPE` for the same families, so
// concatenating them would repeat each family. Samples are grouped by family across sources (one HELP and one TYPE
// each) and their labels rewritten on the way (HAProxy's section names → Scaleway ids). A scrape of 100 LBs is about
// 100,000 samples: lines are cut with indexOf and labels rewritten as text, without parsing them.

export type Labels = [name: string, value: string][];

/** Rewrites a sample's label text (what is between the braces, possibly empty); null drops the sample. */
export type Relabel = (labelText: string) => string | null;

interface Family {
  help?: string;
  type?: string;
  samples: string[];
}

const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;

export function parseLabels(text: string): Labels {
  const out: Labels = [];
  LABEL.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (LABEL.lastIndex < text.length && (m = LABEL.exec(text))) out.push([m[1], unescape(m[2])]);
  return out;
}

const unescape = (v: string): string => v.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function formatLabels(labels: Labels): string {
  return labels.map(([k, v]) => `${k}="${escape(v)}"`).join(',');
}

export interface Sample {
  name: string;
  /** The label text between the braces, as written. */
  labelText: string;
  /** The value and optional timestamp, as written (`NaN`, `+Inf` and exponents included). */
  rest: string;
}

/**
 * Walks an exposition. Samples belong to the family of the closest HELP/TYPE above them (histogram `_bucket`/`_sum`/
 * `_count` samples included), or are a family of their own.
 */
function forEachLine(text: string, on: { meta?: (kind: 'HELP' | 'TYPE', name: string, rest: string) => void;
  sample: (family: string, s: Sample) => void; }): void {
  let current: string | null = null;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.startsWith('#')) {
      const meta = /^#\s+(HELP|TYPE)\s+(\S+)\s?(.*)$/.exec(line);
      if (meta) {
        on.meta?.(meta[1] as 'HELP' | 'TYPE', meta[2], meta[3]);
        current = meta[2];
      }
      continue;
    }
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    if (space < 0) continue;
    let name: string;
    let labelText = '';
    let rest: string;
    if (brace >= 0 && brace < space) {
      const close = line.lastIndexOf('}');
      if (close < brace) continue;
      name = line.slice(0, brace);
      labelText = line.slice(brace + 1, close);
      rest = line.slice(close + 1).trim();
    } else {
      name = line.slice(0, space);
      rest = line.slice(space + 1).trim();
    }
    if (!name || !rest) continue;
    on.sample(current !== null && name.startsWith(current) ? current : name, { name, labelText, rest });
  }
}

/** Every sample of an exposition. */
export function samplesOf(text: string): Sample[] {
  const out: Sample[] = [];
  forEachLine(text, { sample: (_f, s) => out.push(s) });
  return out;
}

export class Exposition {
  private readonly families = new Map<string, Family>();

  private family(name: string): Family {
    let f = this.families.get(name);
    if (!f) {
      f = { samples: [] };
      this.families.set(name, f);
    }
    return f;
  }

  /** Adds one source's exposition, with each sample's labels rewritten by `relabel`. */
  add(text: string, relabel: Relabel = (l) => l): void {
    forEachLine(text, {
      meta: (kind, name, rest) => {
        const f = this.family(name);
        if (kind === 'HELP') f.help ??= rest;
        else f.type ??= rest;
      },
      sample: (family, s) => {
        const labels = relabel(s.labelText);
        if (labels !== null) this.family(family).samples.push(`${s.name}${labels ? `{${labels}}` : ''} ${s.rest}`);
      },
    });
  }

  /** Adds one sample of a gauge. */
  gauge(name: string, help: string, labels: Labels, value: number): void {
    const f = this.family(name);
    f.help ??= help;
    f.type ??= 'gauge';
    f.samples.push(`${name}${labels.length ? `{${formatLabels(labels)}}` : ''} ${value}`);
  }

  toString(): string {
    const out: string[] = [];
    for (const [name, f] of this.families) {
      if (f.samples.length === 0) continue;
      if (f.help !== undefined) out.push(`# HELP ${name} ${f.help}`);
      if (f.type !== undefined) out.push(`# TYPE ${name} ${f.type}`);
      for (const s of f.samples) out.push(s);
    }
    return `${out.join('\n')}\n`;
  }
}
