/** Prints `head` and `lines` as columns two spaces apart: the first `leftCols` left-aligned, the rest right-aligned. */
export function printTable(head: readonly string[], lines: readonly (readonly string[])[], leftCols = 1): void {
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  for (const l of [head, ...lines]) console.log(l.map((c, i) => (i < leftCols ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  '));
}
