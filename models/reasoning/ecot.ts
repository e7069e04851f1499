/**
 * Incremental ECoT field parser: fed decoded token ids as they are committed, it tracks which
 * field (TASK, PLAN, VISIBLE OBJECTS, SUBTASK, MOVE, GRIPPER, ...) each token belongs to and
 * reports the fields that changed, so the UI can show them while decoding. Text comes from an
 * injected `decode(ids)` (the bundle's tokenizer). Pure.
 */
export interface EcotConfig {
  /** Marker token id → field name. */
  fieldMarkers: ReadonlyMap<number, string> | Record<string, number>;
  reasoningBegin?: number;
  reasoningEnd?: number;
  actionBegin: number;
  /** Fields the plan cache may reuse, in order (a prefix of the field order). */
  planFields?: readonly string[];
  decode: (ids: readonly number[]) => string;
}

export type EcotFields = Record<string, string>;

export class EcotParser {
  private readonly markers: Map<number, string>;
  private current: string | undefined;
  private readonly ids = new Map<string, number[]>();
  private readonly raw: number[] = [];
  private planEnd = -1;
  private inActions = false;
  private readonly planSet: Set<string>;

  constructor(private readonly cfg: EcotConfig) {
    this.markers =
      cfg.fieldMarkers instanceof Map
        ? new Map(cfg.fieldMarkers)
        : new Map(Object.entries(cfg.fieldMarkers).map(([name, id]) => [id, name]));
    this.planSet = new Set(cfg.planFields ?? []);
  }

  /** Feeds committed tokens; returns the names of fields whose text changed. */
  push(tokens: readonly number[]): string[] {
    const changed = new Set<string>();
    for (const t of tokens) {
      if (this.inActions) continue;
      this.raw.push(t);
      if (t === this.cfg.actionBegin || t === this.cfg.reasoningEnd) {
        this.closePlan();
        this.current = undefined;
        if (t === this.cfg.actionBegin) this.inActions = true;
        continue;
      }
      if (t === this.cfg.reasoningBegin) continue;
      const field = this.markers.get(t);
      if (field !== undefined) {
        if (!this.planSet.has(field)) this.closePlan();
        this.current = field;
        if (!this.ids.has(field)) this.ids.set(field, []);
        changed.add(field);
        continue;
      }
      if (this.current !== undefined) {
        this.ids.get(this.current)!.push(t);
        changed.add(this.current);
      }
    }
    return [...changed];
  }

  private closePlan(): void {
    // the plan segment ends before the first marker of a non-plan field (or the reasoning end)
    if (this.planEnd < 0 && this.planSet.size > 0 && [...this.planSet].every((f) => this.ids.has(f))) {
      this.planEnd = this.raw.length - 1;
    }
  }

  fields(): EcotFields {
    const out: EcotFields = {};
    for (const [name, ids] of this.ids) out[name] = this.cfg.decode(ids).trim();
    return out;
  }

  field(name: string): string | undefined {
    const ids = this.ids.get(name);
    return ids === undefined ? undefined : this.cfg.decode(ids).trim();
  }

  /** Tokens from the start of the answer through the last plan field, once complete (for the plan cache). */
  planTokens(): number[] | undefined {
    return this.planEnd < 0 ? undefined : this.raw.slice(0, this.planEnd);
  }

  /** Number of fields seen so far (a new one means the previous field is complete). */
  get fieldCount(): number {
    return this.ids.size;
  }

  /** True once the action segment began. */
  get actionsStarted(): boolean {
    return this.inActions;
  }
}
