import { useEffect, useState } from 'preact/hooks';
import { type Api, type BucketName, isStorageType, type ObjectDetails } from '../api.js';
import { formatBytes, formatDate } from '../format.js';
import { CopyButton } from './CopyButton.js';
import { Dialog } from './Dialog.js';
import { PublicLink } from './PublicLink.js';

/** Text larger than this shows its first this many bytes (one range read), not the whole value. */
const TEXT_PREVIEW_BYTES = 1024 * 1024;
const CSV_ROWS = 200;

type Kind = 'image' | 'pdf' | 'json' | 'csv' | 'text' | 'none';

function kindOf(object: ObjectDetails): Kind {
  const type = object.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  const name = object.key.toLowerCase();
  if (type.startsWith('image/')) return 'image';
  if (type === 'application/pdf' || name.endsWith('.pdf')) return 'pdf';
  if (type === 'application/json' || name.endsWith('.json')) return 'json';
  if (type === 'text/csv' || name.endsWith('.csv')) return 'csv';
  if (type.startsWith('text/') || /\.(txt|md|log|xml|yaml|yml|ts|js|py|html|css)$/.test(name)) return 'text';
  return 'none';
}

/**
 * Preview (text, JSON, CSV as a table, images, PDF; the first MiB of larger text) and every
 * detail of one object, with its Download, Share and Copy key actions.
 */
export function Preview({
  api,
  type,
  object,
  isPublic,
  onDownload,
  onShare,
  onClose,
}: {
  api: Api;
  type: BucketName;
  object: ObjectDetails;
  /** Whether the bucket's settings make the object public; undefined when they are not known. */
  isPublic: boolean | undefined;
  onDownload: () => void;
  onShare: () => void;
  onClose: () => void;
}) {
  const kind = kindOf(object);
  const [blob, setBlob] = useState<Blob>();
  const [text, setText] = useState<string>();
  const [error, setError] = useState<string>();
  const [status, setStatus] = useState<string>();
  const url = useBlobUrl(blob);
  const partial = (kind === 'json' || kind === 'csv' || kind === 'text') && object.size > TEXT_PREVIEW_BYTES;

  useEffect(() => {
    if (kind === 'none') return;
    if (partial) {
      api
        .readStart(type, object.key, TEXT_PREVIEW_BYTES)
        // stream: a character cut in two at the end is left out rather than shown as U+FFFD.
        .then(({ bytes }) => setText(wholeLines(new TextDecoder().decode(bytes, { stream: true }), kind)))
        .catch((cause: Error) => setError(cause.message));
      return;
    }
    api
      .download(type, object.key, object.contentType)
      .then(async (data) => {
        // The frame shows its blob: URL as a document of the console's own origin, so it gets
        // the bytes as a PDF whatever type they were stored with: a page stored as `x.pdf` with
        // type text/html would otherwise run in the console, with its token.
        setBlob(kind === 'pdf' ? new Blob([data], { type: 'application/pdf' }) : data);
        if (kind === 'json' || kind === 'csv' || kind === 'text') setText(await data.text());
      })
      .catch((cause: Error) => setError(cause.message));
  }, [api, type, object.key, kind, partial]);

  return (
    <Dialog title={object.key} onClose={onClose} wide>
      <div class="preview-actions">
        <button type="button" onClick={onDownload}>
          Download
        </button>
        <button type="button" onClick={onShare}>
          Share
        </button>
        <CopyButton text={object.key} label="Copy key" onCopied={(message) => setStatus(message.replace('the link', 'the key'))} />
        {status && <span role="status">{status}</span>}
      </div>
      <div class="preview" aria-live="polite">
        {error && <p role="alert">{error}</p>}
        {partial && text !== undefined && (
          <p class="hint partial-note">Showing the first 1 MiB of {formatBytes(object.size)}; download it for the rest.</p>
        )}
        {kind === 'none' && <p>No preview for this type of content; download it instead.</p>}
        {kind === 'image' && url && <img src={url} alt={`Preview of ${object.key}`} />}
        {kind === 'pdf' && url && <iframe src={url} title={`PDF ${object.key}`} />}
        {kind === 'json' && text !== undefined && (
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a text that scrolls must scroll from the keyboard too
          <pre class="json" tabIndex={0}>
            {prettyJson(text)}
          </pre>
        )}
        {kind === 'text' && text !== undefined && (
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a text that scrolls must scroll from the keyboard too
          <pre tabIndex={0}>{text}</pre>
        )}
        {kind === 'csv' && text !== undefined && <CsvTable text={text} />}
      </div>
      <Details type={type} object={object} />
      <PublicLink bucket={type} objectKey={object.key} isPublic={isPublic} />
    </Dialog>
  );
}

function Details({ type, object }: { type: BucketName; object: ObjectDetails }) {
  const rows: Array<[string, string]> = [
    [isStorageType(type) ? 'Storage type' : 'Bucket', type],
    ['Size', `${formatBytes(object.size)} (${object.size.toLocaleString()} bytes)`],
    ['Content type', object.contentType],
    ['Modified', formatDate(object.lastModified)],
    ['Expires', object.expiresAt ? formatDate(object.expiresAt) : 'never'],
    ['ETag', object.etag],
    ['SHA-256', object.sha256],
  ];
  if (object.cacheControl) rows.push(['Cache-Control', object.cacheControl]);
  if (object.contentDisposition) rows.push(['Content-Disposition', object.contentDisposition]);
  for (const [name, value] of Object.entries(object.metadata)) rows.push([`Metadata: ${name}`, value]);
  return (
    <dl class="details">
      {rows.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function CsvTable({ text }: { text: string }) {
  const rows = parseCsv(text).slice(0, CSV_ROWS + 1);
  const [head = [], ...body] = rows;
  return (
    <div class="table-scroll">
      <table class="csv">
        <thead>
          <tr>
            {head.map((cell, i) => (
              <th key={i} scope="col">
                {cell}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {body.map((row, r) => (
            <tr key={r}>
              {row.map((cell, i) => (
                <td key={i}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** RFC 4180 CSV: quoted fields, doubled quotes, newlines inside quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += char;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** The start of a longer text, cut after its last whole line (a CSV's last row may be cut short). */
function wholeLines(text: string, kind: Kind): string {
  const end = text.lastIndexOf('\n');
  return kind === 'csv' && end > 0 ? text.slice(0, end + 1) : text;
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** An object URL for `blob`, revoked when it changes or the view goes. */
function useBlobUrl(blob: Blob | undefined): string | undefined {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    if (!blob) return;
    const made = URL.createObjectURL(blob);
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [blob]);
  return url;
}
