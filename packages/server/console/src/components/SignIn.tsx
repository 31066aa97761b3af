import { useState } from 'preact/hooks';
import { Api, exchangeApiKey } from '../api.js';

/** Sign in with a token, or an API key exchanged at /auth/token; `notice` says why it is asked again. */
export function SignIn({ notice, onSignedIn }: { notice?: string | undefined; onSignedIn: (api: Api, tenant: string) => void }) {
  const [mode, setMode] = useState<'token' | 'key'>('token');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(undefined);
    try {
      const token =
        mode === 'token'
          ? String(form.get('token') ?? '').trim()
          : await exchangeApiKey(String(form.get('clientId') ?? '').trim(), String(form.get('secret') ?? ''));
      const api = new Api(token);
      const { tenant } = await api.whoami();
      onSignedIn(api, tenant);
    } catch (cause) {
      setError(cause instanceof Error ? cause.message : String(cause));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <h1>Stowage console</h1>
      {notice && (
        <p role="status" class="notice">
          {notice}
        </p>
      )}
      <form onSubmit={submit} aria-label="Sign in">
        <fieldset class="mode">
          <legend>Sign in with</legend>
          <label>
            <input type="radio" name="mode" checked={mode === 'token'} onChange={() => setMode('token')} /> a token
          </label>
          <label>
            <input type="radio" name="mode" checked={mode === 'key'} onChange={() => setMode('key')} /> an API key
          </label>
        </fieldset>
        {mode === 'token' ? (
          <label>
            Token
            <textarea name="token" rows={4} required autocomplete="off" spellcheck={false} />
          </label>
        ) : (
          <>
            <label>
              Client id
              <input name="clientId" required autocomplete="username" />
            </label>
            <label>
              Secret
              <input name="secret" type="password" required autocomplete="current-password" />
            </label>
          </>
        )}
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="hint">The token is kept in this tab's session storage only, and signing out removes it.</p>
      </form>
    </main>
  );
}
