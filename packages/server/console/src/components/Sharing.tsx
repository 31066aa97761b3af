import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { type Api, ApiError, type BucketGrant, type BucketInfo } from '../api.js';
import {
  canManageSharing,
  EVERYONE,
  explainBucketError,
  GRANT_CHOICES,
  granteeLabel,
  isPublicRead,
  permissionLabel,
  publicBlocked,
} from '../buckets.js';
import { consoleUrl } from '../place.js';
import { CopyButton } from './CopyButton.js';
import { Dialog } from './Dialog.js';

/**
 * Who may do what in a named bucket: its grants (to a user, or to everyone), adding one to a user
 * for the whole bucket or a folder, removing one, and "Everyone can read" for the bucket or the
 * folder on screen, which warns before anything becomes public.
 */
export function Sharing({
  api,
  bucket,
  prefix,
  user,
  onChanged,
  onClose,
}: {
  api: Api;
  bucket: string;
  /** The folder on screen: what a new grant and "Everyone can read" apply to unless changed. */
  prefix: string;
  /** The signed-in user. */
  user: string;
  onChanged: (info: BucketInfo) => void;
  onClose: () => void;
}) {
  const [info, setInfo] = useState<BucketInfo>();
  const [loadError, setLoadError] = useState<string>();
  const [error, setError] = useState<string>();
  const [status, setStatus] = useState<string>();
  const [invite, setInvite] = useState<{ user: string; url: string }>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .bucketInfo(bucket)
      .then(setInfo, (cause: Error) =>
        setLoadError(
          cause instanceof ApiError && cause.code === 'AccessDenied'
            ? `You may not see how ${bucket} is shared: only its owner, or someone it gives "See sharing" to, may.`
            : cause.message,
        ),
      );
  }, [api, bucket]);

  /** Runs changes one after the other; the last answer is the bucket as it now is. */
  const change = async (steps: Array<() => Promise<BucketInfo>>, done: string): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    setStatus(undefined);
    try {
      let latest: BucketInfo | undefined;
      for (const step of steps) latest = await step();
      if (latest) {
        setInfo(latest);
        onChanged(latest);
      }
      setStatus(done);
      return true;
    } catch (cause) {
      setError(cause instanceof ApiError ? explainBucketError(cause.code, bucket, cause.message) : String(cause));
      return false;
    } finally {
      setBusy(false);
    }
  };

  const remove = (grant: BucketGrant) =>
    void change(
      [() => api.unshare(bucket, { grantee: grant.grantee, permission: grant.permission, prefix: grant.prefix })],
      `Removed: ${granteeLabel(grant.grantee)} no longer has ${permissionLabel(grant.permission)} on ${where(grant.prefix)}.`,
    );

  const manage = info !== undefined && canManageSharing(info, user);
  return (
    <Dialog title={`Sharing ${bucket}`} onClose={onClose} wide>
      {info === undefined && !loadError && <p class="loading">Loading…</p>}
      {loadError && (
        <p role="alert" class="error">
          {loadError}
        </p>
      )}
      {info && (
        <div class="sharing">
          <section aria-labelledby="grants-heading">
            <h3 id="grants-heading">Who has access</h3>
            <p class="hint">
              {info.owner === user ? 'You own this bucket' : `${info.owner} owns this bucket`}: the owner can do everything in it.
              {info.public && (
                <>
                  {' '}
                  <span class="badge public">Public</span> Anyone can read something in it without signing in.
                </>
              )}
            </p>
            {info.grants.length === 0 ? (
              <p class="empty">Nothing is shared yet.</p>
            ) : (
              <div class="table-scroll">
                <table class="grants">
                  <caption class="visually-hidden">Grants of {bucket}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Who</th>
                      <th scope="col">Access</th>
                      <th scope="col">Where</th>
                      {manage && (
                        <th scope="col">
                          <span class="visually-hidden">Actions</span>
                        </th>
                      )}
                    </tr>
                  </thead>
                  <tbody>
                    {info.grants.map((grant) => {
                      const who = granteeLabel(grant.grantee);
                      const label = `${who}, ${permissionLabel(grant.permission)}, ${where(grant.prefix)}`;
                      return (
                        <tr key={JSON.stringify(grant)} data-grant={label}>
                          <th scope="row">
                            {who}
                            {isPublicRead(grant) && <span class="badge public">Public</span>}
                          </th>
                          <td>{permissionLabel(grant.permission)}</td>
                          <td>{grant.prefix === '' ? 'whole bucket' : <code>{grant.prefix}</code>}</td>
                          {manage && (
                            <td>
                              <div class="row-actions">
                                <button
                                  type="button"
                                  class="danger"
                                  disabled={busy}
                                  aria-label={`Remove ${label}`}
                                  onClick={() => remove(grant)}
                                >
                                  Remove
                                </button>
                              </div>
                            </td>
                          )}
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          {!manage && <p class="hint">Only the owner, or someone given "Change sharing" on the whole bucket, can change who has access.</p>}
          {manage && (
            <AddGrant
              bucket={bucket}
              prefix={prefix}
              owner={info.owner}
              busy={busy}
              onShare={async (grantee, choice, at) => {
                const permissions = GRANT_CHOICES.find((candidate) => candidate.value === choice)?.permissions ?? ['READ'];
                const shared = await change(
                  permissions.map((permission) => () => api.share(bucket, { grantee: { user: grantee }, permission, prefix: at })),
                  `Shared ${where(at)} with ${grantee}.`,
                );
                setInvite(shared ? { user: grantee, url: consoleUrl({ bucket, prefix: at }) } : undefined);
                return shared;
              }}
            />
          )}
          {manage && invite && (
            <div class="invite">
              <label>
                A console link to send {invite.user}
                <input
                  class="signed-link"
                  readOnly
                  value={invite.url}
                  onFocus={(event) => (event.currentTarget as HTMLInputElement).select()}
                />
              </label>
              <CopyButton text={invite.url} label="Copy console link" onCopied={setStatus} />
            </div>
          )}
          {manage && (
            <PublicAccess
              info={info}
              prefix={prefix}
              busy={busy}
              onPublish={(at) =>
                change(
                  [() => api.share(bucket, { grantee: EVERYONE, permission: 'READ', prefix: at })],
                  `${capitalized(where(at))} is now public: anyone can read it without signing in.`,
                )
              }
              onUnpublish={(at) =>
                change(
                  info.grants
                    .filter((grant) => isPublicRead(grant) && grant.prefix === at)
                    .map((grant) => () => api.unshare(bucket, { grantee: grant.grantee, permission: grant.permission, prefix: at })),
                  `${capitalized(where(at))} is no longer public.`,
                )
              }
            />
          )}
          {error && (
            <p role="alert" class="error">
              {error}
            </p>
          )}
          <p role="status" class="message">
            {status}
          </p>
        </div>
      )}
    </Dialog>
  );
}

function AddGrant({
  bucket,
  prefix,
  owner,
  busy,
  onShare,
}: {
  bucket: string;
  prefix: string;
  owner: string;
  busy: boolean;
  onShare: (user: string, choice: string, prefix: string) => Promise<boolean>;
}) {
  const [grantee, setGrantee] = useState('');
  const [choice, setChoice] = useState('READ');
  const [at, setAt] = useState(prefix);
  const [problem, setProblem] = useState<string>();

  const submit = async (event: Event) => {
    event.preventDefault();
    const who = grantee.trim();
    const folder = at.trim();
    const invalid =
      who === ''
        ? 'Enter the user id of whom to share with.'
        : who === owner
          ? `${who} owns ${bucket} and can do everything already.`
          : undefined;
    setProblem(invalid);
    if (invalid) return;
    if (await onShare(who, choice, folder)) setGrantee('');
  };

  return (
    <section aria-labelledby="add-heading">
      <h3 id="add-heading">Share with someone</h3>
      <form onSubmit={submit} class="add-grant" noValidate>
        <label>
          User id
          <input
            value={grantee}
            autocomplete="off"
            spellcheck={false}
            aria-invalid={problem !== undefined}
            aria-describedby={problem ? 'grantee-problem' : undefined}
            onInput={(event) => setGrantee((event.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label>
          Access
          <select value={choice} onChange={(event) => setChoice((event.currentTarget as HTMLSelectElement).value)}>
            {GRANT_CHOICES.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Folder
          <input
            value={at}
            placeholder="empty: the whole bucket"
            spellcheck={false}
            aria-describedby="grant-folder-hint"
            onInput={(event) => setAt((event.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <p id="grant-folder-hint" class="hint">
          Every key that starts with this (end a folder with /); empty shares the whole bucket.
        </p>
        {problem && (
          <p id="grantee-problem" role="alert" class="error">
            {problem}
          </p>
        )}
        <div class="actions">
          <button type="submit" disabled={busy}>
            Share
          </button>
        </div>
      </form>
    </section>
  );
}

/** The "Everyone can read" switch of the bucket or the folder on screen, which warns and asks before it makes anything public. */
function PublicAccess({
  info,
  prefix,
  busy,
  onPublish,
  onUnpublish,
}: {
  info: BucketInfo;
  prefix: string;
  busy: boolean;
  onPublish: (prefix: string) => Promise<boolean>;
  onUnpublish: (prefix: string) => Promise<boolean>;
}) {
  const [scope, setScope] = useState(prefix);
  const [confirming, setConfirming] = useState(false);
  const switchRef = useRef<HTMLInputElement>(null);
  const warningRef = useRef<HTMLDivElement>(null);
  const isPublic = info.grants.some((grant) => isPublicRead(grant) && grant.prefix === scope);
  const coveredBy = info.grants.find((grant) => isPublicRead(grant) && grant.prefix !== scope && scope.startsWith(grant.prefix));
  const block = publicBlocked(info);
  const what = where(scope);

  // A layout effect moves the focus in the same task that shows the warning: a plain effect runs
  // after paint, leaving a moment where the warning is on screen and the focus is still on the switch.
  useLayoutEffect(() => {
    if (confirming) warningRef.current?.focus();
  }, [confirming]);

  const choose = (at: string) => {
    setScope(at);
    setConfirming(false);
  };
  const backToSwitch = () => {
    setConfirming(false);
    setTimeout(() => switchRef.current?.focus());
  };

  return (
    <section aria-labelledby="public-heading" class="public-access">
      <h3 id="public-heading">Public access</h3>
      {prefix !== '' && (
        <fieldset class="mode">
          <legend>Applies to</legend>
          <label>
            <input type="radio" name="public-scope" checked={scope === prefix} onChange={() => choose(prefix)} /> the folder{' '}
            <code>{prefix}</code>
          </label>
          <label>
            <input type="radio" name="public-scope" checked={scope === ''} onChange={() => choose('')} /> the whole bucket
          </label>
        </fieldset>
      )}
      <label class="switch">
        <input
          ref={switchRef}
          type="checkbox"
          role="switch"
          checked={isPublic || coveredBy !== undefined}
          aria-checked={isPublic || coveredBy !== undefined}
          disabled={busy || coveredBy !== undefined || (block.refused && !isPublic)}
          aria-describedby="public-state"
          onChange={(event) => {
            const input = event.currentTarget as HTMLInputElement;
            // The switch shows the bucket as it is: it moves when the server has made the change.
            input.checked = isPublic;
            if (isPublic) void onUnpublish(scope);
            else setConfirming(true);
          }}
        />
        Everyone can read {what}
      </label>
      <p id="public-state" class="hint">
        {coveredBy
          ? `Already public: ${where(coveredBy.prefix)} is readable by everyone (remove that grant above to change it).`
          : isPublic
            ? `Public: anyone can read and download every object in ${what}, without signing in.`
            : block.refused
              ? 'This bucket blocks public access (its public access block refuses grants to everyone).'
              : `Private: only the owner and the people it is shared with can read ${what}.`}
        {block.ignored && isPublic && ' The bucket’s public access block ignores grants to everyone, so this has no effect for now.'}
      </p>
      {confirming && (
        <div class="warning" role="alert" tabIndex={-1} ref={warningRef} aria-labelledby="public-warning-heading">
          <h4 id="public-warning-heading">Make {what} public?</h4>
          <p>
            Anyone on the internet, without an account or signing in, will be able to read and download every object in {what}, including
            objects added later. Anyone a link is passed on to can open it, and a link cannot be called back: only turning this off stops
            it.
          </p>
          <div class="actions">
            <button type="button" onClick={backToSwitch}>
              Keep private
            </button>
            <button
              type="button"
              class="danger"
              disabled={busy}
              onClick={async () => {
                await onPublish(scope);
                backToSwitch();
              }}
            >
              Make public
            </button>
          </div>
        </div>
      )}
    </section>
  );
}

/** "the whole bucket", "the folder a/b/", or for a prefix that is no folder, the keys it begins. */
function where(prefix: string): string {
  if (prefix === '') return 'the whole bucket';
  return prefix.endsWith('/') ? `the folder ${prefix}` : `the keys starting with "${prefix}"`;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
