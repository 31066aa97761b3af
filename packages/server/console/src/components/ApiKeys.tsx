import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { type Api, type ApiKeyInfo, type CreatedApiKey, STORAGE_TYPES } from '../api.js';
import { describeScope, type ScopeChoice, scopeOf } from '../key-scope.js';
import { CopyButton } from './CopyButton.js';
import { Dialog } from './Dialog.js';
import { DialogActions } from './DialogActions.js';

/**
 * The signed-in user's API keys: the list (name, access, created, revoked), a new key (full
 * access, read only, or limited to a bucket and/or folder) whose secret shows once, and revoking
 * a key after a confirmation.
 */
export function ApiKeys({ api, buckets, onClose }: { api: Api; buckets: readonly string[]; onClose: () => void }) {
  const [keys, setKeys] = useState<ApiKeyInfo[]>();
  const [error, setError] = useState<string>();
  const [created, setCreated] = useState<CreatedApiKey>();
  const [revoking, setRevoking] = useState<ApiKeyInfo>();

  const load = () =>
    api.listKeys().then(
      (listed) => setKeys([...listed].reverse()),
      (cause: Error) => setError(cause.message),
    );
  useEffect(() => {
    void load();
  }, [api]);

  return (
    <Dialog title="API keys" onClose={onClose} wide>
      <div class="api-keys">
        <p class="hint">
          An API key signs a program in as you (with the client libraries, the CLI, or as an S3 access key), with all your rights or fewer.
        </p>
        {created ? (
          <NewSecret created={created} onDone={() => setCreated(undefined)} />
        ) : (
          <CreateKey
            api={api}
            buckets={buckets}
            onCreated={(key) => {
              setCreated(key);
              void load();
            }}
          />
        )}
        {revoking && (
          <RevokeKey
            api={api}
            target={revoking}
            onCancel={() => setRevoking(undefined)}
            onRevoked={() => {
              setRevoking(undefined);
              void load();
            }}
          />
        )}
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <KeyTable keys={keys} onRevoke={setRevoking} />
      </div>
    </Dialog>
  );
}

