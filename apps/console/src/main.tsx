import { StrictMode, useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { SessionView } from '@plugboard/contracts';
import { api } from './api';
import { useLocation, type Route } from './router';
import { ErrorMessage, Link, Loading } from './ui';
import { ConnectPage } from './pages/connect';
import { ConnectionPage } from './pages/connection';
import { ConnectionsPage } from './pages/connections';
import { NewConnectionPage } from './pages/new-connection';
import { ServicePage } from './pages/service';
import { ServiceFormPage } from './pages/service-form';
import { SignInPage } from './pages/sign-in';
import './styles.css';

export type Session = Extract<SessionView, { signedIn: true }>;

function App() {
  const { route, search } = useLocation();
  const [session, setSession] = useState<SessionView>();
  const [error, setError] = useState<unknown>();
  const main = useRef<HTMLElement>(null);

  const load = () => api.session().then(setSession, setError);
  useEffect(() => {
    // A connect link's page needs no session: the link itself is the permission.
    if (route.page !== 'connect') void load();
  }, [route.page === 'connect']);

  // After a navigation, focus goes to the new page's heading, so a screen reader says where it is.
  useEffect(() => {
    main.current?.querySelector('h1')?.focus();
  }, [route]);

  if (route.page === 'connect') {
    return (
      <Frame>
        <main id="main" ref={main}>
          <ConnectPage token={route.token} search={search} />
        </main>
      </Frame>
    );
  }
  if (error) {
    return (
      <Frame>
        <main id="main">
          <h1 tabIndex={-1}>Plugboard</h1>
          <ErrorMessage error={error} />
        </main>
      </Frame>
    );
  }
  if (!session) return <Loading what="the console" />;
  if (!session.signedIn || route.page === 'sign-in') {
    return (
      <Frame>
        <main id="main" ref={main}>
          <SignInPage session={session} search={search} onSignedIn={(next) => setSession(next)} />
        </main>
      </Frame>
    );
  }
  return (
    <Frame session={session} route={route} onSignedOut={() => void load()}>
      <main id="main" ref={main}>
        <Page route={route} session={session} search={search} />
      </main>
    </Frame>
  );
}

function Page(props: { route: Route; session: Session; search: URLSearchParams }) {
  const { route, session, search } = props;
  switch (route.page) {
    case 'connections':
      return <ConnectionsPage view={route.view} session={session} />;
    case 'new-connection':
      return <NewConnectionPage tab={route.tab} session={session} />;
    case 'new-service':
      return <ServiceFormPage session={session} />;
    case 'edit-service':
      return <ServiceFormPage session={session} linkName={route.linkName} />;
    case 'service':
      return <ServicePage linkName={route.linkName} session={session} />;
    case 'connection':
      return <ConnectionPage linkName={route.linkName} session={session} search={search} />;
    case 'connect':
    case 'sign-in':
    case 'not-found':
      return (
        <>
          <h1 tabIndex={-1}>Page not found</h1>
          <p>
            There is nothing at this address. <Link to="/">Go to My Connections</Link>.
          </p>
        </>
      );
    default:
      return route satisfies never;
  }
}

/** The page's frame: a skip link, the header (who is signed in, the ops dashboard for admins, Sign out) and the nav. */
function Frame(props: { session?: Session; route?: Route; onSignedOut?: () => void; children: React.ReactNode }) {
  const { session, route } = props;
  const current = (view: string) => (route?.page === 'connections' && route.view === view ? 'page' : undefined);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <div className="top-inner">
          <span className="brand">
            <span className="brand-mark" aria-hidden="true">
              ⌁
            </span>{' '}
            Plugboard <span className="brand-sub">Connections</span>
          </span>
          {session && (
            <div className="who">
              <span className="who-name" title={`${session.userId} in ${session.orgId}`}>
                {session.displayName} <span className="who-org">· {session.orgId} · {session.role.replace('_', '-')}</span>
              </span>
              {session.role === 'admin' && (
                <a className="button button-small" href="/dashboard">
                  Ops dashboard
                </a>
              )}
              {session.via === 'session' && (
                <button
                  type="button"
                  className="button button-small"
                  onClick={async () => {
                    await api.signOut().catch(() => undefined);
                    props.onSignedOut?.();
                  }}
                >
                  Sign out
                </button>
              )}
            </div>
          )}
        </div>
        {session && (
          <nav className="tabs" aria-label="Connections">
            <Link to="/" aria-current={current('own')}>
              My Connections
            </Link>
            <Link to="/shared" aria-current={current('shared')}>
              Shared Connections
            </Link>
            <Link to="/internal" aria-current={current('internal')}>
              Internal Connections
            </Link>
            {session.role !== 'read_only' && (
              <Link to="/new" className="button button-primary tabs-new" aria-current={route?.page === 'new-connection' ? 'page' : undefined}>
                + New Connection
              </Link>
            )}
          </nav>
        )}
      </header>
      <div className="page">{props.children}</div>
    </>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
