import { useEffect, useRef, useState } from 'preact/hooks';
import { Api } from '../api.js';
import { forgetToken, savedToken, saveToken } from '../session.js';
import { Browser } from './Browser.js';
import { SignIn } from './SignIn.js';

const EXPIRED = 'Your session expired, sign in again.';

/**
 * Signed in (a token in session storage that the server accepts) or not. A 401 on any call ends
 * the session with a word why; the URL's fragment stays, so signing in again comes back to the
 * same place.
 */
export function App() {
  const [session, setSession] = useState<{ api: Api; tenant: string } | undefined>();
  const [checking, setChecking] = useState(true);
  const [notice, setNotice] = useState<string>();
  /** The Api of the session on screen: a late 401 of an earlier session's call ends nothing. */
  const current = useRef<Api | undefined>(undefined);

  const connect = (token: string): Api => {
    const api: Api = new Api(token, () => {
      if (current.current !== api) return;
      current.current = undefined;
      forgetToken();
      setSession(undefined);
      setNotice(EXPIRED);
    });
    current.current = api;
    return api;
  };

  useEffect(() => {
    const token = savedToken();
    if (!token) {
      setChecking(false);
      return;
    }
    const api = connect(token);
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
        notice={notice}
        onSignedIn={(signedIn, tenant) => {
          saveToken(signedIn.token);
          setNotice(undefined);
          setSession({ api: connect(signedIn.token), tenant });
        }}
      />
    );
  return (
    <Browser
      key={session.api.token}
      api={session.api}
      tenant={session.tenant}
      onSignOut={() => {
        current.current = undefined;
        forgetToken();
        setSession(undefined);
      }}
    />
  );
}
