import type { BulkOperation } from '../bulk.js';
import { objectCount } from '../bulk.js';

/** The actions on the selected objects, shown while some are selected. */
export function BulkActions({
  count,
  onAction,
  onClear,
}: {
  count: number;
  onAction: (operation: BulkOperation) => void;
  onClear: () => void;
}) {
  if (count === 0) return null;
  return (
    <section class="bulk-actions" aria-label="Selected objects">
      <span class="count">{objectCount(count)} selected</span>
      <button type="button" onClick={() => onAction('download')}>
        Download
      </button>
      <button type="button" onClick={() => onAction('copy')}>
        Copy to…
      </button>
      <button type="button" onClick={() => onAction('move')}>
        Move to…
      </button>
      <button type="button" class="danger" onClick={() => onAction('delete')}>
        Delete
      </button>
      <button type="button" class="link" onClick={onClear}>
        Clear selection
      </button>
    </section>
  );
}
