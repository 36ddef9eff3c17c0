import { useEffect, useState } from 'react';
import type { SessionView } from '@plugboard/contracts';
import { api } from '../api';
import { navigate } from '../router';
import { ErrorMessage } from '../ui';

const LINK_ERRORS: Record<string, string> = {
  sign_in_link_invalid: 'This sign-in link is unknown, used or expired. Each link works once, for 15 minutes: ask for a new one.',
};

/**
 * What a browser without a session sees. The one-time link (`/console/sign-in?token=…`) is redeemed by a button, not
 * on load, so that a link preview or a prefetch cannot use it up; the token then leaves the address bar.
 */
export function SignInPage(props: { session: SessionView; search: URLSearchParams; onSignedIn: (session: SessionView) => void }) {
  const [token] = useState(() => props.search.get('token') ?? '');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const linkError = props.search.get('error');
  const { oidc, link } = props.session.signIn;

  useEffect(() => {
    if (token) history.replaceState(null, '', '/console/sign-in');
  }, [token]);

  return (
    <div className="sign-in">
      <h1 tabIndex={-1}>Sign in to Plugboard</h1>
      <p className="lead">Create, authorize and manage the connections your organization's products use to call other services.</p>
      {linkError && <ErrorMessage error={{ message: LINK_ERRORS[linkError] ?? 'Signing in did not work. Try again.' }} />}
      <ErrorMessage error={error} />
      {token && (
        <form
          className="card"
          onSubmit={async (event) => {
            event.preventDefault();
            setBusy(true);
            setError(undefined);
            try {
              const session = await api.signInWithLink(token);
              props.onSignedIn(session);
              navigate('/', { replace: true });
            } catch (reason) {
              setError(reason);
              setBusy(false);
            }
          }}
        >
          <h2>Your sign-in link</h2>
          <p>This link signs you in once. Continue to open your connections.</p>
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      )}
      {oidc.configured && (
        <div className="card">
          <h2>Your organization's account</h2>
          <p>Sign in with the identity provider your organization uses.</p>
          <a className="button button-primary" href={oidc.url}>
            Sign in with your organization
          </a>
        </div>
      )}
      {!token && link && (
        <div className="card">
          <h2>One-time sign-in link</h2>
          <p>
            <code>npm start</code> prints a sign-in link next to the admin key when it starts. Open that link in this browser. For a new link, run{' '}
            <code>npm run keys -- sign-in-link</code>.
          </p>
        </div>
      )}
      {!oidc.configured && !link && !token && (
        <div className="card">
          <h2>Sign-in is not set up</h2>
          <p>
            This Plugboard has no identity provider for people (<code>PLUGBOARD_OPERATOR_OIDC</code>). Ask its operator to configure one. Programs keep using the REST API with
            an API key.
          </p>
        </div>
      )}
    </div>
  );
}
