import type { FolderContents } from '../folder-contents.js';

/**
 * How much of the folder is loaded and shown ("200 of 100,000 shown"), and "Load more" and
 * "Load all" while there is more (Stop while it loads). A page that could not be listed says so
 * here, above the buttons that try it again.
 */
export function ListingFooter({ contents, shown, search }: { contents: FolderContents; shown: number; search: string }) {
  const { rows, complete, usage, loadingAll, error } = contents;
  const loaded = rows.length;
  // The server counts every object under the folder: the total of this listing only while no sub-folder is listed.
  const total = usage && rows[0]?.object ? usage.objects : undefined;
  const count = search
    ? `${shown.toLocaleString()} of ${loaded.toLocaleString()} loaded match “${search}”${complete ? '' : '; load all to search the whole folder'}`
    : complete
      ? `${loaded.toLocaleString()} shown`
      : total !== undefined && total >= loaded
        ? `${loaded.toLocaleString()} of ${total.toLocaleString()} shown`
        : `${loaded.toLocaleString()} loaded, more in the folder`;
  if (loaded === 0) return null;
  return (
    <div class="listing-footer">
      {error?.partial && (
        <p role="alert" class="error">
          The listing stopped after {loaded.toLocaleString()} entries: {error.message}
        </p>
      )}
      {/* Quiet while Load all counts up page after page; the final count is announced. */}
      <p class="counts" aria-live={loadingAll ? 'off' : 'polite'}>
        {count}
      </p>
      {!complete && !loadingAll && (
        <>
          <button type="button" class="more" disabled={contents.loading} onClick={contents.loadMore}>
            Load more
          </button>
          <button type="button" class="more" disabled={contents.loading} onClick={contents.loadAll}>
            Load all
          </button>
        </>
      )}
      {loadingAll && (
        <button type="button" onClick={contents.stop}>
          Stop loading
        </button>
      )}
    </div>
  );
}
