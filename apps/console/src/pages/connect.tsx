import { useState } from 'react';
import { api } from '../api';
import { CredentialsForm } from '../credentials';
import { AUTH_TYPE_LABELS, ErrorMessage, Loading, Notice, useLoad } from '../ui';

/**
 * A connect link's page (`/console/connect/<token>`): anyone holding the link, signed in or not, authorizes the named
 * user's own credential of one connection. It shows the service, the scopes and a Connect button.
 */
export function ConnectPage(props: { token: string; search: URLSearchParams }) {
  const { data: link, error } = useLoad(() => api.connectLink(props.token), [props.token]);
  const [done, setDone] = useState(props.search.get('plugboard_status'));
  const [oauthError, setOauthError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  if (error) {
    return (
      <div className="narrow">
        <h1 tabIndex={-1}>Connect link</h1>
        <ErrorMessage error={error} />
      </div>
    );
  }
  if (!link) return <Loading what="the link" />;
  const oauth = link.service.authType === 'oauth1' || link.service.authType === 'oauth2';

  if (done) {
    const connected = done === 'connected';
    return (
      <div className="narrow">
        <h1 tabIndex={-1}>{connected ? 'Connected' : 'Not connected'}</h1>
        <Notice kind={connected ? 'success' : 'warning'}>
          {connected
            ? `${link.connection.name} now uses your own ${link.service.name} credentials. You can close this page.`
            : `The authorization at ${link.service.name} did not complete. Ask for a new link to try again.`}
        </Notice>
      </div>
    );
  }

  return (
    <div className="narrow">
      <h1 tabIndex={-1}>Connect {link.service.name}</h1>
      <p className="lead">
        <strong>{link.connection.name}</strong> asks for your own {link.service.name} credentials ({AUTH_TYPE_LABELS[link.service.authType]}). You are connecting as <strong>{link.user}</strong>.
      </p>
      {link.status !== 'active' ? (
        <ErrorMessage
          error={{ message: link.status === 'used' ? 'This link has been used already. Each connect link works once: ask for a new one.' : 'This link has expired. Ask for a new one.' }}
        />
      ) : (
        <section className="card" aria-labelledby="connect-title">
          <h2 id="connect-title">Authorize</h2>
          {link.scopes.length > 0 && (
            <>
              <p>It may:</p>
              <ul className="scope-list">
                {link.scopes.map((scope) => (
                  <li key={scope.name}>
                    {scope.displayName} <code>{scope.name}</code>
                  </li>
                ))}
              </ul>
            </>
          )}
          <p className="muted">This link works once and expires {new Date(link.expiresAt).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}.</p>
          {oauth ? (
            <>
              <ErrorMessage error={oauthError} />
              <div className="actions">
                <button
                  type="button"
                  className="button button-primary"
                  disabled={busy}
                  onClick={async () => {
                    setBusy(true);
                    setOauthError(undefined);
                    try {
                      const result = await api.completeConnectLink(props.token, {});
                      if ('authorizeUrl' in result) location.assign(result.authorizeUrl);
                      else finish(result.returnUrl, setDone);
                    } catch (reason) {
                      setOauthError(reason);
                      setBusy(false);
                    }
                  }}
                >
                  Connect
                </button>
              </div>
            </>
          ) : (
            <CredentialsForm
              fields={link.service.authType === 'basic' ? { kind: 'basic' } : { kind: 'api_key', params: link.parameters }}
              submit="Connect"
              onSubmit={async (credentials) => {
                const result = await api.completeConnectLink(props.token, credentials);
                if ('authorizeUrl' in result) location.assign(result.authorizeUrl);
                else finish(result.returnUrl, setDone);
              }}
            />
          )}
        </section>
      )}
    </div>
  );
}

function finish(returnUrl: string | null, setDone: (status: string) => void): void {
  if (returnUrl) location.assign(returnUrl);
  else setDone('connected');
}