function KeyTable({ keys, onRevoke }: { keys: ApiKeyInfo[] | undefined; onRevoke: (key: ApiKeyInfo) => void }) {
  if (!keys) return <p class="loading">Loading your keys…</p>;
  if (keys.length === 0) return <p class="empty">You have no API keys yet.</p>;
  return (
    <div class="table-scroll">
      <table class="key-list">
        <caption class="visually-hidden">Your API keys, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Access</th>
            <th scope="col">Created</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr key={key.clientId} data-client-id={key.clientId}>
              <th scope="row">
                {key.name ?? 'Unnamed'}
                <code class="client-id">{key.clientId}</code>
              </th>
              <td>{describeScope(key.scope)}</td>
              <td>{new Date(key.createdAt).toLocaleString()}</td>
              <td>{key.revokedAt === null ? 'Active' : `Revoked ${new Date(key.revokedAt).toLocaleString()}`}</td>
              <td>
                {key.revokedAt === null && (
                  <button type="button" class="danger" aria-label={`Revoke ${key.name ?? key.clientId}`} onClick={() => onRevoke(key)}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CreateKey({ api, buckets, onCreated }: { api: Api; buckets: readonly string[]; onCreated: (key: CreatedApiKey) => void }) {
  const [name, setName] = useState('');
  const [choice, setChoice] = useState<ScopeChoice>({ access: 'full', bucket: '', prefix: '', readOnly: false });
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const change = (fields: Partial<ScopeChoice>) => setChoice({ ...choice, ...fields });

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onCreated(await api.createKey({ name: name.trim(), ...scopeOf(choice) }));
      setName('');
    } catch (cause) {
      setError(cause instanceof Error ? cause.message : String(cause));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="create-key" onSubmit={submit} aria-labelledby="create-key-heading">
      <h3 id="create-key-heading">Create a key</h3>
      <label>
        Key name
        <input value={name} required maxLength={200} placeholder="nightly-backup" onInput={(event) => setName(inputValue(event))} />
      </label>
      <fieldset class="mode">
        <legend>Access</legend>
        <label>
          <input type="radio" name="access" checked={choice.access === 'full'} onChange={() => change({ access: 'full' })} /> Full (all your
          rights)
        </label>
        <label>
          <input type="radio" name="access" checked={choice.access === 'read'} onChange={() => change({ access: 'read' })} /> Read only
        </label>
        <label>
          <input type="radio" name="access" checked={choice.access === 'limited'} onChange={() => change({ access: 'limited' })} /> Limited
          to a bucket or folder
        </label>
      </fieldset>
      {choice.access === 'limited' && (
        <div class="inline-form">
          <label>
            Bucket
            <select value={choice.bucket} onChange={(event) => change({ bucket: (event.currentTarget as HTMLSelectElement).value })}>
              <option value="">Any bucket</option>
              {[...STORAGE_TYPES, ...buckets].map((bucket) => (
                <option key={bucket} value={bucket}>
                  {bucket}
                </option>
              ))}
            </select>
          </label>
          <label>
            Folder
            <input
              value={choice.prefix}
              placeholder="reports/ (empty: every folder)"
              onInput={(event) => change({ prefix: inputValue(event) })}
            />
          </label>
          <label class="check">
            <input
              type="checkbox"
              checked={choice.readOnly}
              onChange={(event) => change({ readOnly: (event.currentTarget as HTMLInputElement).checked })}
            />{' '}
            Read only
          </label>
        </div>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        Create key
      </button>
    </form>
  );
}

/** The new key's client id and secret, the one time the secret can be seen. */
function NewSecret({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  const [status, setStatus] = useState<string>();
  return (
    <section class="warning new-secret" aria-labelledby="new-secret-heading">
      <h3 id="new-secret-heading">New key {created.name ?? created.clientId}</h3>
      <p>
        <strong>Copy the secret now: you will not see it again.</strong> Whoever has it acts as you, within the key's access.
      </p>
      <label>
        Client id
        <input class="signed-link" readOnly value={created.clientId} />
      </label>
      <label>
        Secret
        <input
          class="signed-link"
          readOnly
          value={created.clientSecret}
          onFocus={(event) => (event.currentTarget as HTMLInputElement).select()}
        />
      </label>
      <div class="actions">
        <CopyButton text={created.clientId} label="Copy client id" onCopied={setStatus} />
        <CopyButton text={created.clientSecret} label="Copy secret" onCopied={setStatus} />
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
      {status && <p role="status">{status}</p>}
    </section>
  );
}

function RevokeKey({ api, target, onCancel, onRevoked }: { api: Api; target: ApiKeyInfo; onCancel: () => void; onRevoked: () => void }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const name = target.name ?? target.clientId;
  const confirm = useRef<HTMLButtonElement>(null);
  // In the same task that shows it, so the focus is there as soon as the question is.
  useLayoutEffect(() => confirm.current?.focus(), [target]);
  const revoke = async () => {
    setBusy(true);
    try {
      await api.revokeKey(target.clientId);
      onRevoked();
    } catch (cause) {
      setError(cause instanceof Error ? cause.message : String(cause));
      setBusy(false);
    }
  };
  return (
    <section class="warning" aria-labelledby="revoke-heading">
      <h3 id="revoke-heading">Revoke {name}?</h3>
      <p>
        Programs that sign in with it stop working: new tokens and S3 requests are refused at once, tokens it already got within 30 seconds.
      </p>
      <DialogActions error={error} onCancel={onCancel}>
        <button type="button" class="danger" disabled={busy} ref={confirm} onClick={revoke}>
          Revoke key
        </button>
      </DialogActions>
    </section>
  );
}

function inputValue(event: Event): string {
  return (event.currentTarget as HTMLInputElement).value;
}
