import type { ObjectDetails } from './api.js';
import { baseName } from './keys.js';
import type { Sort } from './place.js';

/** One line of a folder's listing: a sub-folder, or an object with its details. */
export interface Row {
  key: string;
  /** The name under the folder ("b/", "c.txt"). */
  name: string;
  /** The name in lower case, computed once: the search runs over every loaded row at each keystroke. */
  lower: string;
  object: ObjectDetails | undefined;
}

export function folderRow(folder: string, prefix: string): Row {
  const name = baseName(folder, prefix);
  return { key: folder, name, lower: name.toLowerCase(), object: undefined };
}

export function objectRow(object: ObjectDetails, prefix: string): Row {
  const name = baseName(object.key, prefix);
  return { key: object.key, name, lower: name.toLowerCase(), object };
}

/**
 * Rows in the order asked. Names ascending is the server's order, kept as it came (no copy);
 * sub-folders come first in every order, as in a file manager.
 */
export function sortRows(rows: readonly Row[], sort: Sort): readonly Row[] {
  if (sort.by === 'name' && !sort.descending) return rows;
  const sign = sort.descending ? -1 : 1;
  const value =
    sort.by === 'size'
      ? (row: Row) => row.object?.size ?? -1
      : sort.by === 'modified'
        ? (row: Row) => row.object?.lastModified ?? ''
        : (row: Row) => row.key;
  return [...rows].sort((a, b) => {
    if (!a.object !== !b.object) return a.object ? 1 : -1;
    const x = value(a);
    const y = value(b);
    // Equal sizes or times keep the name order, whichever way the column sorts.
    return x < y ? -sign : x > y ? sign : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  });
}

/** The rows whose name contains `search`, case-insensitively (anywhere in the name, not only at its start). */
export function matchRows(rows: readonly Row[], search: string): readonly Row[] {
  const needle = search.toLowerCase();
  return needle === '' ? rows : rows.filter((row) => row.lower.includes(needle));
}
