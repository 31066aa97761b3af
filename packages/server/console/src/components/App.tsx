import { useEffect, useState } from 'preact/hooks';
import { Api } from '../api.js';
import { forgetToken, savedToken, saveToken } from '../session.js';
import { Browser } from './Browser.js';
import { SignIn } from './SignIn.js';

/** Signed in (a token in session storage that the server accepts) or not. */
export function App() {
  const [session, setSession] = useState<{ api: Api; tenant: string } | undefined>();
  const [checking, setChecking] = useState(true);

  useEffect(() => {
    const token = savedToken();
    if (!token) {
      setChecking(false);
      return;
    }
    const api = new Api(token);
    api
      .whoami()
      .then(({ tenant }) => setSession({ api, tenant }))
      .catch(() => forgetToken())
      .finally(() => setChecking(false));
  }, []);

  if (checking) return <p class="loading">Loading…</p>;
  if (!session)
    return (
      <SignIn
        onSignedIn={(api, tenant) => {
          saveToken(api.token);
          setSession({ api, tenant });
        }}
      />
    );
  return (
    <Browser
      key={session.api.token}
      api={session.api}
      tenant={session.tenant}
      onSignOut={() => {
        forgetToken();
        setSession(undefined);
      }}
    />
  );
}
