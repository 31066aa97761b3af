import { useCallback, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ObjectDetails } from '../api.js';
import type { Row } from '../folder-rows.js';
import { formatBytes, formatDate } from '../format.js';
import type { Sort, SortColumn } from '../place.js';
import type { Selection } from '../selection.js';
import { RowActions } from './RowActions.js';

export interface ListingActions {
  openFolder(prefix: string): void;
  preview(object: ObjectDetails): void;
  download(object: ObjectDetails): void;
  share(object: ObjectDetails): void;
  move(key: string, folder: boolean): void;
  copy(key: string, folder: boolean): void;
  remove(key: string, folder: boolean): void;
}

/** A first guess of a row's height in pixels; the first row drawn gives the real one. */
const ROW_HEIGHT_GUESS = 42;
/** Rows drawn above and below the visible ones, so a quick scroll does not show blank space. */
const OVERSCAN = 10;

const SORTABLE: Array<{ by: SortColumn; label: string; wideOnly?: boolean }> = [
  { by: 'name', label: 'Name' },
  { by: 'size', label: 'Size' },
  { by: 'modified', label: 'Modified', wideOnly: true },
];

/**
 * A folder's rows (sub-folders, then objects), as many as were loaded: only those in view (and a
 * few around them) are in the document, between two empty blocks as tall as the rows left out, so
 * 100,000 rows scroll as smoothly as 100. The blocks are outside the table, where they cannot add
 * columns of their own. The header sticks to the top of the scrolled box.
 */
export function Listing({
  prefix,
  rows,
  sort,
  onSort,
  selection,
  onSelect,
  onSelectAll,
  empty,
  actions,
  resetScroll,
}: {
  prefix: string;
  /** The rows to show, in order (searched and sorted). */
  rows: readonly Row[];
  sort: Sort;
  onSort: (by: SortColumn) => void;
  selection: Selection;
  /** A click on an object's box; `shift` extends from the previous click. */
  onSelect: (key: string, shift: boolean) => void;
  /** The header's box: every object shown, or none. */
  onSelectAll: () => void;
  /** What to say when there are no rows. */
  empty: string;
  actions: ListingActions;
  /** A change of this (a new search or order) scrolls back to the first row. */
  resetScroll: string;
}) {
  const scroller = useRef<HTMLDivElement | null>(null);
  const firstRow = useRef<HTMLTableRowElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(800);
  const [rowHeight, setRowHeight] = useState(ROW_HEIGHT_GUESS);
  const frame = useRef<number | undefined>(undefined);

  const resized = useRef<ResizeObserver | undefined>(undefined);
  // The scrolled box comes and goes with the rows (an empty folder has none): watched while there.
  const box = useCallback((element: HTMLDivElement | null) => {
    scroller.current = element;
    resized.current?.disconnect();
    resized.current = undefined;
    if (!element) return;
    resized.current = new ResizeObserver(() => setViewport(element.clientHeight));
    resized.current.observe(element);
  }, []);
  // The rows' real height (fonts, zoom, a phone's layout), measured once drawn (not while a phone's row menu makes it taller).
  useLayoutEffect(() => {
    if (firstRow.current?.querySelector('.row-actions[data-open="true"]')) return;
    const height = firstRow.current?.getBoundingClientRect().height;
    if (height && Math.abs(height - rowHeight) > 0.5) setRowHeight(height);
  });

  useLayoutEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 0;
    setScrollTop(0);
  }, [resetScroll]);

  const objectKeys = useMemo(() => rows.filter((row) => row.object).map((row) => row.key), [rows]);
  const selectedShown = useMemo(() => objectKeys.filter((key) => selection.has(key)).length, [objectKeys, selection]);

  if (rows.length === 0) return <p class="empty">{empty}</p>;

  const onScroll = () => {
    if (frame.current !== undefined) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = undefined;
      if (scroller.current) setScrollTop(scroller.current.scrollTop);
    });
  };
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + viewport) / rowHeight) + OVERSCAN);
  const allSelected = objectKeys.length > 0 && selectedShown === objectKeys.length;

  return (
    <div class="table-scroll listing-scroll" ref={box} onScroll={onScroll}>
      <div style={{ height: `${first * rowHeight}px` }} />
      <table class="listing" aria-rowcount={rows.length + 1}>
        <caption class="visually-hidden">Contents of {prefix || 'the top level'}</caption>
        <thead>
          <tr aria-rowindex={1}>
            <th scope="col" class="pick">
              <input
                type="checkbox"
                aria-label={`Select all ${objectKeys.length.toLocaleString()} objects shown`}
                checked={allSelected}
                indeterminate={selectedShown > 0 && !allSelected}
                disabled={objectKeys.length === 0}
                onClick={onSelectAll}
              />
            </th>
            {SORTABLE.map(({ by, label, wideOnly }) => (
              <th
                key={by}
                scope="col"
                class={`col-${by}${wideOnly ? ' wide-only' : ''}`}
                aria-sort={sort.by === by ? (sort.descending ? 'descending' : 'ascending') : undefined}
              >
                <button type="button" class="sort" onClick={() => onSort(by)}>
                  {label}
                  <span aria-hidden="true" class="arrow">
                    {sort.by === by ? (sort.descending ? '▼' : '▲') : ''}
                  </span>
                </button>
              </th>
            ))}
            <th scope="col" class="col-type wide-only roomy-only">
              Type
            </th>
            <th scope="col" class="col-expires wide-only roomy-only">
              Expires
            </th>
            <th scope="col" class="col-actions">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows
            .slice(first, last)
            .map((row, i) =>
              row.object ? (
                <ObjectRow
                  key={`o:${row.key}`}
                  row={row}
                  object={row.object}
                  index={first + i}
                  rowRef={i === 0 ? firstRow : undefined}
                  selected={selection.has(row.key)}
                  onSelect={onSelect}
                  actions={actions}
                />
              ) : (
                <FolderRow key={`f:${row.key}`} row={row} index={first + i} rowRef={i === 0 ? firstRow : undefined} actions={actions} />
              ),
            )}
        </tbody>
      </table>
      <div style={{ height: `${(rows.length - last) * rowHeight}px` }} />
    </div>
  );
}

