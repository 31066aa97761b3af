import { useEffect, useReducer } from 'preact/hooks';
import { formatBytes } from '../format.js';
import { progressRate } from '../rate.js';
import { ACTIVE, type UploadItem, type Uploads } from '../uploads.js';

const LABELS: Record<UploadItem['state'], string> = {
  queued: 'waiting',
  uploading: 'uploading',
  retrying: 'connection lost, resuming…',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** Every upload with its progress, speed and time left, the total, and cancel buttons. */
export function UploadPanel({ uploads }: { uploads: Uploads }) {
  const items = uploads.items;
  const active = items.some((item) => ACTIVE.includes(item.state));
  // Time left moves on between progress reports (a large file reports once per 8 MiB chunk).
  const [, tick] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => tick(undefined), 1000);
    return () => clearInterval(timer);
  }, [active]);
  if (items.length === 0) return null;
  const size = items.reduce((sum, item) => sum + item.size, 0);
  const sent = items.reduce((sum, item) => sum + Math.min(item.sent, item.size), 0);
  const now = Date.now();
  const current = uploads.current;
  const overall = active && current ? progressRate(current.sent, current.size, current.startedAt, now) : undefined;
  return (
    <section class="uploads" aria-label="Uploads">
      <header>
        <h2>Uploads</h2>
        <span class="total">
          {formatBytes(sent)} of {formatBytes(size)}
          {overall && <span class="rate">, {overall}</span>}
        </span>
        <progress aria-label="Total upload progress" max={size || 1} value={sent} />
        {active ? (
          <button type="button" onClick={() => uploads.cancelAll()}>
            Cancel all
          </button>
        ) : (
          <button type="button" onClick={() => uploads.clearFinished()}>
            Clear
          </button>
        )}
      </header>
      <ul>
        {items.map((item) => {
          const rate = item.state === 'uploading' ? progressRate(item.sent, item.size, item.startedAt, now) : undefined;
          return (
            <li key={item.id} data-state={item.state} data-key={item.key}>
              <span class="name" title={item.key}>
                {item.key}
              </span>
              <progress
                aria-label={`Progress of ${item.key}`}
                max={item.size || 1}
                value={item.state === 'done' ? item.size || 1 : item.sent}
              />
              <span class="state">
                {LABELS[item.state]}
                {item.error ? `: ${item.error}` : ''}
                {rate && <span class="rate">, {rate}</span>}
              </span>
              {ACTIVE.includes(item.state) && (
                <button type="button" aria-label={`Cancel upload of ${item.key}`} onClick={() => uploads.cancel(item.id)}>
                  Cancel
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
