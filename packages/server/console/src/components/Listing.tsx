import type { ObjectDetails } from '../api.js';
import { formatBytes, formatDate } from '../format.js';
import { baseName } from '../keys.js';
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

/** One page (or more) of a folder: sub-folders first, then objects, each with its actions. */
export function Listing({
  prefix,
  folders,
  objects,
  actions,
}: {
  prefix: string;
  folders: string[];
  objects: ObjectDetails[];
  actions: ListingActions;
}) {
  if (folders.length === 0 && objects.length === 0) return <p class="empty">Nothing here yet. Drop files or folders to upload them.</p>;
  return (
    <div class="table-scroll">
      <table class="listing">
        <caption class="visually-hidden">Contents of {prefix || 'the top level'}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Size</th>
            <th scope="col" class="wide-only">
              Modified
            </th>
            <th scope="col" class="wide-only">
              Type
            </th>
            <th scope="col" class="wide-only">
              Expires
            </th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {folders.map((folder) => {
            const name = baseName(folder, prefix);
            return (
              <tr key={`f:${folder}`} data-folder={folder}>
                <th scope="row">
                  <button type="button" class="link folder" title={name} onClick={() => actions.openFolder(folder)}>
                    <FolderIcon />
                    {name}
                  </button>
                </th>
                <td />
                <td class="wide-only" />
                <td class="wide-only">folder</td>
                <td class="wide-only" />
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
          })}
          {objects.map((object) => {
            const name = baseName(object.key, prefix);
            return (
              <tr key={`o:${object.key}`} data-key={object.key}>
                <th scope="row">
                  <button type="button" class="link" title={name} aria-label={`Preview ${name}`} onClick={() => actions.preview(object)}>
                    {name}
                  </button>
                </th>
                <td>{formatBytes(object.size)}</td>
                <td class="wide-only">{formatDate(object.lastModified)}</td>
                <td class="wide-only">{object.contentType}</td>
                <td class="wide-only">{object.expiresAt ? formatDate(object.expiresAt) : ''}</td>
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
          })}
        </tbody>
      </table>
    </div>
  );
}

function FolderIcon() {
  return (
    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d="M10 4l2 2h8a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h6z" />
    </svg>
  );
}