type RowRef = { current: HTMLTableRowElement | null } | undefined;

function FolderRow({ row, index, rowRef, actions }: { row: Row; index: number; rowRef: RowRef; actions: ListingActions }) {
  const { key: folder, name } = row;
  return (
    <tr ref={rowRef} data-folder={folder} aria-rowindex={index + 2}>
      <td class="pick" />
      <th scope="row">
        <button type="button" class="link folder" title={name} onClick={() => actions.openFolder(folder)}>
          <FolderIcon />
          {name}
        </button>
      </th>
      <td />
      <td class="wide-only" />
      <td class="wide-only roomy-only">folder</td>
      <td class="wide-only roomy-only" />
      <td>
        <RowActions name={name}>
          <button type="button" aria-label={`Rename or move folder ${name}`} onClick={() => actions.move(folder, true)}>
            Move
          </button>
          <button type="button" aria-label={`Copy folder ${name}`} onClick={() => actions.copy(folder, true)}>
            Copy
          </button>
          <button type="button" class="danger" aria-label={`Delete folder ${name}`} onClick={() => actions.remove(folder, true)}>
            Delete
          </button>
        </RowActions>
      </td>
    </tr>
  );
}

function ObjectRow({
  row,
  object,
  index,
  rowRef,
  selected,
  onSelect,
  actions,
}: {
  row: Row;
  object: ObjectDetails;
  index: number;
  rowRef: RowRef;
  selected: boolean;
  onSelect: (key: string, shift: boolean) => void;
  actions: ListingActions;
}) {
  const { name } = row;
  return (
    <tr ref={rowRef} data-key={object.key} aria-rowindex={index + 2} class={selected ? 'selected' : undefined}>
      <td class="pick">
        <input
          type="checkbox"
          aria-label={`Select ${name}`}
          checked={selected}
          onClick={(event) => onSelect(object.key, (event as MouseEvent).shiftKey)}
        />
      </td>
      <th scope="row">
        <button type="button" class="link" aria-label={`Preview ${name}`} title={name} onClick={() => actions.preview(object)}>
          {name}
        </button>
      </th>
      <td>{formatBytes(object.size)}</td>
      <td class="wide-only">{formatDate(object.lastModified)}</td>
      <td class="wide-only roomy-only">{object.contentType}</td>
      <td class="wide-only roomy-only">{object.expiresAt ? formatDate(object.expiresAt) : ''}</td>
      <td>
        <RowActions name={name}>
          <button type="button" aria-label={`Download ${name}`} onClick={() => actions.download(object)}>
            Download
          </button>
          <button type="button" aria-label={`Share ${name}`} onClick={() => actions.share(object)}>
            Share
          </button>
          <button type="button" aria-label={`Rename or move ${name}`} onClick={() => actions.move(object.key, false)}>
            Move
          </button>
          <button type="button" aria-label={`Copy ${name}`} onClick={() => actions.copy(object.key, false)}>
            Copy
          </button>
          <button type="button" class="danger" aria-label={`Delete ${name}`} onClick={() => actions.remove(object.key, false)}>
            Delete
          </button>
        </RowActions>
      </td>
    </tr>
  );
}

function FolderIcon() {
  return (
    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d="M10 4l2 2h8a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h6z" />
    </svg>
  );
}
