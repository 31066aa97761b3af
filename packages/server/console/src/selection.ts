/**
 * The objects picked for a bulk action, by key, and the last one clicked (the anchor of a
 * shift-click range). Immutable: each change is a new value, so a component re-renders on it.
 */
export class Selection {
  static readonly EMPTY = new Selection(new Set(), undefined);

  private constructor(
    readonly keys: ReadonlySet<string>,
    readonly anchor: string | undefined,
  ) {}

  get size(): number {
    return this.keys.size;
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  /**
   * A click on `key`'s box: toggles it, or with shift sets every key between the anchor and it
   * (in `order`, the rows as shown) to the state the clicked one takes.
   */
  click(key: string, shift: boolean, order: readonly string[]): Selection {
    const on = !this.keys.has(key);
    const keys = new Set(this.keys);
    const from = shift && this.anchor !== undefined ? order.indexOf(this.anchor) : -1;
    const to = from === -1 ? -1 : order.indexOf(key);
    if (to === -1) {
      if (on) keys.add(key);
      else keys.delete(key);
    } else {
      for (let i = Math.min(from, to); i <= Math.max(from, to); i++) {
        const each = order[i] as string;
        if (on) keys.add(each);
        else keys.delete(each);
      }
    }
    return new Selection(keys, key);
  }

  /** Every key in `keys` selected, or (when they all were) none of them. */
  toggleAll(keys: readonly string[]): Selection {
    const all = keys.length > 0 && keys.every((key) => this.keys.has(key));
    const next = new Set(this.keys);
    for (const key of keys) {
      if (all) next.delete(key);
      else next.add(key);
    }
    return new Selection(next, undefined);
  }

  /** Only the keys still listed (after a reload, a bulk action, a search that hides some stays selected). */
  without(keys: Iterable<string>): Selection {
    const next = new Set(this.keys);
    for (const key of keys) next.delete(key);
    return new Selection(next, this.anchor);
  }
}
