// JSON pointer → line:column of the YAML node it names, so every problem points at the
// offending node rather than at the file.
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function joinPointer(base: string, ...segments: (string | number)[]): string {
  return base + segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/**
 * Finds the node for a pointer: a map entry's value (or its key when `preferKey`), a sequence
 * item; stops at the deepest node that exists. Returns its start offset.
 */
export function offsetOf(doc: Document.Parsed, pointer: string, preferKey = false): number {
  let node = doc.contents as Node | null;
  let offset = node?.range?.[0] ?? doc.range[0];
  const segs = pointerSegments(pointer);
  for (let i = 0; i < segs.length && node; i++) {
    if (isAlias(node)) node = (node.resolve(doc) as Node | undefined) ?? null;
    if (!node) break;
    const seg = segs[i]!;
    let next: Node | null = null;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) break;
      const last = i === segs.length - 1;
      const key = pair.key as Node;
      next = last && preferKey ? key : ((pair.value as Node | null) ?? key);
    } else if (isSeq(node)) {
      next = (node.items[Number(seg)] as Node | undefined) ?? null;
    }
    if (!next) break;
    node = next;
    offset = node.range?.[0] ?? offset;
  }
  return offset;
}

export function positionOf(
  doc: Document.Parsed,
  lineCounter: LineCounter,
  pointer: string,
  preferKey = false,
): { line: number; column: number } {
  const pos = lineCounter.linePos(offsetOf(doc, pointer, preferKey));
  return { line: pos.line, column: pos.col };
}
