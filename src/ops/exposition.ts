// Merging Prometheus text expositions: every LB's HAProxy exporter says `# HELP`/`# TYPE` for the same families, so
// concatenating them would repeat each family. Samples are grouped by family across sources (one HELP and one TYPE
// each) and their labels rewritten on the way (HAProxy's section names → Scaleway ids).

export type Labels = [name: string, value: string][];

/** Rewrites a sample's labels; null drops the sample. */
export type Relabel = (labels: Labels) => Labels | null;

interface Family {
  help?: string;
  type?: string;
  samples: string[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?\s*$/;
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
  return labels.length ? `{${labels.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}` : '';
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

  /** Adds one source's exposition. Samples belong to the family of the closest HELP/TYPE above them (histogram
   * `_bucket`/`_sum`/`_count` samples included), or are a family of their own. */
  add(text: string, relabel: Relabel = (l) => l): void {
    let current: string | null = null;
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const meta = /^#\s+(HELP|TYPE)\s+(\S+)\s?(.*)$/.exec(line);
      if (meta) {
        const f = this.family(meta[2]);
        if (meta[1] === 'HELP') f.help ??= meta[3];
        else f.type ??= meta[3];
        current = meta[2];
        continue;
      }
      if (line.startsWith('#')) continue;
      const m = SAMPLE.exec(line);
      if (!m) continue;
      const labels = relabel(parseLabels(m[2] ?? ''));
      if (!labels) continue;
      const name = current && m[1].startsWith(current) ? current : m[1];
      this.family(name).samples.push(`${m[1]}${formatLabels(labels)} ${m[3]}${m[4] ? ` ${m[4]}` : ''}`);
    }
  }

  /** Adds one sample of a gauge. */
  gauge(name: string, help: string, labels: Labels, value: number): void {
    const f = this.family(name);
    f.help ??= help;
    f.type ??= 'gauge';
    f.samples.push(`${name}${formatLabels(labels)} ${value}`);
  }

  toString(): string {
    const out: string[] = [];
    for (const [name, f] of this.families) {
      if (f.samples.length === 0) continue;
      if (f.help !== undefined) out.push(`# HELP ${name} ${f.help}`);
      if (f.type !== undefined) out.push(`# TYPE ${name} ${f.type}`);
      out.push(...f.samples);
    }
    return `${out.join('\n')}\n`;
  }
}
