// A small PromQL reader: enough to list the series selectors (metric name + label matchers) and
// the label names of grouping clauses in an expression. It is a tokenizer with the PromQL rules
// that decide what an identifier is (function, keyword, grouping label or metric name), not a
// full parser; anything it cannot read is thrown as an error so a test fails loudly.

export interface Matcher { label: string; op: '=' | '!=' | '=~' | '!~'; value: string }
export interface Selector { metric: string; matchers: Matcher[] }
export interface ExprRefs { selectors: Selector[]; groupingLabels: string[] }

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'atan2', 'inf', 'nan', 'start', 'end']);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);

type Token =
  | { t: 'ident'; v: string; pos: number }
  | { t: 'labels'; v: Matcher[]; pos: number }
  | { t: 'range'; pos: number }
  | { t: 'punct'; v: string; pos: number }
  | { t: 'string'; v: string; pos: number }
  | { t: 'number'; pos: number };

/** Grafana's $__rate_interval, $var and ${var} become plain values PromQL accepts. */
export function expandGrafanaVariables(expr: string): string {
  return expr.replace(/\$__\w+|\$\{[^}]+\}|\$\w+/g, (m, offset: number) => {
    const before = expr.slice(0, offset);
    const inRange = before.lastIndexOf('[') > before.lastIndexOf(']');
    return inRange ? '5m' : 'grafana_var';
  });
}

function readString(s: string, i: number): [string, number] {
  const q = s[i]!;
  let out = '';
  let j = i + 1;
  for (; j < s.length && s[j] !== q; j++) {
    if (s[j] === '\\' && q !== '`') { out += s[j + 1] ?? ''; j++; } else out += s[j];
  }
  if (j >= s.length) throw new Error(`unterminated string at ${i}`);
  return [out, j + 1];
}

function readMatchers(s: string, i: number): [Matcher[], number] {
  const matchers: Matcher[] = [];
  let j = i + 1;
  const ws = () => { while (/\s/.test(s[j] ?? '')) j++; };
  for (;;) {
    ws();
    if (s[j] === '}') return [matchers, j + 1];
    let label: string;
    if (s[j] === '"' || s[j] === "'") [label, j] = readString(s, j);
    else {
      const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(j));
      if (!m) throw new Error(`bad label matcher at ${j}: ${s.slice(j, j + 20)}`);
      label = m[0];
      j += label.length;
    }
    ws();
    const op = /^(=~|!~|!=|=)/.exec(s.slice(j))?.[1] as Matcher['op'] | undefined;
    if (!op) throw new Error(`bad matcher operator at ${j}`);
    j += op.length;
    ws();
    if (!`"'\``.includes(s[j] ?? '')) throw new Error(`label value must be a string at ${j}`);
    let value: string;
    [value, j] = readString(s, j);
    matchers.push({ label, op, value });
    ws();
    if (s[j] === ',') j++;
    else if (s[j] !== '}') throw new Error(`expected , or } at ${j}`);
  }
}

export function tokenize(expr: string): Token[] {
  const s = expr;
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '#') { while (i < s.length && s[i] !== '\n') i++; continue; }
    if (c === '"' || c === "'" || c === '`') { const [v, j] = readString(s, i); out.push({ t: 'string', v, pos: i }); i = j; continue; }
    if (c === '{') { const [v, j] = readMatchers(s, i); out.push({ t: 'labels', v, pos: i }); i = j; continue; }
    if (c === '[') {
      const j = s.indexOf(']', i);
      if (j < 0) throw new Error(`unterminated [ at ${i}`);
      if (!/^\[\s*[0-9a-z]+(\s*:\s*[0-9a-z]*)?\s*\]$/.test(s.slice(i, j + 1))) throw new Error(`bad range ${s.slice(i, j + 1)}`);
      out.push({ t: 'range', pos: i });
      i = j + 1;
      continue;
    }
    const num = /^(0x[0-9a-f]+|[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?(ms|[smhdwy])?([0-9]+(ms|[smhdwy]))*)/i.exec(s.slice(i));
    if (num && /[0-9.]/.test(c)) { out.push({ t: 'number', pos: i }); i += num[0].length; continue; }
    const id = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(s.slice(i));
    if (id) { out.push({ t: 'ident', v: id[0], pos: i }); i += id[0].length; continue; }
    const p = /^(==|!=|>=|<=|=~|!~|[-+*/%^<>(),@])/.exec(s.slice(i));
    if (p) { out.push({ t: 'punct', v: p[0], pos: i }); i += p[0].length; continue; }
    throw new Error(`unexpected ${JSON.stringify(c)} at ${i}`);
  }
  return out;
}

export function references(expr: string): ExprRefs {
  const tokens = tokenize(expandGrafanaVariables(expr));
  const selectors: Selector[] = [];
  const groupingLabels: string[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k]!;
    const next = tokens[k + 1];
    if (tok.t === 'ident') {
      if (GROUPING.has(tok.v) && next?.t === 'punct' && next.v === '(') {
        // by (a, b) / on (a) / group_left (a): label names up to the closing parenthesis
        let j = k + 2;
        for (; j < tokens.length; j++) {
          const x = tokens[j]!;
          if (x.t === 'punct' && x.v === ')') break;
          if (x.t === 'ident') groupingLabels.push(x.v);
          else if (!(x.t === 'punct' && x.v === ',')) throw new Error(`unexpected token in ${tok.v} (...) at ${x.pos}`);
        }
        k = j;
        continue;
      }
      if (KEYWORDS.has(tok.v.toLowerCase())) continue;
      if (next?.t === 'punct' && next.v === '(') continue; // a function or aggregation
      if (AGGREGATIONS.has(tok.v) && next?.t === 'ident' && (next.v === 'by' || next.v === 'without')) continue; // sum by (x) (...)
      const matchers = next?.t === 'labels' ? next.v : [];
      selectors.push({ metric: tok.v, matchers });
      if (next?.t === 'labels') k++;
      continue;
    }
    if (tok.t === 'labels') {
      // A selector without a name in front: {__name__="x", ...}
      const name = tok.v.find((m) => m.label === '__name__' && m.op === '=');
      if (!name) throw new Error(`selector without a metric name at ${tok.pos}`);
      selectors.push({ metric: name.value, matchers: tok.v.filter((m) => m !== name) });
    }
  }
  return { selectors, groupingLabels };
}
