// Bytes → YAML documents with source positions, refusing hostile input before it can cost much:
// size cap, NUL bytes (binary), invalid UTF-8, runaway nesting, alias bombs, duplicate keys.
import { CORE_SCHEMA, loadAll } from 'js-yaml';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';

export const MAX_FILE_BYTES = 1024 * 1024;
export const MAX_DEPTH = 64;
export const MAX_ALIAS_COUNT = 100;
export const MAX_DOCUMENTS = 1000;

export interface ParseProblem {
  line: number;
  column: number;
  pointer: string;
  message: string;
}

export interface ParsedDocument {
  index: number; // 0-based within the file
  line: number; // line of the document start
  column: number;
  doc: Document.Parsed;
  value: unknown;
}

export interface ParsedFile {
  documents: ParsedDocument[];
  problems: ParseProblem[];
  lineCounter: LineCounter;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const lenientDecoder = new TextDecoder('utf-8');

/** The checks every file passes before any YAML parser sees it; returns the text or a problem. */
export function decodeYamlFile(content: Uint8Array): { text: string } | { problem: ParseProblem } {
  const fail = (message: string, line = 1, column = 1) => ({ problem: { line, column, pointer: '', message } });
  if (content.byteLength > MAX_FILE_BYTES) {
    return fail(`file is ${content.byteLength} bytes, over the ${MAX_FILE_BYTES}-byte (1 MiB) limit`);
  }
  const nul = content.indexOf(0);
  if (nul >= 0) return fail(`binary file: NUL byte at offset ${nul}; experiment files must be UTF-8 text`);
  let text: string;
  try {
    text = decoder.decode(content);
  } catch {
    const bad = lenientDecoder.decode(content);
    const at = lineCol(bad, bad.indexOf('\uFFFD'));
    return fail('file is not valid UTF-8', at.line, at.column);
  }
  const deep = findDeepNesting(text);
  if (deep >= 0) {
    const at = lineCol(text, deep);
    return fail(`nesting deeper than ${MAX_DEPTH} levels`, at.line, at.column);
  }
  return { text };
}

export interface FastDocument {
  index: number;
  line: number;
  value: unknown;
}

/**
 * The fast path: js-yaml (YAML 1.2 core schema) without positions, used only for files with no
 * anchors or aliases. Any error, or anything odd, returns undefined and the caller takes the
 * full path (yaml with positions), which is also what reports problems.
 */
export function fastParse(text: string): FastDocument[] | undefined {
  if (/[&*][^\s,\]}/'"]/.test(text) || /^%/m.test(text)) return undefined; // anchors, aliases, directives
  let values: unknown[];
  try {
    values = loadAll(text, { schema: CORE_SCHEMA }) as unknown[];
  } catch {
    return undefined;
  }
  if (values.length > MAX_DOCUMENTS) return undefined;
  const starts = documentLines(text);
  if (starts.length !== values.length) return undefined;
  const out: FastDocument[] = [];
  values.forEach((value, index) => {
    if (value === null || value === undefined) return;
    out.push({ index, line: starts[index]!, value });
  });
  return out;
}

// First content line of each document (1-based), the way loadAll counts documents: a `---`
// opens one, `...` closes one, content outside any opens one implicitly.
export function documentLines(text: string): number[] {
  const starts: number[] = [];
  let open = false;
  let start: number | undefined;
  let line = 0;
  // Walks the lines by index (no split); a line whose first non-blank character is plain ASCII is
  // decided here, anything else takes the original regex/trim tests.
  for (let from = 0; from <= text.length; ) {
    let end = text.indexOf('\n', from);
    if (end < 0) end = text.length;
    line++;
    let i = from;
    while (i < end && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    const c = i < end ? text.charCodeAt(i) : -1;
    if (i === from && (c === 45 /* - */ || c === 46) /* . */) {
      const l = text.slice(from, end);
      if (/^---(\s|$)/.test(l)) {
        if (open) starts.push(start ?? line);
        open = true;
        const rest = l.slice(3).trim();
        start = rest && !rest.startsWith('#') ? line : undefined;
      } else if (/^\.\.\.(\s|$)/.test(l)) {
        if (open) starts.push(start ?? line);
        open = false;
        start = undefined;
      } else {
        open = true;
        start ??= line;
      }
    } else if (c > 32 && c < 127) {
      if (c !== 35 /* # */) {
        open = true;
        start ??= line;
      }
    } else if (c !== -1 || i < end) {
      const t = text.slice(from, end).trimStart();
      if (t && !t.startsWith('#')) {
        open = true;
        start ??= line;
      }
    }
    from = end + 1;
  }
  if (open) starts.push(start ?? line);
  return starts;
}

export function parseYamlFile(content: Uint8Array): ParsedFile {
  const lineCounter = new LineCounter();
  const fail = (problem: ParseProblem): ParsedFile => ({ documents: [], problems: [problem], lineCounter });
  const decoded = decodeYamlFile(content);
  if ('problem' in decoded) return fail(decoded.problem);
  const text = decoded.text;

  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true }) as Document.Parsed[];
    if (!Array.isArray(docs)) docs = [];
  } catch (err) {
    return fail({ line: 1, column: 1, pointer: '', message: `YAML could not be parsed: ${(err as Error).message}` });
  }
  if (docs.length > MAX_DOCUMENTS) return fail({ line: 1, column: 1, pointer: '', message: `more than ${MAX_DOCUMENTS} YAML documents in one file` });

  const out: ParsedFile = { documents: [], problems: [], lineCounter };
  const lines = documentLines(text);
  docs.forEach((doc, index) => {
    const pos = lineCounter.linePos(doc.range[0]);
    const start = lines.length === docs.length ? { line: lines[index]!, col: 1 } : pos;
    if (doc.errors.length) {
      for (const e of doc.errors) {
        const pos = lineCounter.linePos(e.pos[0]);
        out.problems.push({ line: pos.line, column: pos.col, pointer: '', message: `YAML: ${firstLine(e.message)}` });
      }
      return;
    }
    if (doc.contents === null) return; // an empty document (only comments, or a trailing ---)
    const tooDeep = deepestNode(doc.contents as Node);
    if (tooDeep) {
      const pos = lineCounter.linePos(tooDeep.range?.[0] ?? doc.range[0]);
      out.problems.push({ line: pos.line, column: pos.col, pointer: '', message: `nesting deeper than ${MAX_DEPTH} levels` });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      out.problems.push({
        line: start.line,
        column: start.col,
        pointer: '',
        message: `YAML: ${firstLine((err as Error).message)} (aliases are limited to ${MAX_ALIAS_COUNT} expansions)`,
      });
      return;
    }
    if (value === null || value === undefined) return; // an empty document, e.g. after a trailing ---
    out.documents.push({ index, line: start.line, column: start.col, doc, value });
  });
  return out;
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return (i < 0 ? s : s.slice(0, i)).replace(/ at line \d+, column \d+:?$/, '');
}

export function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return { line, column: offset - last };
}

// A cheap scan before the YAML parser sees the text: the parser recurses per level and a
// megabyte of '[' or '- - -' exhausts it. Counts flow brackets outside quotes and comments,
// and compact block sequences ("- - -") on one line. Returns the offset where the limit is passed.
function findDeepNesting(text: string): number {
  // The depth only grows on '[' / '{' and the dash count on '-': with at most MAX_DEPTH of each in
  // the whole text neither limit can be passed, so most files skip the character loop.
  if (countUpTo(text, '[', MAX_DEPTH + 1) + countUpTo(text, '{', MAX_DEPTH + 1) <= MAX_DEPTH && countUpTo(text, '-', MAX_DEPTH + 1) <= MAX_DEPTH) {
    return -1;
  }
  let depth = 0;
  let quote = '';
  let lineStart = true;
  let dashes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      lineStart = true;
      dashes = 0;
      if (quote === "'") continue; // quoted scalars may span lines
      continue;
    }
    if (quote) {
      if (c === 92 && quote === '"') i++; // backslash escape
      else if (text[i] === quote) quote = '';
      continue;
    }
    if (c === 35 /* # */ && (i === 0 || text.charCodeAt(i - 1) === 32 || text.charCodeAt(i - 1) === 9 || text.charCodeAt(i - 1) === 10)) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl - 1;
      continue;
    }
    if (lineStart) {
      if (c === 32 || c === 9) continue;
      if (c === 45 /* - */ && (text.charCodeAt(i + 1) === 32 || text.charCodeAt(i + 1) === 10)) {
        if (++dashes > MAX_DEPTH) return i;
        continue;
      }
      lineStart = false;
    }
    if (c === 34 || c === 39) quote = text[i]!;
    else if (c === 91 || c === 123) {
      if (++depth > MAX_DEPTH) return i;
    } else if ((c === 93 || c === 125) && depth > 0) depth--;
  }
  return -1;
}

function countUpTo(text: string, ch: string, limit: number): number {
  let n = 0;
  for (let i = text.indexOf(ch); i >= 0 && n < limit; i = text.indexOf(ch, i + 1)) n++;
  return n;
}

// Iterative depth check on the composed tree (no recursion, so it cannot overflow itself).
function deepestNode(root: Node): Node | undefined {
  const stack: [Node, number][] = [[root, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (depth > MAX_DEPTH) return node;
    if (isMap(node) || isSeq(node)) {
      for (const item of node.items) {
        if (isPair(item)) {
          if (item.key && !isScalar(item.key) && !isAlias(item.key)) stack.push([item.key as Node, depth + 1]);
          if (item.value) stack.push([item.value as Node, depth + 1]);
        } else if (item) stack.push([item as Node, depth + 1]);
      }
    }
  }
  return undefined;
}
